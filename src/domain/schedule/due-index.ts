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

interface Node {
  key: string;
  at: number;
  /** Position in the heap array. */
  pos: number;
}

export function createDueIndex(): DueIndex {
  const heap: Node[] = [];
  const byKey = new Map<string, Node>();

  const less = (a: Node, b: Node): boolean => a.at < b.at || (a.at === b.at && a.key < b.key);
  const place = (n: Node, i: number): void => {
    heap[i] = n;
    n.pos = i;
  };
  const up = (start: number): void => {
    const n = heap[start];
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(n, heap[parent])) break;
      place(heap[parent], i);
      i = parent;
    }
    place(n, i);
  };
  const down = (start: number): void => {
    const n = heap[start];
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = l;
      if (l >= heap.length) break;
      if (r < heap.length && less(heap[r], heap[l])) m = r;
      if (!less(heap[m], n)) break;
      place(heap[m], i);
      i = m;
    }
    place(n, i);
  };
  /** Takes node `n` out of the heap. */
  const detach = (n: Node): void => {
    const last = heap.pop() as Node;
    if (last !== n) {
      place(last, n.pos);
      up(last.pos);
      down(last.pos);
    }
    byKey.delete(n.key);
  };

  return {
    set(key, at) {
      const t = at.getTime();
      const n = byKey.get(key);
      if (n) {
        if (n.at === t) return;
        n.at = t;
        up(n.pos);
        down(n.pos);
        return;
      }
      const node: Node = { key, at: t, pos: heap.length };
      heap.push(node);
      byKey.set(key, node);
      up(node.pos);
    },
    remove(key) {
      const n = byKey.get(key);
      if (n) detach(n);
    },
    get(key) {
      const n = byKey.get(key);
      return n ? new Date(n.at) : undefined;
    },
    takeDue(now, limit = Number.POSITIVE_INFINITY) {
      const out: string[] = [];
      const limitTime = now.getTime();
      while (out.length < limit && heap.length > 0 && heap[0].at <= limitTime) {
        const top = heap[0];
        detach(top);
        out.push(top.key);
      }
      return out;
    },
    peek() {
      return heap.length > 0 ? { key: heap[0].key, at: new Date(heap[0].at) } : undefined;
    },
    get size() {
      return byKey.size;
    },
  };
}
