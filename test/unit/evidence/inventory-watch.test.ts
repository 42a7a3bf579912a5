import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchEvidence } from '../../../src/adapters/evidence';

/** fs.watch handles that keep the process alive (getActiveResourcesInfo lists referenced handles only). */
const watchHandles = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;

describe('evidence watch: close()', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'inventory-watch-'));
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(dir, `d${i}`, 'deeper'), { recursive: true });
      writeFileSync(join(dir, `d${i}`, 'deeper', 'rule.yml'), 'title: x\n');
    }
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never holds the process: watching, it keeps no referenced fs watch handle', async () => {
    const before = watchHandles();
    const watch = watchEvidence([dir], { debounceMs: 10, onChange: () => undefined });
    await watch.ready;
    expect(watchHandles()).toBe(before);
    await watch.close();
  });

  it('called during the initial scan, lets the scan end first and leaves no fs watch handle behind', async () => {
    const before = watchHandles();
    const watch = watchEvidence([dir], { debounceMs: 10, onChange: () => undefined });
    let scanned = false;
    void watch.ready.then(() => (scanned = true));
    // A daemon stopped right after its start: chokidar would drop the handles of folders still being added.
    await watch.close();
    expect(scanned).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(watchHandles()).toBe(before);
  });
});
