import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng, type Rng } from './prng';
import { generateTechniques, type TechniqueCatalogue } from './generate-evidence';

/**
 * Rule files on disk in the three real formats (shapes of /work/shared/samples: SigmaHQ YAML,
 * elastic/detection-rules TOML with [[rule.threat]] tables, splunk/security_content YAML), spread over
 * nested folders like the upstream repositories. Deterministic from the seed.
 */

const LOREM =
  'Adversaries may abuse this behaviour to execute code, persist or move laterally. Review the parent process, the command line and the user; ' +
  'correlate with network activity of the host around the alert time and with other alerts on the same entity. ';

const SIGMA_LOGSOURCES = [
  ['windows', 'process_creation'], ['windows', 'registry_set'], ['windows', 'file_event'], ['linux', 'process_creation'],
  ['macos', 'process_creation'], ['windows', 'network_connection'], ['windows', 'image_load'],
] as const;

function tacticOf(rng: Rng): { id: string; name: string } {
  return rng.pick([
    { id: 'TA0002', name: 'Execution' }, { id: 'TA0003', name: 'Persistence' }, { id: 'TA0005', name: 'Defense Evasion' },
    { id: 'TA0006', name: 'Credential Access' }, { id: 'TA0008', name: 'Lateral Movement' }, { id: 'TA0011', name: 'Command and Control' },
  ]);
}

function sigmaRule(rng: Rng, i: number, techniques: string[]): string {
  const [product, category] = rng.pick(SIGMA_LOGSOURCES);
  const tags = [`attack.${tacticOf(rng).name.toLowerCase().replace(/ /g, '-')}`, ...techniques.map((t) => `attack.${t.toLowerCase()}`)];
  return [
    `title: Bench Sigma Rule ${i}`,
    `id: ${rng.uuid()}`,
    `status: ${rng.pick(['stable', 'test', 'test', 'experimental'])}`,
    `description: Detects suspicious activity number ${i}. ${LOREM}`,
    'references:',
    `    - https://example.org/research/${i}`,
    'author: bench generator',
    'date: 2024-03-01',
    'modified: 2025-10-17',
    'tags:',
    ...tags.map((t) => `    - ${t}`),
    'logsource:',
    `    product: ${product}`,
    `    category: ${category}`,
    'detection:',
    '    selection_img:',
    `        Image|endswith: '\\bench${i}.exe'`,
    '    selection_cli:',
    '        CommandLine|contains:',
    `            - ' -enc ${i}'`,
    "            - ' -nop '",
    '    condition: all of selection_*',
    'falsepositives:',
    '    - Administrative scripts',
    `level: ${rng.pick(['low', 'medium', 'high', 'critical'])}`,
    '',
  ].join('\n');
}

function elasticRule(rng: Rng, i: number, techniques: string[]): string {
  const threat: string[] = [];
  for (const t of techniques) {
    const tactic = tacticOf(rng);
    const parent = t.split('.')[0];
    threat.push('[[rule.threat]]', 'framework = "MITRE ATT&CK"', '[[rule.threat.technique]]', `id = "${parent}"`, `name = "Technique ${parent}"`,
      `reference = "https://attack.mitre.org/techniques/${parent}/"`);
    if (t.includes('.')) {
      threat.push('[[rule.threat.technique.subtechnique]]', `id = "${t}"`, `name = "Sub-technique ${t}"`,
        `reference = "https://attack.mitre.org/techniques/${t.replace('.', '/')}/"`);
    }
    threat.push('', '[rule.threat.tactic]', `id = "${tactic.id}"`, `name = "${tactic.name}"`, `reference = "https://attack.mitre.org/tactics/${tactic.id}/"`, '');
  }
  return [
    '[metadata]',
    'creation_date = "2024/03/01"',
    `integration = ["endpoint"]`,
    `maturity = "${rng.pick(['production', 'production', 'development'])}"`,
    'updated_date = "2025/10/17"',
    '',
    '[rule]',
    'author = ["Elastic"]',
    `description = """\nIdentifies suspicious activity number ${i}.\n"""`,
    'from = "now-9m"',
    'index = ["logs-endpoint.events.process-*", "logs-windows.sysmon_operational-*"]',
    'language = "eql"',
    'license = "Elastic License v2"',
    `name = "Bench Elastic Rule ${i}"`,
    `note = """## Triage and analysis\n\n${LOREM.repeat(4)}\n"""`,
    `risk_score = ${rng.int(21, 99)}`,
    `rule_id = "${rng.uuid()}"`,
    `severity = "${rng.pick(['low', 'medium', 'high', 'critical'])}"`,
    'tags = ["Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection", "Resources: Investigation Guide"]',
    'timestamp_override = "event.ingested"',
    'type = "eql"',
    '',
    "query = '''",
    `process where host.os.type == "windows" and event.type == "start" and process.name : "bench${i}.exe"`,
    "'''",
    '',
    '',
    ...threat,
  ].join('\n');
}

function splunkRule(rng: Rng, i: number, techniques: string[]): string {
  return [
    `name: Bench Splunk Detection ${i}`,
    `id: ${rng.uuid()}`,
    'version: 4',
    "date: '2025-10-17'",
    'author: bench generator',
    `status: ${rng.pick(['production', 'production', 'experimental'])}`,
    'type: TTP',
    `description: Detects suspicious activity number ${i}. ${LOREM}`,
    'data_source:',
    '- Sysmon EventID 1',
    '- Windows Event Log Security 4688',
    `search: '| tstats count from datamodel=Endpoint.Processes where Processes.process_name=bench${i}.exe by Processes.dest | \`bench_${i}_filter\`'`,
    'how_to_implement: Ingest process execution events with the Endpoint data model.',
    'known_false_positives: Administrators may run this tool.',
    'references: []',
    'tags:',
    '  analytic_story:',
    '  - Bench Story',
    '  asset_type: Endpoint',
    '  mitre_attack_id:',
    ...techniques.map((t) => `  - ${t}`),
    '  product:',
    '  - Splunk Enterprise',
    `  risk_score: ${rng.int(10, 90)}`,
    '  security_domain: endpoint',
    '',
  ].join('\n');
}

export interface RuleFilesResult {
  files: number;
  bytes: number;
  perFormat: Record<'sigma' | 'elastic' | 'splunk', number>;
}

/** Writes `count` rule files (one third per format) under `root`/{sigma,elastic,splunk}/<group>/. */
export async function writeRuleFiles(root: string, seed: number, count: number, catalogue: TechniqueCatalogue = generateTechniques(seed)): Promise<RuleFilesResult> {
  const rng = createRng(seed);
  const perFormat = { sigma: 0, elastic: 0, splunk: 0 };
  let bytes = 0;
  const made = new Set<string>();
  const writes: Array<Promise<void>> = [];
  for (let i = 0; i < count; i += 1) {
    const format = (['sigma', 'elastic', 'splunk'] as const)[i % 3];
    const techniques = [...new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(catalogue.ids)))];
    const dir = join(root, format, `group-${Math.floor(i / 150)}`);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    const text = format === 'sigma' ? sigmaRule(rng, i, techniques) : format === 'elastic' ? elasticRule(rng, i, techniques) : splunkRule(rng, i, techniques);
    const file = join(dir, `bench_rule_${i}.${format === 'elastic' ? 'toml' : 'yml'}`);
    bytes += Buffer.byteLength(text);
    perFormat[format] += 1;
    writes.push(writeFile(file, text));
    if (writes.length >= 200) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
  return { files: count, bytes, perFormat };
}
