import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonFileStore, createMemoryStore } from '../../../src/adapters/store/json-file-store';

describe('JSON file store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('persists values across instances and creates the folder', async () => {
    const path = join(dir, 'nested', 'state.json');
    const a = createJsonFileStore(path);
    await a.set('openaev:cov-1', { scenarioId: 's1' });
    await a.set('openaev:cov-2', { scenarioId: 's2' });
    await a.delete('openaev:cov-2');
    const b = createJsonFileStore(path);
    expect(await b.get('openaev:cov-1')).toEqual({ scenarioId: 's1' });
    expect(await b.get('openaev:cov-2')).toBeUndefined();
    expect(await b.keys('openaev:')).toEqual(['openaev:cov-1']);
  });

  it('loses no write when many are issued at once', async () => {
    const path = join(dir, 'state.json');
    const store = createJsonFileStore(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`k${i}`, i)));
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')) as object)).toHaveLength(50);
  });

  it('returns copies, so a caller cannot mutate the stored value', async () => {
    const store = createMemoryStore();
    await store.set('k', { list: [1] });
    const v = (await store.get<{ list: number[] }>('k'))!;
    v.list.push(2);
    expect(await store.get('k')).toEqual({ list: [1] });
  });

  it('refuses a corrupt state file loudly instead of starting empty', async () => {
    const path = join(dir, 'state.json');
    await writeFile(path, '{not json');
    await expect(createJsonFileStore(path).get('k')).rejects.toThrow(/state file .* is unreadable/);
  });
});
