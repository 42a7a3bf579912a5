import { createDueIndex } from '../../../src/domain/schedule/due-index';

const at = (minutes: number): Date => new Date(Date.UTC(2026, 0, 1, 0, minutes));

describe('due index', () => {
  it('returns the due keys earliest first and keeps the others', () => {
    const index = createDueIndex();
    index.set('c', at(30));
    index.set('a', at(10));
    index.set('b', at(20));
    expect(index.takeDue(at(20))).toEqual(['a', 'b']);
    expect(index.size).toBe(1);
    expect(index.peek()).toEqual({ key: 'c', at: at(30) });
  });

  it('moves a key when it is set again (no stale duplicate comes out)', () => {
    const index = createDueIndex();
    index.set('a', at(10));
    index.set('a', at(50));
    expect(index.takeDue(at(20))).toEqual([]);
    expect(index.takeDue(at(60))).toEqual(['a']);
    expect(index.takeDue(at(60))).toEqual([]);
  });

  it('forgets a removed key', () => {
    const index = createDueIndex();
    index.set('a', at(10));
    index.remove('a');
    expect(index.takeDue(at(60))).toEqual([]);
    expect(index.get('a')).toBeUndefined();
  });

  it('takes at most `limit` keys and leaves the rest due', () => {
    const index = createDueIndex();
    for (let i = 0; i < 5; i += 1) index.set(`k${i}`, at(i));
    expect(index.takeDue(at(10), 2)).toEqual(['k0', 'k1']);
    expect(index.takeDue(at(10))).toEqual(['k2', 'k3', 'k4']);
  });

  it('stays ordered through many random updates (heap invariant)', () => {
    const index = createDueIndex();
    const expected = new Map<string, number>();
    let seed = 42;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5000; i += 1) {
      const key = `k${Math.floor(rand() * 300)}`;
      if (rand() < 0.1) {
        index.remove(key);
        expected.delete(key);
      } else {
        const m = Math.floor(rand() * 10000);
        index.set(key, at(m));
        expected.set(key, at(m).getTime());
      }
    }
    const out = index.takeDue(at(100000));
    const sorted = [...expected.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([k]) => k);
    expect(out).toEqual(sorted);
    expect(index.size).toBe(0);
  });

  it('agrees with a plain sorted list through random sets, removes and partial takes', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const index = createDueIndex();
    const model = new Map<string, number>();
    const due = (now: number, limit: number): string[] =>
      [...model.entries()].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit).map(([k]) => k);
    for (let step = 0; step < 5000; step += 1) {
      const key = `k${rand(300)}`;
      const op = rand(10);
      if (op < 6) {
        const at = rand(1000);
        index.set(key, new Date(at));
        model.set(key, at);
      } else if (op < 8) {
        index.remove(key);
        model.delete(key);
      } else {
        const now = rand(1000);
        const limit = 1 + rand(5);
        const expected = due(now, limit);
        expect(index.takeDue(new Date(now), limit)).toEqual(expected);
        for (const k of expected) model.delete(k);
      }
      expect(index.size).toBe(model.size);
    }
  });

  it('keeps its order while growing past its first arrays and shrinking after a mass removal', () => {
    const index = createDueIndex();
    const n = 10_000;
    // Times repeat (ties are broken by key) and arrive in no particular order.
    for (let i = 0; i < n; i += 1) index.set(`k${i}`, at((i * 7919) % 500));
    for (let i = 0; i < n; i += 1) if (i % 50 !== 0) index.remove(`k${i}`);
    expect(index.size).toBe(n / 50);
    for (let i = 0; i < 300; i += 1) index.set(`late${i}`, at(1000 + i));
    const kept = Array.from({ length: n / 50 }, (_, j) => `k${j * 50}`);
    const expected = kept.sort((a, b) => index.get(a)!.getTime() - index.get(b)!.getTime() || (a < b ? -1 : 1));
    expect(index.takeDue(at(999))).toEqual(expected);
    expect(index.takeDue(at(2000))).toEqual(Array.from({ length: 300 }, (_, i) => `late${i}`).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4))));
    expect(index.size).toBe(0);
    expect(index.peek()).toBeUndefined();
  });
});
