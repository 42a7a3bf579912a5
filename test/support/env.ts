import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `../shared` beside the project (CI always has it; a user's clone may not). */
export const SHARED_DIR = resolve(__dirname, '../../../shared');
export const hasShared = existsSync(SHARED_DIR);
export const sharedPath = (...parts: string[]): string => join(SHARED_DIR, ...parts);

/** describe() when ../shared exists, describe.skip otherwise. */
export const describeWithShared = hasShared ? describe : describe.skip;

export const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
/** Set by test/support/global-setup.js after probing the broker. */
export const brokerAvailable = process.env.BROKER_AVAILABLE === '1';
/** describe() when the broker answers; with REQUIRE_BROKER=1 a missing broker already failed the run. */
export const describeWithBroker = brokerAvailable ? describe : describe.skip;

export const PROJECT_DIR = resolve(__dirname, '../..');
