/**
 * Min-heap of coverages keyed by the time the scheduler must look at them next, so a tick costs
 * O(due × log n) instead of a platform scan. Updates are lazy: `set` pushes a new heap node and the
 * map remembers the current time per key; stale nodes are skipped when they surface and the heap is
 * compacted when they pile up.
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

interface Node {
  key: string;
  at: number;
}

export function createDueIndex(): DueIndex {
  const heap: Node[] = [];
  const current = new Map<string, number>();

  const less = (a: Node, b: Node): boolean => a.at < b.at || (a.at === b.at && a.key < b.key);
  const swap = (i: number, j: number): void => {
    const t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
  };
  const up = (start: number): void => {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i], heap[parent])) return;
      swap(i, parent);
      i = parent;
    }
  };
  const down = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  const pop = (): Node | undefined => {
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop() as Node;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
    return top;
  };
  const isLive = (n: Node): boolean => current.get(n.key) === n.at;
  /** Drops stale nodes from the top so heap[0], when present, is live. */
  const settle = (): void => {
    while (heap.length > 0 && !isLive(heap[0])) pop();
  };
  const compactIfNeeded = (): void => {
    if (heap.length <= 2 * current.size + 64) return;
    // In place and bottom-up (O(n)): rebuilding 100,000 nodes one push at a time stalled a tick.
    let w = 0;
    for (let r = 0; r < heap.length; r += 1) if (isLive(heap[r])) heap[w++] = heap[r];
    heap.length = w;
    for (let i = (w >> 1) - 1; i >= 0; i -= 1) down(i);
  };

  return {
    set(key, at) {
      const t = at.getTime();
      if (current.get(key) === t) return;
      current.set(key, t);
      heap.push({ key, at: t });
      up(heap.length - 1);
      compactIfNeeded();
    },
    remove(key) {
      current.delete(key);
      compactIfNeeded();
    },
    get(key) {
      const t = current.get(key);
      return t === undefined ? undefined : new Date(t);
    },
    takeDue(now, limit = Number.POSITIVE_INFINITY) {
      const out: string[] = [];
      const limitTime = now.getTime();
      settle();
      while (out.length < limit && heap.length > 0 && heap[0].at <= limitTime) {
        const n = pop() as Node;
        current.delete(n.key);
        out.push(n.key);
        settle();
      }
      return out;
    },
    peek() {
      settle();
      return heap.length > 0 ? { key: heap[0].key, at: new Date(heap[0].at) } : undefined;
    },
    get size() {
      return current.size;
    },
  };
}
