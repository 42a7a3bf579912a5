import { ShardedMap } from '../../src/domain/sharded-map';

describe('ShardedMap', () => {
  it('behaves as a Map for get, has, set (overwrite included), delete and size', () => {
    const map = new ShardedMap<number>();
    const model = new Map<string, number>();
    let seed = 3;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step += 1) {
      // Short keys, long keys, keys sharing their last 16 characters.
      const key = [`k${rand(500)}`, `security-coverage--${rand(500)}`, `${rand(50)}-same-sixteen-tail`][rand(3)];
      if (rand(4) === 0) expect(map.delete(key)).toBe(model.delete(key));
      else {
        map.set(key, step);
        model.set(key, step);
      }
      expect(map.size).toBe(model.size);
      expect(map.get(key)).toBe(model.get(key));
      expect(map.has(key)).toBe(model.has(key));
    }
    expect([...map.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
  });

  it('walks its values live: a value deleted ahead of the walk is skipped', () => {
    const map = new ShardedMap<string>();
    for (let i = 0; i < 1000; i += 1) map.set(`key${i}`, `key${i}`);
    const seen: string[] = [];
    for (const v of map.values()) {
      seen.push(v);
      if (seen.length === 1) for (let i = 0; i < 1000; i += 1) if (`key${i}` !== v && i % 2 === 0) map.delete(`key${i}`);
    }
    expect(seen).toHaveLength(map.size);
    expect(new Set(seen).size).toBe(seen.length);
  });
});
