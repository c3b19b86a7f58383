/**
 * The serving side of `/swarmdrop/blocks/1.0.0`: answers WANT_HAVE / WANT_BLOCK from the
 * store, within limits on streams and on bytes held in memory (per peer and in total).
 */
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from '../node/logger.js'
import { ByteBudget } from './budget.js'
import { BLOCKS_PROTOCOL, CHUNK_SIZE, MAX_CIDS_PER_FRAME, MAX_FRAME_SIZE, PROTOCOL_VIOLATION_PENALTY } from './constants.js'
import { ProtocolError } from './errors.js'
import { verifyBlock } from './dag.js'
import { decodeFrame, encodeBlock, encodeList, FrameType, type ListFrameType } from './messages.js'
import type { BlockStore, ByteStream, TransferNetwork } from './types.js'

export interface ServerLimits {
  maxStreamsPerPeer: number
  maxActiveStreams: number
  maxBytesInFlightPerPeer: number
  maxBytesInFlight: number
  maxQueuedPerStream: number
  maxHaveSubscriptions: number
}

export interface PeerCounters {
  bytes: number
  blocks: number
}

export interface ServerStats {
  /** Block bytes and blocks sent, in total and per peer. */
  bytes: number
  blocks: number
  byPeer: Record<string, PeerCounters>
  /** Streams open on the protocol now, and those with blocks queued or being sent. */
  streams: number
  activeStreams: number
  /** Block bytes read from the store and not yet handed to the muxer. */
  bytesInFlight: number
  /** WANT_BLOCKs answered BUSY. */
  busy: number
}

function chunk<T> (items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** One inbound stream: a queue of wanted blocks, remembered want-haves, control frames to send. */
class ServeStream {
  readonly queue: CID[] = []
  readonly queued = new Set<string>()
  readonly subscriptions = new Map<string, CID>()
  readonly control: Uint8ArrayList[] = []
  active = false
  inputEnded = false
  closed = false
  private wake?: () => void

  constructor (readonly stream: ByteStream) {}

  get peer (): string {
    return this.stream.remotePeer
  }

  notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  async idle (): Promise<void> {
    await new Promise<void>(resolve => { this.wake = resolve })
  }

  sendList (type: ListFrameType, cids: CID[]): void {
    for (const part of chunk(cids, MAX_CIDS_PER_FRAME)) this.control.push(lp.encode.single(encodeList(type, part)))
    this.notify()
  }
}

export class BlockServer {
  private readonly streams = new Set<ServeStream>()
  private readonly total: ByteBudget
  private readonly perPeer = new Map<string, ByteBudget>()
  private readonly counters = new Map<string, PeerCounters>()
  private served = { bytes: 0, blocks: 0, busy: 0 }
  private activeStreams = 0
  private started = false

  constructor (
    private readonly network: TransferNetwork,
    private readonly store: BlockStore,
    private readonly limits: ServerLimits,
    private readonly log: Logger
  ) {
    this.total = new ByteBudget(limits.maxBytesInFlight)
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.network.handle(BLOCKS_PROTOCOL, (stream) => { this.serve(stream) }, {
      maxInboundStreams: this.limits.maxStreamsPerPeer
    })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.network.unhandle(BLOCKS_PROTOCOL).catch(() => {})
    for (const s of this.streams) this.closeStream(s, new Error('the node is stopping'))
  }

  stats (): ServerStats {
    const byPeer: Record<string, PeerCounters> = {}
    for (const [peer, c] of this.counters) byPeer[peer] = { ...c }
    return {
      bytes: this.served.bytes,
      blocks: this.served.blocks,
      busy: this.served.busy,
      byPeer,
      streams: this.streams.size,
      activeStreams: this.activeStreams,
      bytesInFlight: this.total.inUse
    }
  }

  /** A block just landed in the store: tell the streams that asked for it with WANT_HAVE. */
  notifyStored (key: string): void {
    for (const s of this.streams) {
      const cid = s.subscriptions.get(key)
      if (cid == null) continue
      s.subscriptions.delete(key)
      s.sendList(FrameType.HAVE, [cid])
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

  private setActive (s: ServeStream, active: boolean): void {
    if (s.active === active) return
    s.active = active
    this.activeStreams += active ? 1 : -1
  }

  private serve (stream: ByteStream): void {
    const s = new ServeStream(stream)
    this.streams.add(s)
    this.log('serving blocks to %p', s.peer)
    const controller = new AbortController()
    const output = this.output(s, controller.signal)
    stream.sink(output).catch((err) => {
      this.closeStream(s, err)
    })
    this.readInput(s).catch((err) => {
      if (err instanceof ProtocolError) {
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
    this.setActive(s, false)
    this.streams.delete(s)
    s.queue.length = 0
    s.queued.clear()
    s.subscriptions.clear()
    s.notify()
    if (err != null) s.stream.abort(err)
    if (![...this.streams].some(o => o.peer === s.peer)) this.perPeer.delete(s.peer)
  }

  private async readInput (s: ServeStream): Promise<void> {
    for await (const buf of lp.decode(s.stream.source, { maxDataLength: MAX_FRAME_SIZE })) {
      if (s.closed) return
      const frame = decodeFrame(buf)
      if (frame.type === FrameType.WANT_HAVE) {
        const have: CID[] = []
        for (const cid of frame.cids) {
          const key = cid.toString()
          if (await this.store.has(key)) {
            have.push(cid)
          } else if (s.subscriptions.size < this.limits.maxHaveSubscriptions) {
            s.subscriptions.set(key, cid)
          }
        }
        if (have.length > 0) s.sendList(FrameType.HAVE, have)
      } else if (frame.type === FrameType.WANT_BLOCK) {
        this.enqueue(s, frame.cids)
      } else if (frame.type === FrameType.CANCEL) {
        for (const cid of frame.cids) {
          const key = cid.toString()
          s.queued.delete(key)
          s.subscriptions.delete(key)
        }
      }
      // other frame types are answers, meaningless here; unknown types are ignored (forward compatibility)
    }
    s.inputEnded = true
    s.notify()
  }

  private enqueue (s: ServeStream, cids: CID[]): void {
    const busy: CID[] = []
    if (!s.active && this.activeStreams >= this.limits.maxActiveStreams) {
      busy.push(...cids)
    } else {
      for (const cid of cids) {
        const key = cid.toString()
        s.subscriptions.delete(key)
        if (s.queued.has(key)) continue
        if (s.queued.size >= this.limits.maxQueuedPerStream) {
          busy.push(cid)
          continue
        }
        s.queued.add(key)
        s.queue.push(cid)
      }
      if (s.queue.length > 0) this.setActive(s, true)
    }
    if (busy.length > 0) {
      this.served.busy += busy.length
      s.sendList(FrameType.BUSY, busy)
    }
    s.notify()
  }

  /**
   * Reads one block within the budgets and checks it against its CID (on the thread pool).
   * A block that fails the check is read again with the store's own verification, so the
   * store can set it aside, and is answered DONT_HAVE.
   */
  private async load (s: ServeStream, cid: CID, peerBudget: ByteBudget, signal: AbortSignal): Promise<Loaded> {
    const key = cid.toString()
    let reserved = CHUNK_SIZE
    await peerBudget.acquire(reserved, signal)
    try {
      await this.total.acquire(reserved, signal)
    } catch (err) {
      peerBudget.release(reserved)
      throw err
    }
    const release = (): void => {
      peerBudget.release(reserved)
      this.total.release(reserved)
    }
    let bytes: Uint8Array | undefined
    try {
      if (s.queued.has(key)) {
        bytes = await this.store.getBlock(key, { verify: false }) ?? undefined
        if (bytes != null && !await verifyBlock(cid, bytes)) {
          this.log.error('block %s in the store does not match its CID; not serving it', key)
          await this.store.getBlock(key, { verify: true }).catch(() => {})
          bytes = undefined
        }
      }
    } catch {
      bytes = undefined
    }
    if (bytes != null) {
      peerBudget.adjust(bytes.byteLength - reserved)
      this.total.adjust(bytes.byteLength - reserved)
      reserved = bytes.byteLength
    }
    return bytes != null ? { cid, key, bytes, release } : { cid, key, release }
  }

  /**
   * The frames sent on a stream: control frames first, then blocks in order, the next one
   * read while the current one is being sent.
   */
  private async * output (s: ServeStream, signal: AbortSignal): AsyncGenerator<Uint8ArrayList> {
    const peerBudget = this.budgetFor(s.peer)
    let loading: Promise<Loaded> | undefined
    const startNext = (): void => {
      while (loading == null) {
        const cid = s.queue.shift()
        if (cid == null) return
        if (!s.queued.has(cid.toString())) continue // cancelled
        loading = this.load(s, cid, peerBudget, signal)
        loading.catch(() => {}) // awaited below; a stream closing meanwhile is not an unhandled rejection
      }
    }
    try {
      while (!s.closed) {
        const control = s.control.shift()
        if (control != null) {
          yield control
          continue
        }
        startNext()
        if (loading != null) {
          const item = await loading
          loading = undefined
          startNext()
          try {
            const wanted = s.queued.delete(item.key)
            if (!wanted) continue
            if (item.bytes == null) {
              yield lp.encode.single(encodeList(FrameType.DONT_HAVE, [item.cid]))
              continue
            }
            const c = this.counters.get(s.peer) ?? { bytes: 0, blocks: 0 }
            c.bytes += item.bytes.byteLength
            c.blocks++
            this.counters.set(s.peer, c)
            this.served.bytes += item.bytes.byteLength
            this.served.blocks++
            // resumes once the muxer took the frame: only then are the bytes out of our hands
            yield lp.encode.single(encodeBlock(item.cid, item.bytes))
          } finally {
            item.release()
          }
          continue
        }
        this.setActive(s, false)
        if (s.inputEnded) break
        await s.idle()
      }
    } finally {
      if (loading != null) {
        const pendingLoad = loading
        pendingLoad.then((item) => { item.release() }, () => {})
      }
      this.closeStream(s)
    }
  }
}

interface Loaded {
  cid: CID
  key: string
  bytes?: Uint8Array
  release: () => void
}
