import { Option, type Command } from 'commander';
import { AssessInputError, runAssess } from '../app/assess';
import { assessJson, formatAssessReport } from '../app/assess-report';
import { addLiveAssessOptions, runLiveAssess, type LiveAssessFlags } from './assess-live'; // live mode (OPERATOR)

/**
 * `assess <bundle.json>`: scores a STIX report offline with the embedded engine and prints the
 * table, overall scores, top gaps and warnings (docs/scoring.md). Exit code 2 when the bundle
 * cannot be used; bad evidence files are warnings and the run goes on.
 */

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

interface AssessFlags {
  rules: string[];
  controls?: string;
  dataSources?: string;
  validation?: string;
  layers?: string[];
  attackCatalogue?: string;
  priorities?: string;
  outBundle?: string;
  outLayer?: string;
  outPreventionLayer?: string;
  json?: boolean;
  rollup: boolean;
  aggregate?: 'mean' | 'min' | 'max';
  externalUri?: string;
  now?: string;
}

export function registerAssessCommand(program: Command, io: CliIo = processIo): void {
  // ── live mode (OPERATOR, src/cli/assess-live.ts): `assess --coverage <id> --dry-run`; the bundle
  // argument and --rules are then not used, so both are checked in the action instead ──
  const command = program.command('assess');
  addLiveAssessOptions(command);
  // ── end live mode ──
  command
    .description('Assess the ATT&CK techniques of a STIX bundle (report, grouping, campaign…) with the embedded engine')
    .argument('[bundle]', 'STIX 2.x bundle file (JSON) holding the container and its attack patterns')
    .option('--rules <dir...>', 'directories of Sigma / Elastic / Splunk rules (required without --coverage)')
    .option('--controls <file>', 'prevention-control inventory (YAML)')
    .option('--data-sources <file>', 'data-source inventory (YAML)')
    .option('--validation <file>', 'emulation results (YAML/JSON/CSV)')
    .option('--layers <file...>', 'imported ATT&CK Navigator layers / DeTT&CT files')
    .option('--attack-catalogue <file>', 'compact ATT&CK catalogue written by `attack import`')
    .option('--priorities <file>', 'overrides of the gap prevalence / impact tables (YAML)')
    .option('--out-bundle <file>', 'write the STIX result bundle (what the daemon pushes) to this file')
    .option('--out-layer <file>', 'write the DETECTION Navigator 4.5 layer to this file')
    .option('--out-prevention-layer <file>', 'write the PREVENTION Navigator 4.5 layer to this file')
    .option('--json', 'print machine-readable JSON instead of the table')
    .option('--no-rollup', 'do not credit parent techniques with their sub-techniques\' rules')
    .addOption(new Option('--aggregate <how>', 'technique scores → container score').choices(['mean', 'min', 'max']))
    .option('--external-uri <url>', 'link written on the result (external_uri)')
    .addOption(new Option('--now <iso>', 'run time (reproducible output)').hideHelp())
    .action(async (bundleFile: string | undefined, flags: AssessFlags & LiveAssessFlags) => {
      // ── live mode (OPERATOR) ──
      if (flags.coverage) return runLiveAssess(flags, io);
      if (!bundleFile) throw new Error("missing required argument 'bundle' (or --coverage <id> --dry-run for a live coverage)");
      if (!flags.rules) throw new Error("required option '--rules <dir...>' not specified");
      // ── end live mode ──
      const now = flags.now ? new Date(flags.now) : undefined;
      if (now && Number.isNaN(now.getTime())) {
        io.stderr(`error: --now ${flags.now} is not a date\n`);
        process.exitCode = 2;
        return;
      }
      try {
        const run = await runAssess({
          bundleFile,
          rulesDirs: flags.rules,
          ...(flags.controls ? { controlsFile: flags.controls } : {}),
          ...(flags.dataSources ? { dataSourcesFile: flags.dataSources } : {}),
          ...(flags.validation ? { validationFile: flags.validation } : {}),
          ...(flags.layers ? { layers: flags.layers } : {}),
          ...(flags.attackCatalogue ? { attackCatalogue: flags.attackCatalogue } : {}),
          ...(flags.priorities ? { prioritiesFile: flags.priorities } : {}),
          ...(flags.outBundle ? { outBundle: flags.outBundle } : {}),
          ...(flags.outLayer ? { outLayer: flags.outLayer } : {}),
          ...(flags.outPreventionLayer ? { outPreventionLayer: flags.outPreventionLayer } : {}),
          ...(flags.aggregate ? { aggregate: flags.aggregate } : {}),
          ...(flags.externalUri ? { externalUri: flags.externalUri } : {}),
          ...(now ? { now } : {}),
          rollupSubtechniques: flags.rollup,
        });
        io.stdout(flags.json ? `${JSON.stringify(assessJson(run), null, 2)}\n` : formatAssessReport(run));
      } catch (err) {
        if (!(err instanceof AssessInputError)) throw err;
        io.stderr(`error: ${err.message}\n`);
        process.exitCode = err.exitCode;
      }
    });
}
