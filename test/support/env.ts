import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `../shared` beside the project (CI always has it; a user's clone may not). */
export const SHARED_DIR = resolve(__dirname, '../../../shared');
export const hasShared = existsSync(SHARED_DIR);
export const sharedPath = (...parts: string[]): string => join(SHARED_DIR, ...parts);

/**
 * A describe that, when its precondition fails, registers one skipped test named after the reason,
 * prints the reason (jest's summary only counts skipped tests), and never runs the body (describe.skip
 * still executes the body, which would read the missing files). `.each` skips the same way.
 */
export function describeWhen(condition: boolean, reason: string): jest.Describe {
  if (condition) return describe;
  const skipped = (name: string | number | jest.FunctionLike) => {
    process.stderr.write(`[skipped] ${String(name)}: ${reason}\n`);
    describe(String(name), () => {
      it.skip(`skipped: ${reason}`, () => undefined);
    });
  };
  return Object.assign(skipped, describe, { each: () => skipped }) as unknown as jest.Describe;
}

/** it() when the precondition holds; otherwise it.skip with the reason printed. */
export function itWhen(condition: boolean, reason: string): jest.It {
  if (condition) return it;
  const skipped = (name: string) => {
    process.stderr.write(`[skipped] ${name}: ${reason}\n`);
    it.skip(`${name} (skipped: ${reason})`, () => undefined);
  };
  return Object.assign(skipped, it) as unknown as jest.It;
}

/** describe() when ../shared exists; otherwise one skipped test and the body is not run. */
export const describeWithShared = describeWhen(hasShared, '../shared is absent');

export const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
/** Set by test/support/global-setup.js after probing the broker. */
export const brokerAvailable = process.env.BROKER_AVAILABLE === '1';
/** describe() when the broker answers; with REQUIRE_BROKER=1 a missing broker already failed the run. */
export const describeWithBroker = describeWhen(brokerAvailable, `no RabbitMQ at AMQP_URL`);

export const PROJECT_DIR = resolve(__dirname, '../..');

/** Preload for a child process running the TypeScript sources: `node -r TS_REGISTER src/cli/index.ts …` (cached transpile). */
export const TS_REGISTER = join(PROJECT_DIR, 'test', 'support', 'ts-register.js');
