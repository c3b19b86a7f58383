/**
 * Blocks known to match their CID, most recent last, with their lengths: a block is then hashed
 * once rather than at every read. The transfer's server keeps one of the blocks it hashed (a
 * block asked by many peers, a sharer's file going to eight fetchers, or read again after a
 * stall); the store keeps one of the blocks it wrote or verified in this process (a file just
 * shared was hashed by its import: the server need not hash it again). Bounded (a capacity of
 * keys, ~60 bytes each); the length is kept with the key, so a block that changed size on disk
 * is hashed again. A block corrupted on disk after it was hashed may be served until it leaves
 * the cache: the requester's own check rejects it (docs/SECURITY.md).
 */
import { setNewest } from './newest-map.js'

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
    setNewest(this.keys, key, length, this.capacity)
  }

  delete (key: string): void {
    this.keys.delete(key)
  }

  get size (): number {
    return this.keys.size
  }
}
