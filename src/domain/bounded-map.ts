/**
 * Keeps `value` under `key` in `map`, then drops the oldest entries (insertion order; a key set again
 * counts as new) past `max`: the one way this code bounds a memo or a tracking map.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
  return value;
}

/** The same bound for a set: `value` counts as the newest, the oldest go past `max`. */
export function addBounded<T>(set: Set<T>, value: T, max: number): void {
  set.delete(value);
  set.add(value);
  while (set.size > max) set.delete(set.values().next().value as T);
}
