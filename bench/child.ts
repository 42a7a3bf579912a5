import { missingFigure, type Figure, type SuiteOptions } from './lib/figures';
import { SUITES } from './suites';

/**
 * One bench suite in its own process (spawned by run.ts), so that memory figures (B6 RSS, B7 growth)
 * are not polluted by the other suites and a crash or a missing module costs only its own figures.
 * Sends each `{ figure }` as soon as it is measured, then `{ figures }`, to the parent over IPC.
 */

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const suite = SUITES[name];
  const options = JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Omit<SuiteOptions, 'log' | 'report'>;
  const log = (line: string): void => {
    process.stderr.write(`  [${name}] ${line}\n`);
  };
  let figures: Figure[];
  if (!suite) {
    figures = [];
    log(`unknown suite ${name}`);
  } else {
    try {
      const report = (figure: Figure): void => {
        process.send?.({ figure });
      };
      figures = await suite.run({ ...options, log, report });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A module another helper has not written yet shows up as "Cannot find module": report it as missing.
      const status = /Cannot find module|is not a function|is not exported/.test(message) ? 'missing' : 'error';
      log(`${status}: ${message}`);
      if (status === 'error' && err instanceof Error && err.stack) log(err.stack);
      figures = suite.ids.map((id) => missingFigure(id, `${status}: ${message.split('\n')[0]}`, status));
    }
    for (const id of suite.ids) if (!figures.some((f) => f.id === id)) figures.push(missingFigure(id, 'not produced by the suite'));
  }
  await new Promise<void>((resolve) => (process.send ? process.send({ figures }, () => resolve()) : resolve()));
  process.exit(0);
}

void main();
