/**
 * Bytes and blocks per peer (served to, or received from), kept for the MAX_TALLIED_PEERS
 * peers counted most recently. A peer that is counted again moves to the newest end; past the
 * cap the longest-silent peer is dropped, so a long-running node does not keep one entry for
 * every peer it ever met (its totals elsewhere still include what that peer moved).
 */
import { MAX_TALLIED_PEERS } from './constants.js'
import { setNewest } from '../util/newest-map.js'

export interface PeerCounters {
  bytes: number
  blocks: number
}

export class PeerTally {
  // a Map iterates in insertion order: re-inserting on every count keeps it least recent first
  private readonly counters = new Map<string, PeerCounters>()

  constructor (private readonly max = MAX_TALLIED_PEERS) {}

  add (peer: string, bytes: number): void {
    const c = this.counters.get(peer) ?? { bytes: 0, blocks: 0 }
    c.bytes += bytes
    c.blocks++
    setNewest(this.counters, peer, c, this.max)
  }

  get size (): number {
    return this.counters.size
  }

  toRecord (): Record<string, PeerCounters> {
    const out: Record<string, PeerCounters> = {}
    for (const [peer, c] of this.counters) out[peer] = { ...c }
    return out
  }
}
