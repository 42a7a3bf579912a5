import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEvidence } from '../../src/adapters/evidence';
import { figure, type Figure, type SuiteOptions } from '../lib/figures';
import { generateTechniques } from '../lib/generate-evidence';
import { writeRuleFiles } from '../lib/generate-rule-files';
import { memorySample, nowMs, round } from '../lib/measure';

/**
 * B5 — startup cost of the inventories: 6,000 generated rule files (one third each Sigma YAML,
 * Elastic TOML, Splunk YAML, in nested folders) read and parsed by the real loaders (`loadEvidence`,
 * as main.ts calls it). Files are written first (not timed); the OS cache is warm, as on a restart.
 */
export async function runB5(options: SuiteOptions): Promise<Figure[]> {
  const count = options.quick ? 1500 : 6000;
  const root = join(options.tmpDir, 'rules');
  const written = await writeRuleFiles(root, options.seed, count, generateTechniques(options.seed));
  try {
    const before = memorySample();
    const t = nowMs();
    const evidence = await loadEvidence({ rulesDirs: [join(root, 'sigma'), join(root, 'elastic'), join(root, 'splunk')] });
    const seconds = (nowMs() - t) / 1000;
    const after = memorySample();
    options.log(`B5: ${evidence.rules.length}/${count} rules in ${round(seconds, 2)} s, ${evidence.issues.length} issue(s)${evidence.issues[0] ? `, e.g. ${evidence.issues[0].path}: ${evidence.issues[0].reason}` : ''}`);
    return [
      figure(
        'B5',
        'seconds',
        {
          seconds: round(seconds, 2),
          files: count,
          rules_loaded: evidence.rules.length,
          issues: evidence.issues.length,
          mib_read: round(written.bytes / 1024 / 1024, 1),
          heap_delta_mb: round(after.heapUsedMb - before.heapUsedMb),
        },
        seconds <= 3 && evidence.rules.length === count,
        options.quick ? `quick run: ${count} files (the target is for 6,000)` : undefined,
      ),
    ];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
