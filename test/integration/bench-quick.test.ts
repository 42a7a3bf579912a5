import { spawn } from 'node:child_process';
import { describeWithBroker, PROJECT_DIR } from '../support/env';

/**
 * `npm run bench -- --quick --json` end to end (CI): it runs against the real broker and produces
 * every figure B1…B7 as numbers. Targets are NOT asserted here (timing depends on the machine); the
 * full run records them in bench/RESULTS.md.
 */

interface BenchFigure {
  id: string;
  status: string;
  headline: string;
  metrics: Record<string, number | null>;
  note?: string;
}

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', '--quick', '--json'], { cwd: PROJECT_DIR, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describeWithBroker('npm run bench -- --quick', () => {
  it('measures every figure B1 to B7 and prints them as JSON with the machine description', async () => {
    const { code, stdout, stderr } = await runQuickBench();
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { mode: string; machine: Record<string, unknown>; figures: BenchFigure[] };

    expect(report.mode).toBe('quick');
    expect(report.machine).toEqual(expect.objectContaining({ nproc: expect.any(Number), memoryGb: expect.any(Number), node: process.version, broker: expect.stringMatching(/RabbitMQ \d/) }));
    expect(report.figures.map((f) => f.id)).toEqual(['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'B7']);
    for (const f of report.figures) {
      expect({ id: f.id, status: f.status, note: f.status === 'ok' ? undefined : f.note }).toEqual({ id: f.id, status: 'ok', note: undefined });
      expect({ id: f.id, headline: f.metrics[f.headline] }).toEqual({ id: f.id, headline: expect.any(Number) });
      expect(Number.isFinite(f.metrics[f.headline])).toBe(true);
    }
    // Relative target: B2 is reported as a share of the B1 ceiling measured in the same run.
    expect(report.figures.find((f) => f.id === 'B2')?.metrics.pct_of_b1).toEqual(expect.any(Number));
  }, 170_000);
});
