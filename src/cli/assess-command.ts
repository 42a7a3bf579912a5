import { Option, type Command } from 'commander';
import { Duration } from 'luxon';
import { KNOWN_PLATFORMS, normalisePlatform, normalisePlatforms } from '../domain/coverage/platforms';
import { checkPeriod } from '../domain/schedule/period';
import { AssessInputError, runAssess } from '../app/assess/assess';
import { assessJson, DEFAULT_WIDTH, formatAssessReport } from '../app/assess/assess-report';
import { addLiveAssessOptions, runLiveAssess, type LiveAssessFlags } from './assess-live';
import { evidenceFromRuleSources } from '../app/rule-sources';
import { baselineDiffOf, baselineJson, formatBaselineDiff, regressionFailureLine, REGRESSION_EXIT_CODE } from '../app/assess/baseline';

/**
 * `assess <bundle.json>`: scores a STIX report offline with the embedded engine and prints the
 * table, overall scores, top gaps and warnings (docs/scoring.md). Exit code 2, with one line, when
 * the run could not mean anything (unusable bundle, container without attack patterns, missing
 * --rules path, no rule loaded, bad option value); bad evidence files are warnings and the run goes on.
 */

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Terminal width when stdout is a terminal; otherwise output fits DEFAULT_WIDTH. */
  columns?: number;
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  get columns() {
    return process.stdout.isTTY ? process.stdout.columns : undefined;
  },
};

const TECHNIQUE_LIST = /^T\d{4}(\.\d{3})?(,T\d{4}(\.\d{3})?)*$/i;

/** `--platforms windows,linux` → normalised list, or the problem (an unknown name is a typo, not a platform). */
export function platformList(value: string): string[] | string {
  const names = value.split(',').map((p) => p.trim()).filter(Boolean);
  const platforms = normalisePlatforms(names);
  const unknown = names.filter((n) => !KNOWN_PLATFORMS.includes(normalisePlatform(n) as string));
  if (platforms.length === 0) return `--platforms ${value}: expected platform names such as windows,linux`;
  if (unknown.length > 0) return `--platforms ${value}: unknown platform ${unknown.join(', ')} (known: ${KNOWN_PLATFORMS.join(', ')})`;
  return platforms;
}

/** An ISO-8601 duration of at least a day, in days, or the problem. */
export function windowDaysOf(value: string): number | string {
  const checked = checkPeriod(value, { min: Duration.fromObject({ days: 1 }) });
  return checked.ok ? checked.period.as('days') : `${checked.reason}; expected e.g. P6M, P1Y, P2Y`;
}

/** An absolute http(s) URL, or the reason it is not one. */
export function httpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not an absolute URL';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `a ${url.protocol.replace(':', '')} URL, expected http or https`;
}

interface AssessFlags {
  rules?: string[];
  rulesFrom?: string[];
  container?: string;
  allowEmpty?: boolean;
  explain?: boolean | string;
  width?: string;
  controls?: string;
  dataSources?: string;
  validation?: string;
  layers?: string[];
  attackCatalogue?: string;
  priorities?: string;
  outBundle?: string;
  outLayer?: string;
  outHtml?: string;
  outPreventionLayer?: string;
  json?: boolean;
  rollup: boolean;
  aggregate?: 'mean' | 'min' | 'max';
  externalUri?: string;
  now?: string;
  platforms?: string;
  prevalenceBundle?: string;
  prevalenceWindow?: string;
  baseline?: string;
  failOnRegression?: boolean | string;
}

export function registerAssessCommand(program: Command, io: CliIo = processIo): void {
  // Live mode (src/cli/assess-live.ts): `assess --coverage <id> --dry-run`; the bundle argument and
  // --rules are then not used, so both are checked in the action instead.
  const command = program.command('assess');
  addLiveAssessOptions(command);
  command
    .description('Assess the ATT&CK techniques of a STIX bundle (report, grouping, campaign…) with the embedded engine')
    .argument('[bundle]', 'STIX 2.x bundle file (JSON) holding the container and its attack patterns')
    .option('--rules <dir...>', 'directories of Sigma / Elastic / Splunk rules (required without --coverage or --allow-empty)')
    .addOption(new Option('--rules-from <siem...>', 'also read the rules a SIEM runs (enabled state, failing runs), with the daemon\'s settings (ELASTIC_SECURITY_*, SPLUNK_*, SENTINEL_*, WAZUH_*)').choices(['kibana', 'splunk', 'sentinel', 'wazuh']))
    .option('--container <id>', 'the container to assess when the bundle holds several (id or exact name)')
    .option('--allow-empty', 'run even when no detection rule is loaded (prevention or imported scores only)')
    .option('--explain [techniques]', 'print every reason, rule and control; optionally only for these techniques (T1059,T1003.001)')
    .option('--width <columns>', `fit the output to this many columns (default: the terminal's width, ${DEFAULT_WIDTH} when piped; 0 = no limit)`)
    .option('--controls <file>', 'prevention-control inventory (YAML)')
    .option('--data-sources <file>', 'data-source inventory (YAML)')
    .option('--validation <file>', 'emulation results (YAML/JSON/CSV)')
    .option('--layers <file...>', 'imported ATT&CK Navigator layers / DeTT&CT files')
    .option('--attack-catalogue <file>', 'compact ATT&CK catalogue written by `attack import`')
    .option('--priorities <file>', 'overrides of the gap prevalence / impact tables (YAML)')
    .option('--out-bundle <file>', 'write the STIX result bundle (what the daemon pushes) to this file')
    .option('--out-layer <file>', 'write the DETECTION Navigator 4.5 layer to this file')
    .option('--out-html <file>', 'write the coverage report page (self-contained HTML: scores, heat strip, gaps, why per technique)')
    .option('--out-prevention-layer <file>', 'write the PREVENTION Navigator 4.5 layer to this file')
    .option('--json', 'print machine-readable JSON instead of the table')
    .option('--no-rollup', 'do not credit parent techniques with their sub-techniques\' rules')
    .addOption(new Option('--aggregate <how>', 'technique scores → container score').choices(['mean', 'min', 'max']))
    .option('--platforms <list>', `platforms to assess for, comma-separated (${KNOWN_PLATFORMS.slice(0, 4).join(', ')}…): rules and controls count on the platforms they run on, techniques ATT&CK lists for none of them are not applicable (replaces the coverage's platforms_affinity)`)
    .option('--prevalence-bundle <file>', 'rank gaps by how many intrusion sets, campaigns and reports of this STIX bundle use each technique (e.g. enterprise-attack-18.1.json.gz)')
    .option('--prevalence-window <duration>', 'uses dated within this ISO-8601 duration weigh fully, older ones less (default P1Y)')
    .option('--external-uri <url>', 'link written on the result (external_uri)')
    .option('--baseline <file>', 'compare with an earlier run: its `assess --json` output or `--out-bundle` result bundle (per-technique diff with causes; docs/history.md)')
    .option('--fail-on-regression [points]', `with --baseline: exit code ${REGRESSION_EXIT_CODE} when a score dropped by at least this many points (default 10)`)
    .addOption(new Option('--now <iso>', 'run time (reproducible output)').hideHelp())
    .action(async (bundleArg: string | undefined, flags: AssessFlags & LiveAssessFlags) => {
      if (flags.coverage) return runLiveAssess(flags, io);
      const usage = (message: string): void => {
        io.stderr(`error: ${message}\n`);
        process.exitCode = 2;
      };
      // `--explain report.json` (option before the argument) takes the file as its value: give it back.
      let bundleFile = bundleArg;
      let explain: boolean | string[] | undefined = flags.explain === true ? true : undefined;
      if (typeof flags.explain === 'string') {
        if (TECHNIQUE_LIST.test(flags.explain)) explain = flags.explain.split(',');
        else if (!bundleFile) [bundleFile, explain] = [flags.explain, true];
        else return usage(`--explain ${flags.explain}: expected technique ids such as T1059 or T1059.001,T1003`);
      }
      if (!bundleFile) return usage("missing the bundle file: assess <bundle.json> --rules <dir> (or --coverage <id> --dry-run for a live coverage)");
      if (!flags.rules && !flags.rulesFrom && !flags.allowEmpty) return usage('no --rules <dir> given: point it at your Sigma / Elastic / Splunk rules (or pass --allow-empty)');
      const now = flags.now ? new Date(flags.now) : undefined;
      if (now && Number.isNaN(now.getTime())) return usage(`--now ${flags.now} is not a date`);
      const uriProblem = flags.externalUri !== undefined ? httpUrlProblem(flags.externalUri) : undefined;
      if (uriProblem) return usage(`--external-uri ${flags.externalUri}: ${uriProblem} (e.g. https://assessor.example.org/runs/42)`);
      const width = flags.width === undefined ? (io.columns ?? DEFAULT_WIDTH) : Number(flags.width);
      const platforms = flags.platforms !== undefined ? platformList(flags.platforms) : undefined;
      if (typeof platforms === 'string') return usage(platforms);
      const windowDays = flags.prevalenceWindow !== undefined ? windowDaysOf(flags.prevalenceWindow) : undefined;
      if (typeof windowDays === 'string') return usage(`--prevalence-window ${flags.prevalenceWindow}: ${windowDays}`);
      if (windowDays !== undefined && !flags.prevalenceBundle) return usage('--prevalence-window needs --prevalence-bundle <file>');
      if (!Number.isInteger(width) || width < 0) return usage(`--width ${flags.width}: expected a number of columns (0 = no limit)`);
      if (flags.failOnRegression !== undefined && !flags.baseline) return usage('--fail-on-regression needs --baseline <file> (the --json output or --out-bundle of an earlier assess run)');
      try {
        const run = await runAssess({
          bundleFile,
          rulesDirs: flags.rules ?? [],
          ...(flags.container ? { container: flags.container } : {}),
          ...(flags.allowEmpty ? { allowEmpty: true } : {}),
          ...(flags.controls ? { controlsFile: flags.controls } : {}),
          ...(flags.dataSources ? { dataSourcesFile: flags.dataSources } : {}),
          ...(flags.validation ? { validationFile: flags.validation } : {}),
          ...(flags.layers ? { layers: flags.layers } : {}),
          ...(flags.attackCatalogue ? { attackCatalogue: flags.attackCatalogue } : {}),
          ...(flags.priorities ? { prioritiesFile: flags.priorities } : {}),
          ...(flags.outBundle ? { outBundle: flags.outBundle } : {}),
          ...(flags.outLayer ? { outLayer: flags.outLayer } : {}),
          ...(flags.outHtml ? { outHtml: flags.outHtml } : {}),
          ...(flags.outPreventionLayer ? { outPreventionLayer: flags.outPreventionLayer } : {}),
          ...(flags.aggregate ? { aggregate: flags.aggregate } : {}),
          ...(flags.externalUri ? { externalUri: flags.externalUri } : {}),
          ...(now ? { now } : {}),
          rollupSubtechniques: flags.rollup,
          ...(platforms ? { platforms } : {}),
          ...(flags.prevalenceBundle ? { prevalenceBundle: flags.prevalenceBundle } : {}),
          ...(windowDays !== undefined ? { prevalenceWindowDays: windowDays } : {}),
        }, flags.rulesFrom ? { loadEvidence: evidenceFromRuleSources(flags.rulesFrom) } : {});
        const diff = flags.baseline ? await baselineDiffOf(run, flags.baseline, flags.failOnRegression) : undefined;
        io.stdout(
          flags.json
            ? `${JSON.stringify(diff ? { ...(assessJson(run) as object), baseline: baselineJson(diff) } : assessJson(run), null, 2)}\n`
            : formatAssessReport(run, { width, ...(explain ? { explain } : {}) }) + (diff ? `\n${formatBaselineDiff(diff)}` : ''),
        );
        if (diff && flags.failOnRegression !== undefined && diff.changes.regressions.length > 0) {
          io.stderr(regressionFailureLine(diff));
          process.exitCode = REGRESSION_EXIT_CODE;
        }
      } catch (err) {
        if (!(err instanceof AssessInputError)) throw err;
        io.stderr(`error: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
