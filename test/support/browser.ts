import { existsSync } from 'node:fs';

/**
 * Headless Chromium for page tests (Debian package `chromium`, driven by playwright-core). Where it is
 * missing the tests skip with the reason printed; REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const browserAvailable = existsSync(CHROMIUM);
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (!browserAvailable && process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but ${reason}`);
if (!browserAvailable) process.stderr.write(`[browser tests skipped] ${reason}\n`);

/** describe() when Chromium is installed; otherwise one skipped test that says why. */
export const describeWithBrowser: jest.Describe = browserAvailable
  ? describe
  : (Object.assign((name: string) => describe(name, () => it.skip(`skipped: ${reason}`, () => undefined)), describe) as unknown as jest.Describe);
