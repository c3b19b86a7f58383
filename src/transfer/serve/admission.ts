/**
 * Admission: which WANT_BLOCKs a stream may queue. At most `maxActiveStreams` streams (over all
 * peers) have blocks queued or being sent at once, at most `maxQueuedPerStream` blocks are
 * queued per stream; what does not fit is answered BUSY. (Inbound streams per peer are capped
 * by libp2p: `maxInboundStreams` at `handle()`.)
 */
import type { CID } from 'multiformats/cid'
import type { ServeStream } from './stream.js'

export interface AdmissionLimits {
  maxActiveStreams: number
  maxQueuedPerStream: number
}

export class Admission {
  private active = 0

  constructor (private readonly limits: AdmissionLimits) {}

  get activeStreams (): number {
    return this.active
  }

  setActive (s: ServeStream, active: boolean): void {
    if (s.active === active) return
    s.active = active
    this.active += active ? 1 : -1
  }

  /**
   * Queues the wanted blocks that fit (CIDv1; `v0` holds the keys asked as CIDv0) and returns
   * those that do not, for a BUSY. A block asked again while queued is queued once.
   */
  admit (s: ServeStream, cids: CID[], v0: ReadonlySet<string>): CID[] {
    if (!s.active && this.active >= this.limits.maxActiveStreams) return cids
    const busy: CID[] = []
    for (const cid of cids) {
      const key = cid.toString()
      s.subscriptions.delete(key)
      s.hidden.delete(key)
      if (s.queued.has(key)) continue
      if (s.queued.size >= this.limits.maxQueuedPerStream) {
        busy.push(cid)
        continue
      }
      s.queued.set(key, v0.has(key))
      s.queue.push(cid)
    }
    // cancelled entries stay in the queue until the output passes them: drop them before the
    // queue outgrows what a stream may hold, so WANT_BLOCK/CANCEL pairs cannot grow it
    if (s.queue.length > 2 * this.limits.maxQueuedPerStream) s.queue = s.queue.filter(c => s.queued.has(c.toString()))
    // a stalled stream's wants wait without a place until its peer reads again (server.ts, sweep)
    if (s.queue.length > 0 && !s.stalled) this.setActive(s, true)
    return busy
  }

  /** CANCEL: forgets both kinds of wants. */
  cancel (s: ServeStream, cids: CID[]): void {
    for (const cid of cids) {
      const key = cid.toString()
      s.queued.delete(key)
      s.subscriptions.delete(key)
      s.ready.delete(key)
      s.hidden.delete(key)
    }
  }
}
