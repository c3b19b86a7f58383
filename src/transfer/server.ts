/**
 * The serving side of `/swarmdrop/blocks/1.0.0`: answers WANT_HAVE / WANT_BLOCK from the
 * store, within limits on streams and on bytes held in memory (per peer and in total).
 *
 * Composed of parts with one job each (src/transfer/serve/): the per-stream state
 * (`stream.ts`), admission (`admission.ts`: active streams, queue per stream, BUSY),
 * super-seeding (`super-seed.ts`: what to reveal with HAVE), the ledger (`ledger.ts`: who was
 * sent what, the LATER rule), the input loop (`input.ts`) and the output loop (`output.ts`).
 */
import type { Logger } from '../util/logger.js'
import { ByteBudget } from './budget.js'
import { BLOCKS_PROTOCOL, PROTOCOL_VIOLATION_PENALTY, REVEAL_IDLE_MS, SEND_STALL_MS, VERIFIED_CACHE_BLOCKS } from './constants.js'
import { BlockProtocolError, RequestBacklogError } from './errors.js'
import { FrameType } from './messages.js'
import { Admission } from './serve/admission.js'
import { readInput, type InputContext } from './serve/input.js'
import { Ledger, type PeerCounters } from './serve/ledger.js'
import { StreamOutput, type OutputContext } from './serve/output.js'
import { ServeStream } from './serve/stream.js'
import { SuperSeeder } from './serve/super-seed.js'
import { VerifiedBlocks } from '../util/verified-blocks.js'
import type { BlockBytes } from '../content/index.js'
import type { BlockStore, ByteStream, TransferNetwork } from './types.js'
import { CID } from 'multiformats/cid'

export type { PeerCounters }

export interface ServerLimits {
  maxStreamsPerPeer: number
  maxActiveStreams: number
  maxBytesInFlightPerPeer: number
  maxBytesInFlight: number
  maxQueuedPerStream: number
  maxHaveSubscriptions: number
  /** Request bytes a peer's streams may hold unread (MAX_UNREAD_REQUEST_BYTES_PER_PEER). */
  maxUnreadPerPeer: number
}

/** One serving stream that sent blocks has ended: who got how much of what. */
export interface ServedStream {
  /** The peer the blocks went to. */
  peer: string
  /** The first CID it asked about on the stream: the file's root for a download that starts fresh. */
  cid?: string
  /** Block bytes and blocks sent on the stream. */
  bytes: number
  blocks: number
  /** The stream ended normally (the peer closed it), or broke / was reset / the node stopped. */
  ended: 'done' | 'aborted'
}

export interface ServerStats {
  /** Block bytes and blocks sent, in total and per peer (the 1,024 peers served most recently: MAX_TALLIED_PEERS). */
  bytes: number
  blocks: number
  byPeer: Record<string, PeerCounters>
  /** Streams open on the protocol now, and those with blocks queued or being sent. */
  streams: number
  activeStreams: number
  /** Streams whose peer took no frame for SEND_STALL_MS (their reservations were given back). */
  stalledStreams: number
  /** Block bytes read from the store and not yet handed to the muxer. */
  bytesInFlight: number
  /** Remembered want-haves, over all streams. */
  subscriptions: number
  /** The most answer frames queued on one stream now. */
  maxQueuedAnswers: number
  /** WANT_BLOCKs answered BUSY. */
  busy: number
  /** WANT_BLOCKs answered LATER (another connected peer, reading, got the block from us). */
  later: number
  /** Blocks sent while another connected peer had already got them from us. */
  again: number
  /** Streams reset because their peer's unread requests passed maxUnreadPerPeer (RequestBacklogError). */
  backlogResets: number
}

export class BlockServer {
  private readonly streams = new Set<ServeStream>()
  private readonly streamsOf = new Map<string, Set<ServeStream>>()
  private readonly total: ByteBudget
  private readonly perPeer = new Map<string, ByteBudget>()
  private readonly admission: Admission
  private readonly seeder: SuperSeeder
  private readonly ledger = new Ledger()
  private readonly input: InputContext
  private readonly output: OutputContext
  private sweeper?: ReturnType<typeof setInterval>
  private started = false

  constructor (
    private readonly network: TransferNetwork,
    store: BlockStore,
    /** Verified blocks on their way into the store (served from memory meanwhile). */
    landing: ReadonlyMap<string, BlockBytes>,
    private readonly limits: ServerLimits,
    private readonly log: Logger,
    /** Told when a stream that sent blocks ends. */
    private readonly onStreamServed?: (info: ServedStream) => void
  ) {
    this.total = new ByteBudget(limits.maxBytesInFlight)
    this.admission = new Admission(limits)
    this.seeder = new SuperSeeder(() => this.streams.size, limits.maxHaveSubscriptions)
    this.input = { store, landing, admission: this.admission, seeder: this.seeder, ledger: this.ledger, maxHaveSubscriptions: limits.maxHaveSubscriptions, checkBacklog: (peer) => { this.checkBacklog(peer) } }
    this.output = {
      store,
      landing,
      total: this.total,
      ledger: this.ledger,
      log,
      verified: new VerifiedBlocks(VERIFIED_CACHE_BLOCKS),
      setIdle: (s) => { this.admission.setActive(s, false) },
      setResumed: (s) => { this.admission.setActive(s, true) },
      onServed: (s) => { this.seeder.onServed(s) },
      onIdle: (s) => { this.seeder.arm(s) }
    }
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.network.handle(BLOCKS_PROTOCOL, (stream) => { this.serve(stream) }, {
      maxInboundStreams: this.limits.maxStreamsPerPeer
    })
    this.sweeper = setInterval(() => { this.sweep() }, SEND_STALL_MS / 4)
    this.sweeper.unref?.()
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    clearInterval(this.sweeper)
    await this.network.unhandle(BLOCKS_PROTOCOL).catch(() => {})
    for (const s of this.streams) this.closeStream(s, new Error('the node is stopping'))
  }

  stats (): ServerStats {
    let stalled = 0
    let subscriptions = 0
    let maxQueuedAnswers = 0
    for (const s of this.streams) {
      if (s.stalled) stalled++
      subscriptions += s.subscriptions.size + s.ready.size
      maxQueuedAnswers = Math.max(maxQueuedAnswers, s.answerFrames)
    }
    const { bytes, blocks, busy, later, again, backlogResets } = this.ledger.totals
    return {
      bytes,
      blocks,
      busy,
      later,
      again,
      backlogResets,
      byPeer: this.ledger.byPeer(),
      streams: this.streams.size,
      activeStreams: this.admission.activeStreams,
      stalledStreams: stalled,
      bytesInFlight: this.total.inUse,
      subscriptions,
      maxQueuedAnswers
    }
  }

  /** A block just landed in the store: tell the streams that asked for it with WANT_HAVE. */
  notifyStored (key: string): void {
    for (const s of this.streams) {
      const v0 = s.subscriptions.get(key)
      if (v0 == null) continue
      s.subscriptions.delete(key)
      if (s.answersFull) {
        // sent when the peer has taken some answers (ServeStream.nextAnswer)
        s.ready.set(key, v0)
        s.notify()
      } else {
        s.sendList(FrameType.HAVE, [s.wire(CID.parse(key), v0)])
      }
    }
  }

  /**
   * Stalls the streams whose peer took no frame for SEND_STALL_MS: they give back their block
   * reservations and their place among the `maxActiveStreams` (else peers that ask and never
   * read would have every other peer answered BUSY for as long as they keep their streams open).
   * Checks the request backlog of streams whose input is paused too (checkBacklog).
   */
  private sweep (): void {
    for (const peer of [...this.streamsOf.keys()]) this.checkBacklog(peer)
    const now = Date.now()
    for (const s of this.streams) {
      if (s.stalled || s.waitingSince == null || now - s.waitingSince < SEND_STALL_MS) continue
      s.stalled = true
      this.admission.setActive(s, false)
      this.log('%p took nothing for %d ms: its block reservations and its active place are given back', s.peer, now - s.waitingSince)
      s.onStall?.()
    }
  }

  /**
   * Resets `peer`'s streams holding the most unread request bytes until the rest hold at most
   * maxUnreadPerPeer. The stream's receive window does not bound them (ByteStream.unread).
   */
  private checkBacklog (peer: string): void {
    const mine = this.streamsOf.get(peer)
    if (mine == null) return
    // summed without allocating: this runs at every request frame
    let total = 0
    for (const o of mine) total += o.stream.unread?.() ?? 0
    const limit = this.limits.maxUnreadPerPeer
    if (total <= limit) return
    const held = [...mine].map(o => ({ o, unread: o.stream.unread?.() ?? 0 }))
    const err = new RequestBacklogError(total, limit)
    for (const { o, unread } of held.sort((a, b) => b.unread - a.unread)) {
      if (total <= limit) break
      total -= unread
      this.ledger.totals.backlogResets++
      this.log('%p: %s; its stream holding %d of them is reset', peer, err.message, unread)
      this.closeStream(o, err)
    }
  }

  private budgetFor (peer: string): ByteBudget {
    let b = this.perPeer.get(peer)
    if (b == null) {
      b = new ByteBudget(this.limits.maxBytesInFlightPerPeer)
      this.perPeer.set(peer, b)
    }
    return b
  }

  private serve (stream: ByteStream): void {
    const s = new ServeStream(stream, REVEAL_IDLE_MS, Date.now())
    this.streams.add(s)
    let mine = this.streamsOf.get(s.peer)
    if (mine == null) {
      mine = new Set()
      this.streamsOf.set(s.peer, mine)
    }
    mine.add(s)
    this.log('serving blocks to %p', s.peer)
    const controller = new AbortController()
    const output = new StreamOutput(this.output, s, this.budgetFor(s.peer), controller.signal)
    const run = output.run()
    stream.sink((async function * () {
      try {
        yield * run
      } finally {
        controller.abort()
      }
    })()).then(() => { this.closeStream(s) }, (err) => {
      this.closeStream(s, err)
    })
    readInput(this.input, s).catch((err) => {
      if (err instanceof BlockProtocolError) {
        this.log('%p broke the block protocol: %e', s.peer, err)
        this.network.penalize(s.peer, PROTOCOL_VIOLATION_PENALTY)
      }
      controller.abort(err)
      this.closeStream(s, err)
    })
  }

  private closeStream (s: ServeStream, err?: Error): void {
    if (s.closed) return
    s.closed = true
    this.admission.setActive(s, false)
    this.streams.delete(s)
    const mine = this.streamsOf.get(s.peer)
    mine?.delete(s)
    if (mine?.size === 0) this.streamsOf.delete(s.peer)
    s.clear()
    this.seeder.forget(s)
    this.ledger.forget(s)
    s.notify()
    s.notifyDrained()
    if (err != null) s.stream.abort(err)
    if (!this.streamsOf.has(s.peer)) this.perPeer.delete(s.peer)
    if (s.blocksSent > 0 && this.onStreamServed != null) {
      const info: ServedStream = { peer: s.peer, bytes: s.bytesSent, blocks: s.blocksSent, ended: err == null ? 'done' : 'aborted' }
      if (s.firstWanted != null) info.cid = s.firstWanted
      try {
        this.onStreamServed(info)
      } catch (e) {
        this.log('the served-stream listener threw %e', e)
      }
    }
  }
}
