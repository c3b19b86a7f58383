/**
 * The output loop of one serving stream: answer frames first, then blocks in the order asked,
 * the next READ_AHEAD read (and verified) while the current one is being sent, each within
 * the peer's and the server's byte budgets.
 *
 * A peer that stops taking frames (no flow-control window) for SEND_STALL_MS has its stream
 * stalled: the reservations of its read-ahead and of the block being sent are given back, and
 * its place among the active streams, so that unread streams cannot hold the budgets or the
 * places others need; its queue waits until it reads.
 */
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from '../../util/logger.js'
import type { ByteBudget } from '../budget.js'
import { CHUNK_SIZE, MAX_CIDS_PER_FRAME, READ_AHEAD } from '../constants.js'
import { verifyBytes, type BlockBytes } from '../../content/index.js'
import { encodeBlock, encodeList, FrameType } from '../messages.js'
import type { BlockStore } from '../types.js'
import type { Ledger } from './ledger.js'
import type { ServeStream } from './stream.js'
import type { VerifiedBlocks } from '../../util/verified-blocks.js'

export interface OutputContext {
  store: BlockStore
  /** Verified blocks on their way into the store (served from memory meanwhile). */
  landing: ReadonlyMap<string, BlockBytes>
  total: ByteBudget
  ledger: Ledger
  log: Logger
  /** Store blocks already hashed (not hashed again while remembered). */
  verified: VerifiedBlocks
  /** The stream has nothing queued or being sent (admission counts it out). */
  setIdle: (s: ServeStream) => void
  /** A stalled stream's peer took a frame again (admission counts it in, even over its cap for a while). */
  setResumed: (s: ServeStream) => void
  /** The stream sent a block (super-seeding reveals one more). */
  onServed: (s: ServeStream) => void
  /** The stream has nothing to send for now (super-seeding arms its timer). */
  onIdle: (s: ServeStream) => void
}

interface Loaded {
  cid: CID
  key: string
  bytes?: BlockBytes
  release: () => void
}

interface Loading {
  cid: CID
  load: Promise<Loaded>
}

/** Reserves budget for, reads and verifies one block; `release()` gives the bytes back (once). */
async function load (ctx: OutputContext, s: ServeStream, cid: CID, peerBudget: ByteBudget, signal: AbortSignal): Promise<Loaded> {
  const key = cid.toString()
  let reserved = CHUNK_SIZE
  await peerBudget.acquire(reserved, signal)
  try {
    await ctx.total.acquire(reserved, signal, s.peer)
  } catch (err) {
    peerBudget.release(reserved)
    throw err
  }
  let held = true
  const release = (): void => {
    if (!held) return
    held = false
    peerBudget.release(reserved)
    ctx.total.release(reserved)
  }
  let bytes: BlockBytes | undefined
  try {
    bytes = ctx.landing.get(key)
    if (bytes == null && s.queued.has(key)) {
      bytes = await ctx.store.getBlock(key, { verify: false }) ?? undefined
      // hashed once: by this server before, or by the store that wrote or read it (a file just shared)
      if (bytes != null && !ctx.verified.has(key, bytes.byteLength) && ctx.store.verifiedHere?.(key, bytes.byteLength) !== true) {
        if (verifyBytes(cid, bytes)) {
          ctx.verified.add(key, bytes.byteLength)
        } else {
          // read again with the store's own verification, so the store can set it aside
          ctx.log.error('block %s in the store does not match its CID; not serving it', key)
          await ctx.store.getBlock(key, { verify: true }).catch(() => {})
          bytes = undefined
        }
      }
    }
  } catch {
    bytes = undefined
  }
  if (bytes != null && held) {
    peerBudget.adjust(bytes.byteLength - reserved)
    ctx.total.adjust(bytes.byteLength - reserved)
    reserved = bytes.byteLength
  }
  return bytes != null ? { cid, key, bytes, release } : { cid, key, release }
}

export class StreamOutput {
  /** Blocks being read (and verified) ahead of the one being sent, in queue order. */
  private loading: Loading[] = []
  private loads = new AbortController()
  private readonly later: CID[] = []
  private sending?: Loaded

  constructor (
    private readonly ctx: OutputContext,
    private readonly s: ServeStream,
    private readonly peerBudget: ByteBudget,
    private readonly signal: AbortSignal
  ) {
    s.onStall = () => { this.stall() }
    // one signal for the loads of the moment (no AbortSignal.any per block): the stream's end aborts it
    signal.addEventListener('abort', () => { this.loads.abort(signal.reason) }, { once: true })
  }

  /** The peer took nothing for SEND_STALL_MS: give back every reservation of this stream. */
  private stall (): void {
    this.sending?.release()
    this.loads.abort(new Error('the peer does not read'))
    this.loads = new AbortController()
    if (this.signal.aborted) this.loads.abort(this.signal.reason)
    const dropped = this.loading.splice(0)
    for (const l of dropped) l.load.then((item) => { item.release() }, () => {})
    // still wanted: read again once the peer reads
    this.s.queue.unshift(...dropped.map(l => l.cid))
  }

  private startNext (): void {
    const { s } = this
    const now = Date.now()
    while (this.loading.length < READ_AHEAD && !s.stalled) {
      const cid = s.queue.shift()
      if (cid == null) return
      const key = cid.toString()
      if (!s.queued.has(key)) continue // cancelled
      if (this.ctx.ledger.defer(s, key, now)) {
        // another peer reading from us got it: let this one get it there
        this.later.push(s.wire(cid, s.queued.get(key)))
        s.queued.delete(key)
        continue
      }
      const pending = load(this.ctx, s, cid, this.peerBudget, this.loads.signal)
      pending.catch(() => {}) // awaited below; a stream closing meanwhile is not an unhandled rejection
      this.loading.push({ cid, load: pending })
    }
  }

  /** Hands `frame` to the muxer; resumes once it took it (only then are the bytes out of our hands). */
  private async * send (frame: Uint8ArrayList): AsyncGenerator<Uint8ArrayList> {
    const { s } = this
    s.waitingSince = Date.now()
    yield frame
    s.waitingSince = undefined
    s.lastTaken = Date.now()
    if (s.stalled) {
      s.stalled = false
      this.ctx.setResumed(s)
    }
  }

  async * run (): AsyncGenerator<Uint8ArrayList> {
    const { s, ctx } = this
    try {
      while (!s.closed) {
        const answer = s.nextAnswer()
        if (answer != null) {
          yield * this.send(answer)
          s.notifyDrained()
          continue
        }
        this.startNext()
        if (this.later.length > 0) {
          yield * this.send(lp.encode.single(encodeList(FrameType.LATER, this.later.splice(0, MAX_CIDS_PER_FRAME))))
          continue
        }
        const next = this.loading.shift()
        if (next != null) {
          let item: Loaded
          try {
            item = await next.load
          } catch (err) {
            if (this.signal.aborted) throw err
            continue // given back on a stall; its CID is queued again
          }
          this.startNext()
          try {
            const v0 = s.queued.get(item.key)
            if (!s.queued.delete(item.key)) continue
            const cid = s.wire(item.cid, v0)
            if (item.bytes == null) {
              // with the answers: DONT_HAVEs of consecutive misses merge into one frame
              s.sendList(FrameType.DONT_HAVE, [cid])
              continue
            }
            ctx.ledger.sent(s, item.key, item.bytes.byteLength)
            this.sending = item
            yield * this.send(lp.encode.single(encodeBlock(cid, item.bytes)))
            ctx.onServed(s)
          } finally {
            this.sending = undefined
            item.release()
          }
          continue
        }
        ctx.setIdle(s)
        if (s.inputEnded) break
        ctx.onIdle(s)
        await s.idle()
      }
    } finally {
      this.loads.abort(new Error('the stream closed'))
      for (const l of this.loading.splice(0)) l.load.then((item) => { item.release() }, () => {})
    }
  }
}
