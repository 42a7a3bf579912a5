/**
 * A string-keyed map split over a fixed number of Maps by a hash of the key. A Map rehashes all its
 * entries at once when it doubles: at 65,536 keys that is ~20 ms of blocked event loop, at 524,288
 * ~140 ms, and the scheduler's two per-coverage maps doubled in the same call. Split in 64, each
 * doubling moves 1/64 of the keys. Iteration order is by shard, then insertion.
 */
const SHARDS = 64;

/** FNV-1a over the last 16 characters (coverage ids end in random hex; any key works, only the spread differs). */
function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = Math.max(0, key.length - 16); i < key.length; i += 1) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % SHARDS;
}

export class ShardedMap<V> {
  private readonly shards: Array<Map<string, V>> = Array.from({ length: SHARDS }, () => new Map<string, V>());
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    return this.shards[shardOf(key)].get(key);
  }

  has(key: string): boolean {
    return this.shards[shardOf(key)].has(key);
  }

  set(key: string, value: V): this {
    const shard = this.shards[shardOf(key)];
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
    return this;
  }

  delete(key: string): boolean {
    const deleted = this.shards[shardOf(key)].delete(key);
    if (deleted) this.count -= 1;
    return deleted;
  }

  /** Live like a Map's: entries added or deleted during the walk are seen or skipped as a Map would. */
  *values(): Generator<V> {
    for (const shard of this.shards) yield* shard.values();
  }
}
