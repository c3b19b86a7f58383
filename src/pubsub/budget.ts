/**
 * The catalog's global budget: how many (file, provider) pairs and how many
 * bytes it holds, per provider which files, and, when over, which providers
 * go first. Counting bytes exactly is not possible in JavaScript; the figure is
 * an estimate of what the catalog keeps (UTF-16 strings, map entries), used as a cap.
 */
import type { FileMeta } from './codec.js'

/** Estimated bytes of an entry's map slot, CID key and state, without its metadata or providers. */
export const ENTRY_OVERHEAD_BYTES = 256
/** Estimated bytes of one provider of one file (map slot, peer key, state). */
export const PAIR_OVERHEAD_BYTES = 160

/** Eviction frees down to this fraction of each cap, so that it runs once per many additions. */
const EVICT_TO = 0.9

export function metaBytes (meta: FileMeta): number {
  return 64 + 2 * (meta.name.length + meta.mediaType.length)
}

/** Bytes of one catalog entry as the budget counts them. */
export function entryBytes (entry: { meta?: FileMeta, providers: Map<string, { meta?: FileMeta }> }): number {
  let bytes = ENTRY_OVERHEAD_BYTES + (entry.meta == null ? 0 : metaBytes(entry.meta))
  for (const s of entry.providers.values()) bytes += PAIR_OVERHEAD_BYTES + (s.meta == null ? 0 : metaBytes(s.meta))
  return bytes
}

interface PeerUsage {
  cids: Set<string>
  /** When this node first listed the peer for anything. */
  firstSeen: number
  /** Ever heard first-hand (a message it signed), not only from reports. */
  firstHand: boolean
}

export class CatalogBudget {
  pairs = 0
  bytes = 0
  private readonly self: string
  private readonly maxPairs: number
  private readonly maxBytes: number
  private readonly connected: () => Set<string>
  private readonly peers = new Map<string, PeerUsage>()

  constructor (self: string, maxPairs: number, maxBytes: number, connected: () => Set<string> = () => new Set()) {
    this.self = self
    this.maxPairs = maxPairs
    this.maxBytes = maxBytes
    this.connected = connected
  }

  count (peer: string): number {
    return this.peers.get(peer)?.cids.size ?? 0
  }

  added (peer: string, cid: string, firstHand: boolean, now: number): void {
    let usage = this.peers.get(peer)
    if (usage == null) {
      usage = { cids: new Set(), firstSeen: now, firstHand }
      this.peers.set(peer, usage)
    }
    if (!usage.cids.has(cid)) {
      usage.cids.add(cid)
      this.pairs++
    }
    usage.firstHand ||= firstHand
  }

  removed (peer: string, cid: string): void {
    const usage = this.peers.get(peer)
    if (usage == null || !usage.cids.delete(cid)) return
    this.pairs--
    if (usage.cids.size === 0) this.peers.delete(peer)
  }

  resize (delta: number): void {
    this.bytes += delta
  }

  over (): boolean {
    return this.pairs > this.maxPairs || this.bytes > this.maxBytes
  }

  /** Still above what an eviction frees down to. */
  overSlack (): boolean {
    return this.pairs > this.maxPairs * EVICT_TO || this.bytes > this.maxBytes * EVICT_TO
  }

  /**
   * Providers in the order they are evicted: known only from reports first, then those not
   * connected now, then the most recently met. This node is never evicted: connected,
   * long-known providers are what the user is most likely to fetch from.
   */
  victims (): string[] {
    const connected = this.connected()
    const rank = (peer: string, u: PeerUsage): number[] => [u.firstHand ? 1 : 0, connected.has(peer) ? 1 : 0, -u.firstSeen]
    return [...this.peers]
      .filter(([peer]) => peer !== this.self)
      .map(([peer, u]) => ({ peer, r: rank(peer, u) }))
      .sort((a, b) => a.r[0]! - b.r[0]! || a.r[1]! - b.r[1]! || a.r[2]! - b.r[2]!)
      .map(v => v.peer)
  }

  cidsOf (peer: string): string[] {
    return [...(this.peers.get(peer)?.cids ?? [])]
  }
}
