import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../src/app/config';
import { startLiveEvidence, type LiveEvidence } from '../../../src/app/embedded-setup';
import { createLogger } from '../../../src/app/logger';
import type { CoverageRequest } from '../../../src/domain/coverage/coverage-types';

const sigma = (id: string, technique: string): string =>
  `title: Rule ${id}\nid: ${id}\nstatus: stable\ntags: [attack.${technique}]\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {a: 1}, condition: sel}\nlevel: high\n`;

const request: CoverageRequest = {
  coverageId: 'security-coverage--00000000-0000-4000-8000-000000000001',
  coverageName: 'Live evidence',
  coveredRef: 'report--00000000-0000-4000-8000-000000000002',
  techniques: [{ techniqueId: 'T1059' }, { techniqueId: 'T1003' }],
  unmatched: [],
};

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('live evidence: reload on change without a restart', () => {
  let dir: string;
  let live: LiveEvidence | undefined;
  const lines: Array<{ msg: string; [k: string]: unknown }> = [];
  const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }) as never);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'live-evidence-'));
    mkdirSync(join(dir, 'rules', 'win'), { recursive: true });
    writeFileSync(join(dir, 'rules', 'win', 'a.yml'), sigma('a', 't1059'));
    lines.length = 0;
  });
  afterEach(async () => {
    await live?.close();
    live = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (watch = true) =>
    startLiveEvidence(parseConfig({ coverage: { rules_dirs: [join(dir, 'rules')], cache_file: join(dir, 'cache.json'), watch, watch_debounce_ms: 100 } }), log);

  it('picks up a new rule file, keeps a broken one at its previous version and says so', async () => {
    live = await start();
    await live.watching;
    const engine = live.createEmbedded(live.evidence);
    const tested = async () => (await engine.assess(request, { now: new Date('2026-03-01T00:00:00Z') } as never)).techniques.filter((t) => t.rules.length > 0).map((t) => t.techniqueId);
    expect(await tested()).toEqual(['T1059']);

    writeFileSync(join(dir, 'rules', 'win', 'b.yml'), sigma('b', 't1003'));
    await until(() => live!.reloads === 1);
    expect(await tested()).toEqual(['T1059', 'T1003']);

    writeFileSync(join(dir, 'rules', 'win', 'a.yml'), 'title: [half written');
    await until(() => live!.reloads === 2);
    expect(await tested()).toEqual(['T1059', 'T1003']);
    const warning = lines.find((l) => l.msg === 'evidence file skipped' && String(l.path).endsWith('a.yml'));
    expect(warning?.reason).toMatch(/^yaml: invalid at line 1: .*previous version of this rule is kept/);
    expect(lines.filter((l) => l.msg === 'evidence reloaded')).toHaveLength(2);
  });

  it('does not watch when coverage.watch is false; an explicit reload still works', async () => {
    live = await start(false);
    writeFileSync(join(dir, 'rules', 'win', 'b.yml'), sigma('b', 't1003'));
    await new Promise((r) => setTimeout(r, 400));
    expect(live.reloads).toBe(0);
    await live.reload();
    expect(live.evidence.rules.map((r) => r.id).sort()).toEqual(['a', 'b']);
  });

  it('watches a folder with symlink loops and links out of it without following them', async () => {
    mkdirSync(join(dir, 'outside'));
    symlinkSync('..', join(dir, 'rules', 'win', 'loop'));
    symlinkSync(join('..', 'outside'), join(dir, 'rules', 'escape'));
    live = await start();
    await live.watching;
    writeFileSync(join(dir, 'outside', 'x.yml'), sigma('x', 't1003'));
    writeFileSync(join(dir, 'rules', 'win', 'b.yml'), sigma('b', 't1003'));
    await until(() => live!.reloads >= 1);
    expect(live.evidence.rules.map((r) => r.id).sort()).toEqual(['a', 'b']);
  });
});
