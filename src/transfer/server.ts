/**
 * The serving side of `/swarmdrop/blocks/1.0.0`: answers WANT_HAVE / WANT_BLOCK from the
 * store, within limits on streams and on bytes held in memory (per peer and in total).
 */
import * as lp from 'it-length-prefixed'
import type { CID } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from '../util/logger.js'
import { ByteBudget } from './budget.js'
import { BLOCKS_PROTOCOL, CHUNK_SIZE, MAX_CIDS_PER_FRAME, MAX_CONTROL_FRAMES_PER_STREAM, MAX_FRAME_SIZE, PROTOCOL_VIOLATION_PENALTY, READ_AHEAD, REVEAL_IDLE_MS, REVEAL_MAX, REVEAL_MIN } from './constants.js'
import { BlockProtocolError } from './errors.js'
import { verifyBytes } from '../content/index.js'
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
  /** WANT_BLOCKs answered LATER (another connected peer got the block from us). */
  later: number
  /** Blocks sent while another connected peer had already got them from us. */
  again: number
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
  /** Blocks this peer asked about that we have but have not revealed yet (super-seeding). */
  readonly hidden = new Map<string, CID>()
  /** Blocks sent to this peer, and blocks answered LATER (each is answered LATER once). */
  readonly servedHere = new Set<string>()
  readonly deferredHere = new Set<string>()
  /** Blocks revealed to this peer (their counts drop when the stream closes). */
  readonly revealedHere = new Set<string>()
  revealTimer?: ReturnType<typeof setTimeout>
  revealDelay = REVEAL_IDLE_MS
  readonly control: Uint8ArrayList[] = []
  active = false
  inputEnded = false
  closed = false
  private wake?: () => void
  private drained?: () => void

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

  /** The output took a control frame (or the stream closed): the input may read on. */
  notifyDrained (): void {
    const drained = this.drained
    this.drained = undefined
    drained?.()
  }

  async backlogged (): Promise<void> {
    await new Promise<void>(resolve => { this.drained = resolve })
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
  private readonly served = { bytes: 0, blocks: 0, busy: 0, later: 0, again: 0 }
  private activeStreams = 0
  /** How many peers each block was revealed to (super-seeding). */
  private readonly revealed = new Map<string, number>()
  /** How many open streams each block was sent to. */
  private readonly servedTo = new Map<string, number>()
  private started = false

  constructor (
    private readonly network: TransferNetwork,
    private readonly store: BlockStore,
    /** Verified blocks on their way into the store (served from memory meanwhile). */
    private readonly landing: ReadonlyMap<string, Uint8Array>,
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
      later: this.served.later,
      again: this.served.again,
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

  /**
   * Super-seeding: of the blocks a peer asks about, reveal (HAVE) only a share, blocks revealed
   * to no other open stream first, so that peers downloading the same file at once get
   * different blocks from us and trade the rest among themselves. One more block revealed to
   * nobody else is revealed per block served; when the peer has asked us for nothing for a
   * while (REVEAL_IDLE_MS, doubling up to 16x), another share, already revealed ones included
   * (it may be stuck without us). A lone downloader sees up to REVEAL_MAX blocks ahead.
   */
  private revealBatch (s: ServeStream): number {
    const share = Math.ceil(s.hidden.size / Math.max(1, this.streams.size))
    return Math.max(REVEAL_MIN, Math.min(REVEAL_MAX, share))
  }

  private reveal (s: ServeStream, n: number, onlyNovel = false): void {
    if (n <= 0 || s.hidden.size === 0 || s.closed) return
    let picked: Array<[string, CID, number]> = []
    if (n >= s.hidden.size && !onlyNovel) {
      picked = [...s.hidden].map(([k, c]) => [k, c, 0])
    } else {
      for (const [key, cid] of s.hidden) {
        const count = this.revealed.get(key) ?? 0
        if (onlyNovel && count > 0) continue
        const score = count + Math.random() * 0.5
        if (picked.length < n) {
          picked.push([key, cid, score])
          picked.sort((a, b) => a[2] - b[2])
        } else if (score < (picked[picked.length - 1]?.[2] ?? Infinity)) {
          picked[picked.length - 1] = [key, cid, score]
          picked.sort((a, b) => a[2] - b[2])
        }
      }
    }
    if (picked.length === 0) return
    for (const [key] of picked) {
      s.hidden.delete(key)
      s.revealedHere.add(key)
      this.revealed.set(key, (this.revealed.get(key) ?? 0) + 1)
    }
    s.sendList(FrameType.HAVE, picked.map(([, cid]) => cid))
  }

  private armReveal (s: ServeStream): void {
    if (s.hidden.size === 0 || s.revealTimer != null) return
    s.revealTimer = setTimeout(() => {
      s.revealTimer = undefined
      if (s.closed || s.queue.length > 0 || s.active) return
      this.reveal(s, this.revealBatch(s))
      s.revealDelay = Math.min(s.revealDelay * 2, REVEAL_IDLE_MS * 16)
      this.armReveal(s)
    }, s.revealDelay)
    s.revealTimer.unref?.()
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
    this.setActive(s, false)
    this.streams.delete(s)
    s.queue.length = 0
    s.queued.clear()
    s.subscriptions.clear()
    s.hidden.clear()
    if (s.revealTimer != null) clearTimeout(s.revealTimer)
    for (const key of s.revealedHere) {
      const n = (this.revealed.get(key) ?? 1) - 1
      if (n <= 0) this.revealed.delete(key)
      else this.revealed.set(key, n)
    }
    s.revealedHere.clear()
    for (const key of s.servedHere) {
      const n = (this.servedTo.get(key) ?? 1) - 1
      if (n <= 0) this.servedTo.delete(key)
      else this.servedTo.set(key, n)
    }
    s.servedHere.clear()
    s.deferredHere.clear()
    s.notify()
    s.notifyDrained()
    if (err != null) s.stream.abort(err)
    if (![...this.streams].some(o => o.peer === s.peer)) this.perPeer.delete(s.peer)
  }

  private async readInput (s: ServeStream): Promise<void> {
    for await (const buf of lp.decode(s.stream.source, { maxDataLength: MAX_FRAME_SIZE })) {
      // a peer that does not read our answers is not read either, so they cannot pile up
      while (s.control.length >= MAX_CONTROL_FRAMES_PER_STREAM && !s.closed) await s.backlogged()
      if (s.closed) return
      const frame = decodeFrame(buf)
      if (frame.type === FrameType.WANT_HAVE) {
        const have: CID[] = []
        let lacking = false
        // the store's has() is a file-system call: ask for the whole frame at once
        const present = await Promise.all(frame.cids.map(async cid => this.landing.has(cid.toString()) || await this.store.has(cid.toString()).catch(() => false)))
        if (s.closed) return
        frame.cids.forEach((cid, i) => {
          const key = cid.toString()
          if (present[i] === true) {
            have.push(cid)
          } else {
            lacking = true
            if (s.subscriptions.size < this.limits.maxHaveSubscriptions) s.subscriptions.set(key, cid)
          }
        })
        if (lacking) {
          // a downloader itself: everything it has is news, tell it all
          if (have.length > 0) s.sendList(FrameType.HAVE, have)
        } else {
          // a complete copy: super-seed
          for (const cid of have) s.hidden.set(cid.toString(), cid)
          s.revealDelay = REVEAL_IDLE_MS
          this.reveal(s, this.revealBatch(s))
        }
      } else if (frame.type === FrameType.WANT_BLOCK) {
        this.enqueue(s, frame.cids)
      } else if (frame.type === FrameType.CANCEL) {
        for (const cid of frame.cids) {
          const key = cid.toString()
          s.queued.delete(key)
          s.subscriptions.delete(key)
          s.hidden.delete(key)
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
        s.hidden.delete(key)
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
   * Reads one block within the budgets and checks it against its CID.
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
      bytes = this.landing.get(key)
      if (bytes == null && s.queued.has(key)) {
        bytes = await this.store.getBlock(key, { verify: false }) ?? undefined
        if (bytes != null && !verifyBytes(cid as unknown as Parameters<typeof verifyBytes>[0], bytes)) {
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
   * The frames sent on a stream: control frames first, then blocks in order, the next
   * READ_AHEAD read (and verified) while the current one is being sent.
   */
  private async * output (s: ServeStream, signal: AbortSignal): AsyncGenerator<Uint8ArrayList> {
    const peerBudget = this.budgetFor(s.peer)
    // blocks being read (and verified) ahead of the one being sent, in queue order
    const loading: Array<Promise<Loaded>> = []
    const later: CID[] = []
    const startNext = (): void => {
      while (loading.length < READ_AHEAD) {
        const cid = s.queue.shift()
        if (cid == null) return
        const key = cid.toString()
        if (!s.queued.has(key)) continue // cancelled
        if ((this.servedTo.get(key) ?? 0) > 0 && !s.servedHere.has(key) && !s.deferredHere.has(key)) {
          // another connected peer got it from us: let this one get it there
          s.queued.delete(key)
          s.deferredHere.add(key)
          later.push(cid)
          continue
        }
        const load = this.load(s, cid, peerBudget, signal)
        load.catch(() => {}) // awaited below; a stream closing meanwhile is not an unhandled rejection
        loading.push(load)
      }
    }
    try {
      while (!s.closed) {
        const control = s.control.shift()
        if (control != null) {
          yield control
          s.notifyDrained()
          continue
        }
        startNext()
        if (later.length > 0) {
          this.served.later += later.length
          yield lp.encode.single(encodeList(FrameType.LATER, later.splice(0, MAX_CIDS_PER_FRAME)))
          continue
        }
        const next = loading.shift()
        if (next != null) {
          const item = await next
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
            if ((this.servedTo.get(item.key) ?? 0) > 0) this.served.again++
            if (!s.servedHere.has(item.key)) {
              s.servedHere.add(item.key)
              this.servedTo.set(item.key, (this.servedTo.get(item.key) ?? 0) + 1)
            }
            // resumes once the muxer took the frame: only then are the bytes out of our hands
            yield lp.encode.single(encodeBlock(item.cid, item.bytes))
            if (s.hidden.size > 0) this.reveal(s, 1, true)
          } finally {
            item.release()
          }
          continue
        }
        this.setActive(s, false)
        if (s.inputEnded) break
        this.armReveal(s)
        await s.idle()
      }
    } finally {
      for (const pendingLoad of loading.splice(0)) pendingLoad.then((item) => { item.release() }, () => {})
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
