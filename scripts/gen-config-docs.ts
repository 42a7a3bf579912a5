import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { describeOptions, ENV_ALIASES, type OptionDoc } from '../src/app/config';

/**
 * Regenerates config.yml.sample and the README configuration table from the zod schema
 * (schemas/config.ts, walked by describeOptions()), so the three cannot drift.
 *
 *   npm run config:docs            rewrite both files
 *   npm run config:docs -- --check exit 1 (and say which) when either is out of date
 *
 * test/unit/deploy/config-docs.test.ts fails when a committed file differs from what this renders.
 */

export const PROJECT_DIR = resolve(__dirname, '..');
export const SAMPLE_FILE = 'config.yml.sample';
export const README_FILE = 'README.md';
/** The table lives between this marker line (kept) and the next `<!-- section:` line. */
export const TABLE_MARKER = '<!-- section:config-table';
const NEXT_MARKER = '<!-- section:';

/** YAML text of one value, as config.yml would hold it (lists in flow style). */
export function yamlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => yamlValue(v)).join(', ')}]`;
  return stringify(value).trimEnd();
}

/** An example string (always a string in the schema meta) as the typed YAML value it stands for. */
function exampleValue(option: OptionDoc): string {
  const example = option.example ?? '';
  if (Array.isArray(option.default)) return yamlValue(example.split(',').map((s) => s.trim()).filter(Boolean));
  if (/^(true|false)$/.test(example) || /^-?\d+$/.test(example)) return example;
  return yamlValue(example);
}

function envNote(option: OptionDoc): string {
  const aliases = Object.entries(ENV_ALIASES).filter(([, path]) => path === option.path).map(([alias]) => alias);
  const names = [option.env, ...aliases].join(' or ');
  return `env ${names}${option.secret ? ', secret' : ''}`;
}

/**
 * config.yml.sample: every option under its section, preceded by a one-line comment. Options with a
 * default are written with it (loading the sample gives exactly the defaults); options without one
 * are commented out with an example value.
 */
export function renderConfigSample(options: OptionDoc[] = describeOptions()): string {
  const lines: string[] = [
    '# Security Coverage connector: configuration file (copy to config.yml, or point CONFIG_FILE at it).',
    '# GENERATED from schemas/config.ts by `npm run config:docs`; do not edit by hand.',
    '# Every option shows its default; commented-out options have no default (the value is an example).',
    '# Environment variables override this file: SECTION_KEY <-> section.key (e.g. CONNECTOR_LOG_LEVEL).',
    '# `run` needs opencti.url, opencti.token and connector.id; prefer env variables for secrets.',
  ];
  let section: string | undefined;
  for (const option of options) {
    const dot = option.path.indexOf('.');
    const head = option.path.slice(0, dot);
    const key = option.path.slice(dot + 1);
    if (head !== section) {
      section = head;
      lines.push('', `${head}:`);
    }
    lines.push(`  # ${sentence(option.description)} [${envNote(option)}]`);
    lines.push(option.default === undefined ? `  # ${key}: ${exampleValue(option)}` : `  ${key}: ${yamlValue(option.default)}`);
  }
  return `${lines.join('\n')}\n`;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The README cell of a default: `—` when there is none, lists comma-joined (as the env var takes them). */
export function defaultCell(option: OptionDoc): string {
  if (option.default === undefined) return '—';
  const text = Array.isArray(option.default) ? option.default.join(',') : String(option.default);
  return text === '' ? '(empty)' : `\`${cell(text)}\``;
}

/** The README table: one row per option, in schema order. */
export function renderConfigTable(options: OptionDoc[] = describeOptions()): string {
  const aliases = Object.entries(ENV_ALIASES)
    .map(([alias, path]) => `\`${alias}\` (= \`${options.find((o) => o.path === path)?.env ?? path}\`)`)
    .join(', ');
  const rows = options.map((o) => {
    const example = o.default === undefined && o.example ? ` Example: \`${cell(o.example)}\`.` : '';
    const secret = o.secret ? ' **Secret**: masked in logs and `config show`.' : '';
    return `| \`${o.env}\` | \`${o.path}\` | ${defaultCell(o)} | ${cell(sentence(o.description))}${example}${secret} |`;
  });
  return [
    '',
    '## Configuration reference',
    '',
    'Generated from `schemas/config.ts` by `npm run config:docs` (a unit test fails when it is stale).',
    'Each option is an environment variable or a `config.yml` key (sample: [`config.yml.sample`](config.yml.sample));',
    `env wins over the file, the file over the default. \`CONFIG_FILE\` names the file (default \`./config.yml\`). Short forms: ${aliases || 'none'}.`,
    'Lists are comma-separated in env variables. `coverage-connector config options` prints the same list; `config show` the effective values.',
    '',
    '| Env variable | config.yml | Default | Description |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** README with the text under the config-table marker replaced; the marker line and the next section stay. */
export function replaceConfigSection(readme: string, body: string): string {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith(TABLE_MARKER));
  if (start < 0) throw new Error(`${README_FILE}: marker line "${TABLE_MARKER} ... -->" not found`);
  let end = lines.findIndex((l, i) => i > start && l.startsWith(NEXT_MARKER));
  if (end < 0) end = lines.length;
  const bodyLines = body.replace(/\n+$/, '').split('\n');
  return [...lines.slice(0, start + 1), ...bodyLines, ...(end < lines.length ? [''] : []), ...lines.slice(end)].join('\n');
}

/** The text currently under the config-table marker (up to the next marker), for checks. */
export function configSectionOf(readme: string): string | undefined {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => l.startsWith(TABLE_MARKER));
  if (start < 0) return undefined;
  let end = lines.findIndex((l, i) => i > start && l.startsWith(NEXT_MARKER));
  if (end < 0) end = lines.length;
  return lines.slice(start + 1, end).join('\n');
}

export interface DocsStatus {
  file: string;
  upToDate: boolean;
}

/** Renders both documents; writes them unless `check`. Returns which were (or would be) changed. */
export function generateConfigDocs({ dir = PROJECT_DIR, check = false } = {}): DocsStatus[] {
  const options = describeOptions();
  const samplePath = resolve(dir, SAMPLE_FILE);
  const readmePath = resolve(dir, README_FILE);
  const sample = renderConfigSample(options);
  let currentSample = '';
  try {
    currentSample = readFileSync(samplePath, 'utf8');
  } catch {
    // absent: generated below (or reported as stale with --check)
  }
  const readme = readFileSync(readmePath, 'utf8');
  const nextReadme = replaceConfigSection(readme, renderConfigTable(options));
  const status: DocsStatus[] = [
    { file: SAMPLE_FILE, upToDate: currentSample === sample },
    { file: README_FILE, upToDate: readme === nextReadme },
  ];
  if (!check) {
    if (currentSample !== sample) writeFileSync(samplePath, sample, 'utf8');
    if (readme !== nextReadme) writeFileSync(readmePath, nextReadme, 'utf8');
  }
  return status;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  const status = generateConfigDocs({ check });
  for (const s of status) {
    const state = s.upToDate ? 'up to date' : check ? 'OUT OF DATE (run `npm run config:docs`)' : 'regenerated';
    process.stdout.write(`${s.file}: ${state}\n`);
  }
  if (check && status.some((s) => !s.upToDate)) process.exitCode = 1;
}
