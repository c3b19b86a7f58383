/**
 * The peers a node has met and their nicknames, for `peers`: every connected peer, plus the
 * most recent MAX_GONE_PEERS that left (the oldest leaver is forgotten first, with its name),
 * and at most MAX_NAMED_PEERS nicknames.
 * A swarm of equal peers rarely has more; an attacker minting identities cannot grow it.
 */
import { MAX_GONE_PEERS, MAX_NAMED_PEERS } from './constants.js'

export class PeerBook {
  private readonly connected = new Set<string>()
  /** Peers that left, oldest first (a Map keeps insertion order). */
  private readonly gone = new Map<string, true>()
  private readonly names = new Map<string, string>()

  constructor (private readonly maxGone = MAX_GONE_PEERS, private readonly maxNames = MAX_NAMED_PEERS) {}

  connect (peer: string): void {
    this.gone.delete(peer)
    this.connected.add(peer)
  }

  /** A peer left; returns the leavers forgotten to make room (the caller drops what else it holds of them). */
  disconnect (peer: string): string[] {
    const forgotten: string[] = []
    if (!this.connected.delete(peer)) return forgotten
    this.gone.set(peer, true)
    for (const oldest of this.gone.keys()) {
      if (this.gone.size <= this.maxGone) break
      this.gone.delete(oldest)
      this.names.delete(oldest)
      forgotten.push(oldest)
    }
    return forgotten
  }

  /**
   * Records a nickname (Hellos also come through the mesh from peers not connected here);
   * true when it is new or changed. At most maxNames are kept: the oldest of peers not
   * connected go first.
   */
  setName (peer: string, name: string): boolean {
    if (this.names.get(peer) === name) return false
    this.names.delete(peer)
    this.names.set(peer, name)
    if (this.names.size > this.maxNames) {
      for (const old of this.names.keys()) {
        if (this.names.size <= this.maxNames) break
        if (!this.connected.has(old)) this.names.delete(old)
      }
    }
    return true
  }

  name (peer: string): string | undefined {
    return this.names.get(peer)
  }

  /** Every peer held: connected ones, then those that left (most recent last). */
  peers (): string[] {
    return [...this.connected, ...this.gone.keys()]
  }

  /** How many peers (and names) are held: bounded by the open connections + maxGone. */
  get size (): number {
    return this.connected.size + this.gone.size
  }
}
