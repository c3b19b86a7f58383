/**
 * Bounded maps of "the most recent N": a Map keeps insertion order, so the entry set last is the
 * newest and the first key is the oldest. Used for per-peer state that a stream of strangers must
 * not grow without bound (rate buckets, tallies, hellos heard, tombstones, verified blocks).
 * Written here rather than taken from an LRU package: the callers need only this one step, and
 * each decides for itself whether a read counts as a use.
 */

/** Sets `key` to `value` as the newest entry, then forgets the oldest entries over `cap`. */
export function setNewest<K, V> (map: Map<K, V>, key: K, value: V, cap: number): void {
  map.delete(key)
  map.set(key, value)
  while (map.size > cap) {
    const oldest = map.keys().next()
    if (oldest.done === true) return
    map.delete(oldest.value)
  }
}
