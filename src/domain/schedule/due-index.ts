import { ShardedMap } from '../sharded-map';

/**
 * Min-heap of coverages keyed by the time the scheduler must look at them next, so a tick costs
 * O(due × log n) instead of a platform scan. Indexed: each key has exactly one node and knows its
 * place in the heap, so re-scheduling or removing a key moves that node in O(log n). (Lazy updates
 * with stale nodes needed an O(n) compaction now and then, a 0.2-2 s stall at 100,000-1,000,000
 * coverages; one node per key also halves the memory.)
 */
export interface DueIndex {
  /** Schedules (or re-schedules) `key` at `at`. */
  set(key: string, at: Date): void;
  remove(key: string): void;
  /** Current time of `key`, if indexed. */
  get(key: string): Date | undefined;
  /** Removes and returns the keys due at `now` (time ≤ now), earliest first, at most `limit`. */
  takeDue(now: Date, limit?: number): string[];
  /** Earliest indexed time. */
  peek(): { key: string; at: Date } | undefined;
  readonly size: number;
}

/**
 * The heap as two parallel arrays (keys, times) and a key → position map: ~45 bytes a key where a
 * node object per key (key, boxed time, position) and its map entry took ~110 (6 MB at 100,000
 * coverages, 60 at 1,000,000, all of it live for the collector to mark).
 */
export function createDueIndex(): DueIndex {
  const keys: string[] = [];
  let times = new Float64Array(1024);
  // Sharded: one Map of every key stalled the event loop each time it doubled.
  const positions = new ShardedMap<number>();

  /** (a, ka) comes before (b, kb): earlier time first, then key order. */
  const first = (a: number, ka: string, b: number, kb: string): boolean => a < b || (a === b && ka < kb);
  const put = (key: string, at: number, i: number): void => {
    keys[i] = key;
    times[i] = at;
    positions.set(key, i);
  };
  /** Moves the key at `start` towards the root while it comes first; returns where it settled. */
  const up = (start: number): number => {
    const key = keys[start];
    const at = times[start];
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!first(at, key, times[parent], keys[parent])) break;
      put(keys[parent], times[parent], i);
      i = parent;
    }
    if (i !== start) put(key, at, i);
    return i;
  };
  const down = (start: number): void => {
    const key = keys[start];
    const at = times[start];
    const n = keys.length;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && first(times[r], keys[r], times[l], keys[l]) ? r : l;
      if (!first(times[m], keys[m], at, key)) break;
      put(keys[m], times[m], i);
      i = m;
    }
    if (i !== start) put(key, at, i);
  };
  /** Puts the last key in place of the one at `i` (which leaves the heap). */
  const removeAt = (i: number): void => {
    positions.delete(keys[i]);
    const lastKey = keys.pop() as string;
    const last = keys.length;
    if (i < last) {
      put(lastKey, times[last], i);
      if (up(i) === i) down(i);
    }
    // Give memory back after a mass removal (coverages deleted on the platform).
    if (times.length > 1024 && last < times.length / 4) times = times.slice(0, times.length / 2);
  };

  return {
    set(key, at) {
      const t = at.getTime();
      const i = positions.get(key);
      if (i !== undefined) {
        if (times[i] === t) return;
        times[i] = t;
        if (up(i) === i) down(i);
        return;
      }
      const n = keys.length;
      if (n === times.length) {
        const grown = new Float64Array(times.length * 2);
        grown.set(times);
        times = grown;
      }
      put(key, t, n);
      up(n);
    },
    remove(key) {
      const i = positions.get(key);
      if (i !== undefined) removeAt(i);
    },
    get(key) {
      const i = positions.get(key);
      return i === undefined ? undefined : new Date(times[i]);
    },
    takeDue(now, limit = Number.POSITIVE_INFINITY) {
      const out: string[] = [];
      const limitTime = now.getTime();
      while (out.length < limit && keys.length > 0 && times[0] <= limitTime) {
        out.push(keys[0]);
        removeAt(0);
      }
      return out;
    },
    peek() {
      return keys.length > 0 ? { key: keys[0], at: new Date(times[0]) } : undefined;
    },
    get size() {
      return keys.length;
    },
  };
}
