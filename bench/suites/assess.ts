import { createEmbeddedAssessor } from '../../src/domain/scoring/embedded-engine';
import { figure, type Figure, type SuiteOptions } from '../lib/figures';
import { generateEvidence, generateRequest, generateTechniques } from '../lib/generate-evidence';
import { nowMs, percentile, round } from '../lib/measure';

/**
 * The embedded engine alone: one 600-technique container against ~6,000 generated rules. The
 * assessor (and its technique → rule index) is built once, as the daemon does; each `assess` call is
 * timed. The headline is the median of the timed calls after warm-up.
 */
export async function runAssess(options: SuiteOptions): Promise<Figure[]> {
  const catalogue = generateTechniques(options.seed);
  const evidence = generateEvidence(options.seed, 6000, catalogue);
  const request = generateRequest(options.seed + 11, 600, catalogue);
  let t = nowMs();
  const assessor = createEmbeddedAssessor(evidence, { aggregate: 'mean' });
  const buildMs = nowMs() - t;
  const now = new Date('2026-03-01T00:00:00Z');
  const warmup = options.quick ? 5 : 20;
  const runs = options.quick ? 20 : 100;
  let tested = 0;
  for (let i = 0; i < warmup; i += 1) await assessor.assess(request, { now });
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    t = nowMs();
    const result = await assessor.assess(request, { now });
    times.push(nowMs() - t);
    tested = result.techniques.filter((x) => x.tested).length;
  }
  const p50 = percentile(times, 50);
  options.log(`assess: ${request.techniques.length} techniques × ${evidence.rules.length} rules: p50 ${round(p50, 2)} ms, index built in ${round(buildMs)} ms`);
  return [
    figure(
      'assess',
      'p50_ms',
      {
        p50_ms: round(p50, 2),
        p99_ms: round(percentile(times, 99), 2),
        index_build_ms: round(buildMs, 1),
        techniques: request.techniques.length,
        rules: evidence.rules.length,
        techniques_tested: tested,
        runs,
      },
      p50 <= 20,
    ),
  ];
}
