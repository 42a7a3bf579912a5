import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeOptions, parseConfig, type OptionDoc } from '../../../src/app/config';
import {
  configSectionOf,
  defaultCell,
  generateConfigDocs,
  renderConfigSample,
  renderConfigTable,
  replaceConfigSection,
  TABLE_MARKER,
} from '../../../scripts/gen-config-docs';
import { readProjectFile } from './deploy-files';

const STALE = 'is out of date: run `npm run config:docs`';
const options = describeOptions();

interface SampleEntry {
  path: string;
  env: string;
  commented: boolean;
  value: string;
}

/** config.yml.sample as (comment line, option line) pairs under `section:` headers. */
function sampleEntries(text: string): SampleEntry[] {
  const out: SampleEntry[] = [];
  const lines = text.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const header = /^([a-z_]+):\s*$/.exec(lines[i]);
    if (header) section = header[1];
    const comment = /^ {2}# .*\[env ([A-Z0-9_]+)[^\]]*\]$/.exec(lines[i]);
    if (!comment) continue;
    const option = /^ {2}(# )?([a-z0-9_]+): (.*)$/.exec(lines[i + 1] ?? '');
    if (!option) throw new Error(`config.yml.sample: no option line after "${lines[i]}"`);
    out.push({ path: `${section}.${option[2]}`, env: comment[1], commented: option[1] !== undefined, value: option[3] });
    i++;
  }
  return out;
}

/** README table rows keyed by env variable: [env, path, default, description]. */
function tableRows(section: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\| `([A-Z0-9_]+)` \| `([a-z0-9_.]+)` \| (.*?) \| (.*) \|$/.exec(line);
    if (m) rows.set(m[1], [m[1], m[2], m[3], m[4]]);
  }
  return rows;
}

describe('config.yml.sample', () => {
  const sample = readProjectFile('config.yml.sample');
  const entries = sampleEntries(sample);
  const byPath = new Map(entries.map((e) => [e.path, e]));

  it('has every option of the schema, and nothing else', () => {
    expect(options.filter((o) => !byPath.has(o.path)).map((o) => `${o.path} missing ${STALE}`)).toEqual([]);
    const known = new Set(options.map((o) => o.path));
    expect(entries.filter((e) => !known.has(e.path)).map((e) => `${e.path} unknown ${STALE}`)).toEqual([]);
  });

  it('names the environment variable of each option', () => {
    for (const o of options) expect({ path: o.path, env: byPath.get(o.path)?.env }).toEqual({ path: o.path, env: o.env });
  });

  it('writes each default as the schema has it; options without a default are commented out', () => {
    for (const o of options) {
      const entry = byPath.get(o.path)!;
      expect({ path: o.path, commented: entry.commented }).toEqual({ path: o.path, commented: o.default === undefined });
      if (o.default !== undefined) {
        const written: unknown = (parseYaml(`v: ${entry.value}`) as { v: unknown }).v;
        expect({ path: o.path, default: written }).toEqual({ path: o.path, default: o.default });
      }
    }
  });

  it('loads to exactly the default configuration', () => {
    expect(parseConfig(parseYaml(sample))).toEqual(parseConfig({}));
  });

  it(`is what the generator renders (otherwise it ${STALE})`, () => {
    expect(sample).toBe(renderConfigSample());
  });
});

describe('README configuration table', () => {
  const section = configSectionOf(readProjectFile('README.md'));

  it('sits under its marker', () => {
    expect(section).toBeDefined();
  });

  it('has one row per option, with its config path and default', () => {
    const rows = tableRows(section ?? '');
    for (const o of options) {
      const row = rows.get(o.env);
      expect({ env: o.env, row: row?.slice(1, 3) }).toEqual({ env: o.env, row: [o.path, defaultCell(o)] });
    }
    const known = new Set(options.map((o) => o.env));
    expect([...rows.keys()].filter((env) => !known.has(env))).toEqual([]);
  });

  it(`is what the generator renders (otherwise it ${STALE})`, () => {
    expect((section ?? '').trim()).toBe(renderConfigTable().trim());
  });
});

describe('config docs generator', () => {
  const extra: OptionDoc = {
    path: 'newsection.retry_budget',
    env: 'NEWSECTION_RETRY_BUDGET',
    default: 7,
    description: 'An option added after the docs were written',
    secret: false,
  };
  const README = ['# Title', '', '<!-- section:daemon -->', 'daemon text', '', `${TABLE_MARKER} (generated) -->`, 'old table', '', '<!-- section:scheduling -->', 'scheduling text', ''].join('\n');

  it('renders an option added to the schema into both documents', () => {
    const withExtra = [...options, extra];
    expect(renderConfigSample(withExtra)).toContain('newsection:\n  # An option added after the docs were written. [env NEWSECTION_RETRY_BUDGET]\n  retry_budget: 7\n');
    expect(renderConfigTable(withExtra)).toContain('| `NEWSECTION_RETRY_BUDGET` | `newsection.retry_budget` | `7` |');
  });

  it('replaces only the text between the config-table marker and the next marker, keeping both', () => {
    const out = replaceConfigSection(README, 'NEW TABLE');
    expect(out).toBe(['# Title', '', '<!-- section:daemon -->', 'daemon text', '', `${TABLE_MARKER} (generated) -->`, 'NEW TABLE', '', '<!-- section:scheduling -->', 'scheduling text', ''].join('\n'));
    expect(replaceConfigSection(out, 'NEW TABLE')).toBe(out);
  });

  it('refuses a README without the marker', () => {
    expect(() => replaceConfigSection('# no markers\n', 'x')).toThrow(/section:config-table/);
  });

  it('reports stale files with --check, rewrites them otherwise, and is then up to date', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-docs-'));
    try {
      writeFileSync(join(dir, 'README.md'), README);
      writeFileSync(join(dir, 'config.yml.sample'), 'opencti:\n  url: stale\n');
      expect(generateConfigDocs({ dir, check: true }).map((s) => s.upToDate)).toEqual([false, false]);
      expect(readFileSync(join(dir, 'config.yml.sample'), 'utf8')).toBe('opencti:\n  url: stale\n');

      generateConfigDocs({ dir });
      expect(readFileSync(join(dir, 'config.yml.sample'), 'utf8')).toBe(renderConfigSample());
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(configSectionOf(readme)?.trim()).toBe(renderConfigTable().trim());
      expect(readme).toContain('daemon text');
      expect(readme).toContain('<!-- section:scheduling -->\nscheduling text');
      expect(generateConfigDocs({ dir, check: true }).every((s) => s.upToDate)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
