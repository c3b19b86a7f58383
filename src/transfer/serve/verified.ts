/**
 * Blocks of the store this server has hashed and found to match their CID, most recent last:
 * a block asked by many peers (a sharer's file going to eight fetchers), or read again after a
 * stall, is hashed once rather than at every read. Bounded (VERIFIED_CACHE_BLOCKS keys, ~60
 * bytes each); the length is kept with the key, so a block that changed size on disk is hashed
 * again. A block corrupted on disk after it was hashed may be served until it leaves the cache:
 * the requester's own check rejects it (docs/SECURITY.md).
 */
export class VerifiedBlocks {
  private readonly keys = new Map<string, number>()

  constructor (private readonly capacity: number) {}

  has (key: string, length: number): boolean {
    const known = this.keys.get(key)
    if (known !== length) return false
    // most recently used last
    this.keys.delete(key)
    this.keys.set(key, length)
    return true
  }

  add (key: string, length: number): void {
    this.keys.delete(key)
    this.keys.set(key, length)
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next()
      if (oldest.done !== true) this.keys.delete(oldest.value)
    }
  }

  delete (key: string): void {
    this.keys.delete(key)
  }

  get size (): number {
    return this.keys.size
  }
}
