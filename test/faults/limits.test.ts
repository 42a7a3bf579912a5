import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ConsumeMessage } from 'amqplib';
import { createLogger } from '../../src/app/logger';
import { describeWithBroker } from '../support/env';
import { createHarness, type Harness } from '../support/fake-opencti/harness';
import { recordFigures } from './fault-results';

/**
 * The three `limits.*` options, each enforced end to end through the running daemon (real broker,
 * fake platform) with a clear, coded error: a message over limits.max_message_bytes and a container
 * over limits.max_techniques are dead-lettered as LIMIT_EXCEEDED naming the option; a rule file over
 * limits.max_rule_file_bytes is skipped with a logged reason and credits nothing.
 */

const header = (m: ConsumeMessage, name: string): string => String((m.properties.headers ?? {})[name]);
const enforced: Record<string, { code: string; reason: string }> = {};

describeWithBroker('limits, end to end', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });
  afterAll(() => recordFigures('limits', enforced));

  it('dead-letters a message over limits.max_message_bytes and still processes one under it', async () => {
    const limit = 4096;
    const small = h.reportCoverage(['T1059']).coverage;
    const big = h.reportCoverage(['T1059']).coverage;
    await h.start({ config: { limits: { max_message_bytes: limit } } });
    const okWork = await h.fake.publishEnrichment(h.connectorId, small);
    const { body } = h.fake.enrichmentMessage(h.connectorId, big);
    (body.event as Record<string, unknown>).padding = 'x'.repeat(limit);
    const text = JSON.stringify(body);
    expect(Buffer.byteLength(text)).toBeGreaterThan(limit);
    await h.fake.publishRaw(h.connectorId, text, 'too-big');
    const [dead] = await h.takeMessages(h.dlq, 1);
    expect(dead.properties.messageId).toBe('too-big');
    expect(header(dead, 'x-error-code')).toBe('LIMIT_EXCEEDED');
    expect(header(dead, 'x-error-reason')).toMatch(new RegExp(`message of \\d+ bytes exceeds LIMITS_MAX_MESSAGE_BYTES \\(${limit}\\)`));
    await h.fake.until(() => h.fake.state.works.get(okWork)?.status === 'complete', 15000, 'the small message');
    enforced.max_message_bytes = { code: header(dead, 'x-error-code'), reason: header(dead, 'x-error-reason') };
  });

  it('dead-letters a container over limits.max_techniques, from the bundle and from the GraphQL fallback, and closes the work in error', async () => {
    const over = h.reportCoverage(['T1001', 'T1002', 'T1003', 'T1004']).coverage;
    const overPaged = h.reportCoverage(['T1005', 'T1006', 'T1007', 'T1008']).coverage;
    const within = h.reportCoverage(['T1010', 'T1011', 'T1012']).coverage;
    await h.start({ config: { limits: { max_techniques: 3 } } });
    const overWork = await h.fake.publishEnrichment(h.connectorId, over);
    const pagedWork = await h.fake.publishEnrichment(h.connectorId, overPaged, { withObjects: false });
    const okWork = await h.fake.publishEnrichment(h.connectorId, within);
    const dead = await h.takeMessages(h.dlq, 2);
    for (const m of dead) {
      expect(header(m, 'x-error-code')).toBe('LIMIT_EXCEEDED');
      expect(header(m, 'x-error-reason')).toMatch(/4 techniques, more than the limit of 3 \(limits.max_techniques\)/);
    }
    expect(new Set(dead.map((m) => header(m, 'x-work-id')))).toEqual(new Set([overWork, pagedWork]));
    for (const id of [overWork, pagedWork]) {
      expect(h.fake.state.works.get(id)?.processedCalls).toEqual([{ message: expect.stringContaining('LIMIT_EXCEEDED'), inError: true }]);
    }
    await h.fake.until(() => h.fake.state.works.get(okWork)?.status === 'complete', 15000, 'the container within the limit');
    enforced.max_techniques = { code: header(dead[0], 'x-error-code'), reason: header(dead[0], 'x-error-reason') };
  });

  it('skips a rule file over limits.max_rule_file_bytes with a logged reason, and credits nothing from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coverage-limits-'));
    const rule = (id: string, technique: string, padding = ''): string =>
      `title: Rule ${technique}\nid: ${id}\ntags:\n  - attack.${technique.toLowerCase()}\nlogsource:\n  product: windows\n  category: process_creation\n` +
      `detection:\n  selection:\n    Image|endswith: '\\\\x.exe'\n  condition: selection\nlevel: high\n${padding ? `description: ${padding}\n` : ''}`;
    writeFileSync(join(dir, 'small.yml'), rule('0f4b2a8e-0000-4000-8000-000000000101', 'T1059'));
    writeFileSync(join(dir, 'big.yml'), rule('0f4b2a8e-0000-4000-8000-000000000102', 'T1003', 'x'.repeat(4096)));
    const lines: string[] = [];
    const stream = new Writable({
      write(c, _e, done) {
        lines.push(...c.toString().split('\n').filter(Boolean));
        done();
      },
    });
    try {
      const { coverage, patterns } = h.reportCoverage(['T1059', 'T1003']);
      await h.start({ config: { coverage: { rules_dirs: [dir] }, limits: { max_rule_file_bytes: 2048 } }, assessor: null, daemon: { log: createLogger('warn', stream) } });
      const skipped = lines.map((l) => JSON.parse(l) as { msg: string; path?: string; reason?: string }).find((l) => l.msg === 'evidence file skipped');
      expect(skipped).toMatchObject({ path: expect.stringContaining('big.yml'), reason: expect.stringMatching(/file too large: \d+ bytes, limit 2048/) });

      const workId = await h.fake.publishEnrichment(h.connectorId, coverage);
      await h.fake.until(() => h.fake.state.works.get(workId)?.status === 'complete', 15000, 'the work');
      const objects = h.fake.state.pushes.filter((p) => p.workId === workId).flatMap((p) => p.objects);
      const detectionOf = (patternId: string): number => {
        const rel = objects.find((o) => o.relationship_type === 'has-covered' && o.target_ref === patternId) as { coverage?: Array<{ name: string; score: number }> } | undefined;
        return rel?.coverage?.find((s) => s.name === 'DETECTION')?.score ?? 0;
      };
      const [t1059, t1003] = patterns;
      expect(detectionOf(t1059.standardId)).toBeGreaterThan(0);
      expect(detectionOf(t1003.standardId)).toBe(0);
      enforced.max_rule_file_bytes = { code: 'LoadIssue (evidence file skipped, warn log)', reason: skipped?.reason ?? '' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
