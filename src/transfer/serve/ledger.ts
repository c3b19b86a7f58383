/**
 * The ledger: which open streams were sent which block, the counters of what was served, and
 * the LATER rule built on them.
 *
 * LATER rule: a block asked on stream `s` is answered LATER (once per block per stream) when
 * another peer's open stream got it from us and that stream is reading: it took a frame within
 * HOLDER_IDLE_MS and is not stalled (waiting past SEND_STALL_MS for flow-control window). A
 * peer that holds blocks but does not read cannot make us send everyone else away.
 */
import { HOLDER_IDLE_MS, SEND_STALL_MS } from '../constants.js'
import { PeerTally, type PeerCounters } from '../peer-tally.js'
import type { ServeStream } from './stream.js'

export type { PeerCounters }

export interface ServedTotals {
  bytes: number
  blocks: number
  busy: number
  later: number
  again: number
  backlogResets: number
}

/** A stream counts as a holder of what it got while its peer reads from it. */
export function isReading (s: ServeStream, now: number): boolean {
  if (s.closed || s.stalled) return false
  if (s.waitingSince != null) return now - s.waitingSince < SEND_STALL_MS
  return now - s.lastTaken < HOLDER_IDLE_MS
}

export class Ledger {
  /** Open streams each block was sent on. */
  private readonly holders = new Map<string, Set<ServeStream>>()
  private readonly counters: PeerTally
  readonly totals: ServedTotals = { bytes: 0, blocks: 0, busy: 0, later: 0, again: 0, backlogResets: 0 }

  /** `maxPeers`: peers whose counters are kept (the most recently served; MAX_TALLIED_PEERS). */
  constructor (maxPeers?: number) {
    this.counters = new PeerTally(maxPeers)
  }

  /** True when `key` asked on `s` is to be answered LATER now (and notes that it was). */
  defer (s: ServeStream, key: string, now: number): boolean {
    if (s.servedHere.has(key) || s.deferredHere.has(key)) return false
    const holders = this.holders.get(key)
    if (holders == null) return false
    for (const h of holders) {
      if (h.peer !== s.peer && isReading(h, now)) {
        s.deferredHere.add(key)
        this.totals.later++
        return true
      }
    }
    return false
  }

  /** A block is being sent on `s`. */
  sent (s: ServeStream, key: string, bytes: number): void {
    this.counters.add(s.peer, bytes)
    this.totals.bytes += bytes
    this.totals.blocks++
    s.bytesSent += bytes
    s.blocksSent++
    let holders = this.holders.get(key)
    if (holders == null) {
      holders = new Set()
      this.holders.set(key, holders)
    }
    if (holders.size > (holders.has(s) ? 1 : 0)) this.totals.again++
    holders.add(s)
    s.servedHere.add(key)
  }

  /** The stream closed: it holds nothing for us any more. */
  forget (s: ServeStream): void {
    for (const key of s.servedHere) {
      const holders = this.holders.get(key)
      holders?.delete(s)
      if (holders?.size === 0) this.holders.delete(key)
    }
    s.servedHere.clear()
    s.deferredHere.clear()
  }

  /** What the most recently served peers (MAX_TALLIED_PEERS) were sent. */
  byPeer (): Record<string, PeerCounters> {
    return this.counters.toRecord()
  }
}
