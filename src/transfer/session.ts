/**
 * One download: walks the DAG of a root CID, asks every provider which blocks it has, and
 * pulls blocks from all of them at once, BitTorrent-style.
 *
 * - Each provider gets a window of outstanding WANT_BLOCKs sized by its measured rate.
 * - Internal nodes first (they reveal more blocks), then the rarest blocks (fewest known
 *   holders), ties broken at random so that many downloaders spread over the file.
 * - A block goes to the least loaded provider that has it, preferring partial holders over
 *   peers that have everything, so a first sharer uploads little more than one copy.
 * - Endgame: once every missing block is requested, idle providers duplicate the oldest
 *   outstanding requests; the first copy wins, the others are cancelled.
 * - Every block is hashed against its CID before it is stored; a provider that sends a wrong
 *   block is dropped for this download and penalized on the network.
 */
import { setMaxListeners } from 'node:events'
import * as lp from 'it-length-prefixed'
import { pushable, type Pushable } from 'it-pushable'
import type { CID } from 'multiformats/cid'
import { CustomProgressEvent } from 'progress-events'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from '../util/logger.js'
import {
  BLOCKS_PROTOCOL, BUSY_BACKOFF_MS, LATER_MS, CHUNK_SIZE, INVALID_BLOCK_PENALTY, MAX_CIDS_PER_FRAME, MAX_DUPLICATE_REQUESTS,
  MAX_FRAME_SIZE, PROTOCOL_VIOLATION_PENALTY
} from './constants.js'
import { NotFoundInSwarmError, BlockProtocolError, TransferNotStartedError, TransferTimeoutError } from './errors.js'
import { DAG_PB_CODE, decodeNode, verifyBlock } from './dag.js'
import { decodeFrame, encodeList, FrameType, type Frame, type ListFrameType } from './messages.js'
import type { BlockStore, ByteStream, TransferNetwork } from './types.js'

export interface FetchProgress {
  /** The root CID being fetched. */
  cid: string
  /** File bytes present locally (from earlier runs and this one). */
  bytes: number
  /** File size, once the root block is known. */
  total?: number
  /** Blocks present locally. */
  blocks: number
  /** Blocks of the DAG, once every internal node is known. */
  totalBlocks?: number
  /** Block bytes received over the network in this fetch (duplicates included). */
  received: number
  /** Providers currently connected for this download. */
  providers: number
  /** Receive rate over the last seconds, bytes per second. */
  rate: number
}

export interface FetchBlockProgress extends FetchProgress {
  /** The block that just arrived, and who sent it. */
  block: string
  peer: string
}

export interface FetchProviderProgress {
  cid: string
  peer: string
  /** `added`: stream open; `failed`: stream broke or stalled; `banned`: sent a wrong block. */
  status: 'added' | 'failed' | 'banned'
  reason?: string
}

export type TransferFetchEvents =
  | CustomProgressEvent<FetchProgress, 'transfer:fetch:root'>
  | CustomProgressEvent<FetchBlockProgress, 'transfer:fetch:block'>
  | CustomProgressEvent<FetchProviderProgress, 'transfer:fetch:provider'>
  | CustomProgressEvent<FetchProgress, 'transfer:fetch:complete'>

export interface SessionOptions {
  signal?: AbortSignal
  onProgress?: (evt: TransferFetchEvents) => void
  providers?: Iterable<string>
  findProviders?: (cid: string, options: { signal: AbortSignal }) => AsyncIterable<string> | Iterable<string>
  timeout: number
}

export interface SessionLimits {
  initialWindow: number
  minWindow: number
  maxWindow: number
  windowSeconds: number
  stallTimeout: number
  maxPendingWrites: number
}

export interface PeerReceived {
  bytes: number
  blocks: number
}

export interface FetchResult {
  cid: string
  /** File size in bytes. */
  size: number
  /** Blocks in the DAG. */
  blocks: number
  /** Blocks and bytes that came over the network in this fetch (0 when everything was here). */
  blocksReceived: number
  bytesReceived: number
  /** Blocks that arrived twice (endgame) or unasked. */
  duplicates: number
  /** Blocks rejected because they did not hash to their CID. */
  invalid: number
  /** Who sent what in this fetch. */
  providers: Record<string, PeerReceived>
  /** Providers dropped for sending wrong blocks. */
  banned: string[]
  /** Milliseconds from call to completion. */
  elapsed: number
}

/** Callbacks from a session into the transfer that owns it. */
export interface SessionHost {
  network: TransferNetwork
  store: BlockStore
  log: Logger
  limits: SessionLimits
  isStarted: () => boolean
  /** A block was verified and is being written: peers may be served it from memory meanwhile. */
  onVerified: (key: string, bytes: Uint8Array) => void
  /** The write of a verified block ended (stored, or failed). */
  onLanded: (key: string) => void
  /** Bytes received over the network, for the transfer's totals. */
  onReceived: (peer: string, bytes: number, duplicate: boolean, invalid: boolean) => void
}

interface Entry {
  key: string
  cid: CID
  internal: boolean
  /** Providers known to have it. */
  haveAt: Set<Provider>
  /** Providers it is requested from now, with the time of the request. */
  requested: Map<Provider, number>
  /** Providers that answered LATER, with the time they may be asked again. */
  later?: Map<Provider, number>
  /** Received, being verified and written. */
  landing: boolean
  /** File bytes this block stands for (summed over every place the DAG links it). */
  fileBytes: number
  /** Random priority among blocks of equal rarity. */
  prio: number
  isRoot: boolean
}

/** After a download, how long a provider gets to end its side of the stream before it is reset. */
const DRAIN_TIMEOUT_MS = 5_000

function deferred<T> (): { promise: Promise<T>, resolve: (value: T) => void, reject: (err: unknown) => void } {
  let settle!: { resolve: (value: T) => void, reject: (err: unknown) => void }
  const promise = new Promise<T>((resolve, reject) => { settle = { resolve, reject } })
  // a failure before anyone awaits is not an unhandled rejection: run() awaits it
  promise.catch(() => {})
  return { promise, resolve: (v) => { settle.resolve(v) }, reject: (e) => { settle.reject(e) } }
}

/** The `n` best items by `compare` (ascending), without sorting all of them. */
export function bestOf<T> (items: T[], n: number, compare: (a: T, b: T) => number): T[] {
  if (items.length <= n) return [...items].sort(compare)
  const best: T[] = []
  for (const item of items) {
    const last = best[best.length - 1]
    if (best.length === n && last != null && compare(item, last) >= 0) continue
    let i = best.length
    while (i > 0 && compare(item, best[i - 1] as T) < 0) i--
    best.splice(i, 0, item)
    if (best.length > n) best.pop()
  }
  return best
}

class Provider {
  stream?: ByteStream
  out?: Pushable<Uint8ArrayList | Uint8Array>
  state: 'connecting' | 'open' | 'closed' = 'connecting'
  banned = false
  window: number
  readonly outstanding = new Map<string, Entry>()
  haveCount = 0
  rate = 0
  lastActivity = Date.now()
  busyUntil = 0
  busyStrikes = 0
  /** Answered LATER at least once: it is serving this file to others too. */
  saidLater = false
  /** Called when its stream's source ends (the provider closed its side, or the stream broke). */
  onEnd?: () => void
  bytes = 0
  blocks = 0

  constructor (readonly peer: string, initialWindow: number) {
    this.window = initialWindow
  }

  sendList (type: ListFrameType, cids: CID[]): void {
    if (this.state !== 'open' || this.out == null) return
    for (let i = 0; i < cids.length; i += MAX_CIDS_PER_FRAME) {
      this.out.push(lp.encode.single(encodeList(type, cids.slice(i, i + MAX_CIDS_PER_FRAME))))
    }
  }
}

export class FetchSession {
  private readonly root: CID
  private readonly rootKey: string
  private readonly pending = new Map<string, Entry>()
  private readonly present = new Set<string>()
  private readonly providers = new Map<string, Provider>()
  private readonly controller = new AbortController()
  private readonly started = Date.now()
  private readonly deferred = deferred<FetchResult>()
  private finished = false
  private completed = false
  private expanding = 0
  private pendingWrites = 0
  private total?: number
  private bytesPresent = 0
  private blocksPresent = 0
  private internalPending = 0
  private found = false
  private received = 0
  private blocksReceived = 0
  private duplicates = 0
  private invalid = 0
  private readonly banned: string[] = []
  private readonly rateSamples: Array<[number, number]> = []
  private idleTimer?: ReturnType<typeof setTimeout>
  private stallTimer?: ReturnType<typeof setInterval>
  private busyTimer?: ReturnType<typeof setTimeout>
  private busyTimerAt = 0
  private readonly host: SessionHost
  private readonly options: SessionOptions

  constructor (root: CID, host: SessionHost, options: SessionOptions) {
    // every stream opened for this download listens on it (libp2p's dial), and there may be many providers
    setMaxListeners(Infinity, this.controller.signal)
    this.root = root
    this.rootKey = root.toString()
    this.host = host
    this.options = options
  }

  /** Aborts the download (transfer stopping). */
  abort (err: Error): void {
    this.fail(err)
  }

  async run (): Promise<FetchResult> {
    const signal = this.options.signal
    const onAbort = (): void => { this.fail(signal?.reason ?? new Error('aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await this.walkLocal(this.root, true)
      if (this.pending.size === 0) {
        this.complete()
        return await this.deferred.promise
      }
      this.progress('transfer:fetch:root')
      this.resetIdle()
      this.stallTimer = setInterval(() => { this.checkStalls() }, Math.max(100, Math.min(1000, this.host.limits.stallTimeout / 4)))
      this.stallTimer.unref?.()
      for (const p of this.options.providers ?? []) this.addProvider(p)
      if (this.options.findProviders != null) void this.discover()
      return await this.deferred.promise
    } catch (err) {
      this.fail(err)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      this.cleanup(this.completed)
    }
  }

  // ---- DAG bookkeeping ----

  private async discover (): Promise<void> {
    try {
      const found = this.options.findProviders?.(this.rootKey, { signal: this.controller.signal })
      if (found == null) return
      for await (const peer of found) {
        if (this.finished) break
        this.addProvider(peer)
      }
    } catch (err) {
      if (!this.finished) this.host.log('provider discovery for %s ended: %e', this.rootKey, err)
    }
  }

  /** Walks what is already stored under `cid`; missing blocks become pending entries. */
  private async walkLocal (cid: CID, isRoot: boolean, fileBytes?: number): Promise<void> {
    this.expanding++
    try {
      const stack: Array<{ cid: CID, fileBytes?: number, isRoot: boolean }> = [{ cid, fileBytes, isRoot }]
      while (stack.length > 0) {
        if (this.finished) return
        const item = stack.pop()
        if (item == null) break
        const key = item.cid.toString()
        const known = this.pending.get(key)
        if (known != null) {
          known.fileBytes += item.fileBytes ?? 0
          continue
        }
        if (this.present.has(key)) {
          if (item.cid.code !== DAG_PB_CODE) this.bytesPresent += item.fileBytes ?? 0
          continue
        }
        if (!await this.host.store.has(key)) {
          this.addEntry(item.cid, item.fileBytes ?? 0, item.isRoot)
          continue
        }
        this.present.add(key)
        this.blocksPresent++
        if (item.cid.code === DAG_PB_CODE || item.isRoot) {
          const bytes = await this.host.store.getBlock(key)
          if (bytes == null) {
            // vanished between has() and getBlock(): fetch it
            this.present.delete(key)
            this.blocksPresent--
            this.addEntry(item.cid, item.fileBytes ?? 0, item.isRoot)
            continue
          }
          const info = decodeNode(item.cid, bytes)
          if (item.isRoot) this.total = info.fileSize ?? this.total
          this.bytesPresent += info.ownBytes
          for (let i = info.children.length - 1; i >= 0; i--) {
            const child = info.children[i]
            if (child != null) stack.push({ cid: child.cid, fileBytes: child.fileBytes, isRoot: false })
          }
        } else {
          this.bytesPresent += item.fileBytes ?? 0
        }
      }
    } finally {
      this.expanding--
    }
  }

  private addEntry (cid: CID, fileBytes: number, isRoot: boolean): void {
    const key = cid.toString()
    const entry: Entry = {
      key,
      cid,
      internal: cid.code === DAG_PB_CODE,
      haveAt: new Set(),
      requested: new Map(),
      landing: false,
      fileBytes,
      prio: Math.random(),
      isRoot
    }
    if (entry.internal) this.internalPending++
    this.pending.set(key, entry)
    this.newEntries.push(cid)
  }

  /** Entries added since the providers were last told; flushed as WANT_HAVE to every open provider. */
  private newEntries: CID[] = []

  private flushWantHaves (): void {
    if (this.newEntries.length === 0) return
    const cids = this.newEntries
    this.newEntries = []
    for (const p of this.providers.values()) if (p.state === 'open') p.sendList(FrameType.WANT_HAVE, cids)
  }

  // ---- providers ----

  private addProvider (peer: string): void {
    if (this.finished || peer === this.host.network.peerId) return
    const known = this.providers.get(peer)
    if (known != null && (known.state !== 'closed' || known.banned)) return
    const p = new Provider(peer, this.host.limits.initialWindow)
    this.providers.set(peer, p)
    void this.connect(p)
  }

  private async connect (p: Provider): Promise<void> {
    let stream: ByteStream
    try {
      stream = await this.host.network.openStream(p.peer, BLOCKS_PROTOCOL, { signal: this.controller.signal })
    } catch (err: any) {
      p.state = 'closed'
      if (!this.finished) {
        this.host.log('cannot open a block stream to %p: %e', p.peer, err)
        this.emitProvider(p, 'failed', err.message)
      }
      return
    }
    if (this.finished || p.state === 'closed') {
      stream.abort(new Error('download finished'))
      return
    }
    p.stream = stream
    p.out = pushable<Uint8ArrayList | Uint8Array>({ objectMode: true })
    p.state = 'open'
    p.lastActivity = Date.now()
    this.emitProvider(p, 'added')
    stream.sink(p.out).catch((err) => { this.providerGone(p, err) })
    void this.read(p, stream)
    // ask which of the missing blocks it has; it answers now and again as it gets more
    const wants: CID[] = []
    for (const e of this.pending.values()) if (!e.landing) wants.push(e.cid)
    p.sendList(FrameType.WANT_HAVE, wants)
  }

  private async read (p: Provider, stream: ByteStream): Promise<void> {
    try {
      for await (const buf of lp.decode(stream.source, { maxDataLength: MAX_FRAME_SIZE })) {
        // after the download: keep reading (and dropping) until the provider ends its side,
        // so what it already sent does not wait forever for flow-control credit
        if (p.state === 'closed') continue
        this.onFrame(p, decodeFrame(buf))
      }
      this.providerGone(p, new Error('the provider closed the stream'))
    } catch (err: any) {
      if (err instanceof BlockProtocolError) {
        this.host.network.penalize(p.peer, PROTOCOL_VIOLATION_PENALTY)
      }
      this.providerGone(p, err)
    } finally {
      p.onEnd?.()
    }
  }

  private onFrame (p: Provider, frame: Frame): void {
    if (this.finished) return
    switch (frame.type) {
      case FrameType.BLOCK:
        void this.onBlock(p, frame.cid, frame.data)
        return
      case FrameType.HAVE:
        for (const cid of frame.cids) {
          const e = this.pending.get(cid.toString())
          if (e == null || e.haveAt.has(p)) continue
          e.haveAt.add(p)
          p.haveCount++
          if (e.isRoot) this.found = true
        }
        break
      case FrameType.DONT_HAVE:
        for (const cid of frame.cids) {
          const key = cid.toString()
          const e = p.outstanding.get(key) ?? this.pending.get(key)
          p.outstanding.delete(key)
          if (e == null) continue
          e.requested.delete(p)
          if (e.haveAt.delete(p)) p.haveCount--
        }
        break
      case FrameType.LATER: {
        p.saidLater = true
        const until = Date.now() + LATER_MS
        for (const cid of frame.cids) {
          const key = cid.toString()
          const e = p.outstanding.get(key)
          p.outstanding.delete(key)
          if (e == null) continue
          e.requested.delete(p)
          e.later ??= new Map()
          e.later.set(p, until)
        }
        this.scheduleLater(LATER_MS + 1)
        break
      }
      case FrameType.BUSY: {
        for (const cid of frame.cids) {
          const key = cid.toString()
          const e = p.outstanding.get(key)
          p.outstanding.delete(key)
          e?.requested.delete(p)
        }
        p.busyStrikes = Math.min(p.busyStrikes + 1, 4)
        p.busyUntil = Date.now() + BUSY_BACKOFF_MS * 2 ** (p.busyStrikes - 1)
        break
      }
      default:
        return // requests and unknown frames mean nothing to a requester
    }
    this.schedule()
  }

  private async onBlock (p: Provider, cid: CID, data: Uint8Array): Promise<void> {
    const key = cid.toString()
    const now = Date.now()
    const asked = p.outstanding.get(key)
    p.outstanding.delete(key)
    this.received += data.byteLength
    this.recordRate(now, data.byteLength)
    if (asked != null) {
      this.updateRate(p, now, data.byteLength)
      p.busyStrikes = 0
    }
    p.lastActivity = now
    const e = this.pending.get(key)
    if (e == null || e.landing) {
      this.duplicates++
      e?.requested.delete(p)
      this.host.onReceived(p.peer, data.byteLength, true, false)
      this.schedule()
      return
    }
    e.landing = true
    e.requested.delete(p)
    this.pendingWrites++
    try {
      const ok = await verifyBlock(cid, data)
      if (this.finished) return
      if (p.banned) {
        // dropped while this block was being checked: nothing from a liar is used
        e.landing = false
        this.duplicates++
        return
      }
      if (!ok) {
        this.invalid++
        this.host.onReceived(p.peer, data.byteLength, false, true)
        e.landing = false
        this.ban(p, key)
        return
      }
      this.host.onReceived(p.peer, data.byteLength, false, false)
      p.bytes += data.byteLength
      p.blocks++
      this.blocksReceived++
      // the first copy wins: cancel it everywhere else
      for (const other of e.requested.keys()) {
        other.outstanding.delete(key)
        other.sendList(FrameType.CANCEL, [cid])
      }
      e.requested.clear()
      let info: ReturnType<typeof decodeNode> | undefined
      if (e.internal || e.isRoot) info = decodeNode(cid, data)
      this.host.onVerified(key, data)
      try {
        await this.host.store.putBlock(key, data)
      } finally {
        this.host.onLanded(key)
      }
      if (this.finished) return
      this.pending.delete(key)
      for (const holder of e.haveAt) holder.haveCount--
      this.present.add(key)
      if (e.internal) this.internalPending--
      this.blocksPresent++
      if (info != null) {
        if (e.isRoot) this.total = info.fileSize ?? data.byteLength
        this.bytesPresent += info.ownBytes
        this.expanding++
        try {
          for (const child of info.children) await this.walkLocal(child.cid, false, child.fileBytes)
        } finally {
          this.expanding--
        }
        if (e.isRoot) this.progress('transfer:fetch:root')
      } else {
        this.bytesPresent += e.fileBytes
      }
      this.resetIdle()
      this.options.onProgress?.(new CustomProgressEvent('transfer:fetch:block', { ...this.snapshot(), block: key, peer: p.peer }))
    } catch (err) {
      this.fail(err)
      return
    } finally {
      this.pendingWrites--
    }
    this.flushWantHaves()
    this.schedule()
    if (this.pending.size === 0 && this.pendingWrites === 0 && this.expanding === 0) this.complete()
  }

  private updateRate (p: Provider, now: number, bytes: number): void {
    const dt = Math.max(1, now - p.lastActivity) / 1000
    const sample = bytes / dt
    p.rate = p.rate === 0 ? sample : p.rate * 0.75 + sample * 0.25
    const { minWindow, maxWindow, windowSeconds } = this.host.limits
    p.window = Math.max(minWindow, Math.min(maxWindow, Math.ceil(p.rate * windowSeconds / CHUNK_SIZE) + 1))
  }

  private recordRate (now: number, bytes: number): void {
    this.rateSamples.push([now, bytes])
    while (this.rateSamples.length > 0 && (this.rateSamples[0]?.[0] ?? now) < now - 2000) this.rateSamples.shift()
  }

  private rate (): number {
    const first = this.rateSamples[0]
    if (first == null) return 0
    const span = Math.max(250, Date.now() - first[0]) / 1000
    let sum = 0
    for (const [, b] of this.rateSamples) sum += b
    return sum / span
  }

  /** Drops a provider that sent a wrong block: no more requests to it in this download. */
  private ban (p: Provider, key: string): void {
    if (p.banned) return
    p.banned = true
    this.banned.push(p.peer)
    this.host.log('%p sent a block that does not hash to %s: dropped from this download', p.peer, key)
    this.host.network.penalize(p.peer, INVALID_BLOCK_PENALTY)
    this.emitProvider(p, 'banned', `sent a wrong block for ${key}`)
    this.providerGone(p, new Error('sent a block that does not match its CID'), true)
  }

  private providerGone (p: Provider, err: Error, quiet = false): void {
    if (p.state === 'closed') return
    const wasOpen = p.state === 'open'
    p.state = 'closed'
    for (const e of p.outstanding.values()) e.requested.delete(p)
    p.outstanding.clear()
    if (p.haveCount > 0) {
      for (const e of this.pending.values()) e.haveAt.delete(p)
      p.haveCount = 0
    }
    p.out?.end()
    p.stream?.abort(err)
    if (!this.finished && wasOpen) {
      this.host.log('provider %p gone: %s', p.peer, err.message)
      if (!quiet) this.emitProvider(p, 'failed', err.message)
    }
    this.schedule()
  }

  private checkStalls (): void {
    const now = Date.now()
    for (const p of this.providers.values()) {
      if (p.state === 'open' && p.outstanding.size > 0 && now - p.lastActivity > this.host.limits.stallTimeout) {
        this.providerGone(p, new Error(`no block for ${this.host.limits.stallTimeout} ms`))
      }
    }
  }

  // ---- scheduling ----

  private scheduleLater (ms: number): void {
    if (this.finished) return
    const at = Date.now() + ms
    if (this.busyTimer != null) {
      if (this.busyTimerAt <= at) return
      clearTimeout(this.busyTimer)
    }
    this.busyTimerAt = at
    this.busyTimer = setTimeout(() => {
      this.busyTimer = undefined
      this.schedule()
    }, ms)
    this.busyTimer.unref?.()
  }

  private schedule (): void {
    if (this.finished) return
    if (!this.host.isStarted()) {
      this.fail(new TransferNotStartedError())
      return
    }
    if (this.pendingWrites >= this.host.limits.maxPendingWrites) return
    const now = Date.now()
    const free = new Map<Provider, number>()
    let totalFree = 0
    // no provider holds more than its share of what is missing: the ones that answer first
    // must not take everything before the others have said what they have
    let live = 0
    for (const p of this.providers.values()) if (p.state !== 'closed') live++
    const share = Math.max(this.host.limits.minWindow, Math.ceil(this.pending.size / Math.max(1, live)))
    for (const p of this.providers.values()) {
      if (p.state !== 'open') continue
      if (p.busyUntil > now) {
        this.scheduleLater(p.busyUntil - now + 1)
        continue
      }
      const n = Math.min(p.window, share) - p.outstanding.size
      if (n > 0) {
        free.set(p, n)
        totalFree += n
      }
    }
    if (totalFree === 0) return
    const batches = new Map<Provider, CID[]>()
    const assign = (e: Entry, p: Provider): void => {
      e.requested.set(p, now)
      p.outstanding.set(e.key, e)
      if (p.outstanding.size === 1) p.lastActivity = now
      const left = (free.get(p) ?? 0) - 1
      if (left > 0) free.set(p, left)
      else free.delete(p)
      totalFree--
      let batch = batches.get(p)
      if (batch == null) {
        batch = []
        batches.set(p, batch)
      }
      batch.push(e.cid)
    }
    const pick = (e: Entry, exclude?: Map<Provider, number>): Provider | undefined => {
      let best: Provider | undefined
      let bestLoad = Infinity
      for (const p of e.haveAt) {
        if (exclude?.has(p) === true) continue
        const later = e.later?.get(p)
        if (later != null) {
          // it said: ask the others first. Wait while another holder is known, else LATER_MS
          if (later > now) continue
          let other = false
          for (const q of e.haveAt) {
            if (q !== p && q.state === 'open' && e.later?.has(q) !== true) {
              other = true
              break
            }
          }
          if (other) continue
        }
        if (!free.has(p)) continue
        // a provider that said LATER serves many peers (a first sharer): the others come first.
        // Then fewest outstanding (every provider gets a share from the start), the faster on
        // ties; fast providers still end up with more, as they free their slots sooner
        const load = (p.saidLater ? 1_000 : 0) + p.outstanding.size
        if (best == null || load < bestLoad || (load === bestLoad && p.rate > best.rate)) {
          best = p
          bestLoad = load
        }
      }
      return best
    }

    // 1. blocks nobody is asked for, best first: internal nodes, rarest, random
    const candidates: Entry[] = []
    let unrequested = 0
    for (const e of this.pending.values()) {
      if (e.landing || e.requested.size > 0) continue
      unrequested++
      let holders = false
      for (const p of e.haveAt) {
        if (free.has(p)) {
          holders = true
          break
        }
      }
      if (holders) candidates.push(e)
    }
    if (candidates.length > 0) {
      const better = (a: Entry, b: Entry): number =>
        (Number(b.internal) - Number(a.internal)) || (a.haveAt.size - b.haveAt.size) || (a.prio - b.prio)
      // a few slots are free per event while thousands of blocks may be missing: try the best
      // few first (a bounded selection), and sort everything only if slots are still free
      const few = bestOf(candidates, totalFree * 4, better)
      for (const e of few) {
        if (totalFree === 0) break
        const p = pick(e)
        if (p != null) assign(e, p)
      }
      if (totalFree > 0 && few.length < candidates.length) {
        candidates.sort(better)
        for (const e of candidates) {
          if (totalFree === 0) break
          if (e.requested.size > 0) continue
          const p = pick(e)
          if (p != null) assign(e, p)
        }
      }
    }

    // 2. endgame: everything is requested; idle providers duplicate the oldest requests
    if (unrequested === 0 && totalFree > 0) {
      const outstanding = [...this.pending.values()]
        .filter(e => !e.landing && e.requested.size > 0 && e.requested.size < MAX_DUPLICATE_REQUESTS)
        .sort((a, b) => Math.min(...a.requested.values()) - Math.min(...b.requested.values()))
      for (const e of outstanding) {
        if (totalFree === 0) break
        const p = pick(e, e.requested)
        if (p != null) assign(e, p)
      }
    }

    for (const [p, cids] of batches) p.sendList(FrameType.WANT_BLOCK, cids)
  }

  // ---- progress, completion, failure ----

  private snapshot (): FetchProgress {
    let open = 0
    for (const p of this.providers.values()) if (p.state === 'open') open++
    const s: FetchProgress = {
      cid: this.rootKey,
      bytes: this.bytesPresent,
      blocks: this.blocksPresent,
      received: this.received,
      providers: open,
      rate: this.rate()
    }
    if (this.total != null) s.total = this.total
    if (this.internalPending === 0 && this.expanding === 0 && this.present.has(this.rootKey)) s.totalBlocks = this.blocksPresent + this.pending.size
    return s
  }

  private progress (type: 'transfer:fetch:root' | 'transfer:fetch:complete'): void {
    this.options.onProgress?.(new CustomProgressEvent(type, this.snapshot()))
  }

  private emitProvider (p: Provider, status: FetchProviderProgress['status'], reason?: string): void {
    const detail: FetchProviderProgress = { cid: this.rootKey, peer: p.peer, status }
    if (reason != null) detail.reason = reason
    this.options.onProgress?.(new CustomProgressEvent('transfer:fetch:provider', detail))
  }

  private resetIdle (): void {
    if (this.idleTimer != null) clearTimeout(this.idleTimer)
    const timeout = this.options.timeout
    this.idleTimer = setTimeout(() => {
      if (this.finished) return
      const asked = [...this.providers.values()].length
      if (!this.found && !this.present.has(this.rootKey)) this.fail(new NotFoundInSwarmError(this.rootKey, timeout, asked))
      else this.fail(new TransferTimeoutError(this.rootKey, timeout, this.pending.size))
    }, timeout)
  }

  private complete (): void {
    if (this.finished) return
    this.progress('transfer:fetch:complete')
    this.finished = true
    this.completed = true
    const providers: Record<string, PeerReceived> = {}
    for (const p of this.providers.values()) if (p.blocks > 0) providers[p.peer] = { bytes: p.bytes, blocks: p.blocks }
    this.deferred.resolve({
      cid: this.rootKey,
      size: this.total ?? 0,
      blocks: this.blocksPresent,
      blocksReceived: this.blocksReceived,
      bytesReceived: this.received,
      duplicates: this.duplicates,
      invalid: this.invalid,
      providers,
      banned: [...this.banned],
      elapsed: Date.now() - this.started
    })
  }

  private fail (err: unknown): void {
    if (this.finished) return
    this.finished = true
    this.deferred.reject(err)
  }

  private cleanup (completed: boolean): void {
    this.finished = true
    if (this.idleTimer != null) clearTimeout(this.idleTimer)
    if (this.stallTimer != null) clearInterval(this.stallTimer)
    if (this.busyTimer != null) clearTimeout(this.busyTimer)
    this.controller.abort(new Error('download finished'))
    for (const p of this.providers.values()) {
      if (p.state !== 'open') {
        p.state = 'closed'
        continue
      }
      p.state = 'closed'
      const outstanding = [...p.outstanding.values()].map(e => e.cid)
      if (outstanding.length > 0) {
        for (let i = 0; i < outstanding.length; i += MAX_CIDS_PER_FRAME) {
          p.out?.push(lp.encode.single(encodeList(FrameType.CANCEL, outstanding.slice(i, i + MAX_CIDS_PER_FRAME))))
        }
      }
      p.outstanding.clear()
      const stream = p.stream
      if (!completed) {
        p.out?.end()
        stream?.abort(new Error('download stopped'))
        continue
      }
      // end our side; the provider answers what it still had (cancelled: nothing) and ends
      // its side, which the read loop waits for, dropping what comes; give up after a while
      const timer = setTimeout(() => { stream?.abort(new Error('the provider did not close the stream')) }, DRAIN_TIMEOUT_MS)
      timer.unref?.()
      p.onEnd = () => { clearTimeout(timer) }
      p.out?.end()
    }
  }
}
