/**
 * Replication (`createSwarmNode({ replicate: true })`, `swarmdrop start --replicate`):
 * fetch and pin every file another peer announces, each once, REPLICATE_CONCURRENCY at a
 * time. The queue is fair by announcer: files are taken from each announcing peer in turn,
 * so a peer that announces a thousand files nobody serves (each waits out the fetch timeout)
 * delays another peer's file by at most one round, not by a thousand timeouts. A failed file
 * is retried when it is announced again, or when a peer the catalog names as its provider
 * connects (a sharer that left mid-fetch and came back: its catalog entry outlived the outage,
 * so no new announcement says so). Started and stopped with the node.
 */
import type { SwarmProtocol, SwarmProtocolEvents } from '../pubsub/index.js'
import type { Store } from '../storage/index.js'
import type { FetchResult, TransferFetchEvents } from '../transfer/index.js'
import type { Logger } from '../util/logger.js'
import { StoreLimitError } from './errors.js'
import { setNewest } from '../util/newest-map.js'

/** Files fetched at once by a replica: a few slow or bait files do not stop the others. */
export const REPLICATE_CONCURRENCY = 3

/** Failed files kept for a retry when a provider of theirs connects; the oldest failure goes first. */
export const MAX_FAILED_KEPT = 1024

interface Item { cid: string, name: string }

export interface ReplicationEvents {
  /** A file is being fetched to be kept. */
  'replicate:start': { cid: string, name: string }
  /** Blocks arrived: `bytes` of `total` present here, from `providers` peers (at most one event per block). */
  'replicate:progress': { cid: string, name: string, bytes: number, total?: number, providers: number }
  /** It is complete and pinned here. */
  /** `size`: the file's or folder's size; `received`: the bytes that came over the network (less when it resumed). */
  'replicate:done': { cid: string, name: string, size: number, received: number, elapsed: number }
  /** It could not be fetched; a later announcement, or a provider of it that connects, retries. */
  'replicate:failed': { cid: string, name: string, error: Error }
}

export interface ReplicatorComponents {
  peerId: () => string
  store: () => Store
  protocol: SwarmProtocol
  fetch: (cid: string, options: { signal: AbortSignal, onProgress?: (evt: TransferFetchEvents) => void }) => Promise<FetchResult>
  emit: <K extends keyof ReplicationEvents>(type: K, detail: ReplicationEvents[K]) => void
  log: Logger
  /** Calls `listener` with each peer that connects; returns what stops it. */
  onPeerConnect: (listener: (peer: string) => void) => () => void
  /** Most bytes the store may hold: a file that would take it over is not fetched (default: no limit). */
  maxStoreBytes?: number
}

export class Replicator {
  private readonly c: ReplicatorComponents
  /** Files to fetch, by the peer that announced them; `turns` is the order peers are served in. */
  private queues = new Map<string, Item[]>()
  private turns: string[] = []
  /**
   * Files queued or being fetched: each is queued once however often it is announced. A file
   * leaves it when it is stored (announced again, the store has it: it is pinned, not fetched)
   * or failed (a later announcement retries), so it holds no more than the queue.
   */
  private readonly seen = new Set<string>()
  /** Files that failed for want of a provider, by CID (oldest first), with their names: retried when one connects. */
  private readonly failed = new Map<string, string>()
  private stopWatching?: () => void
  private controller = new AbortController()
  private readonly workers = new Set<Promise<void>>()
  /** Announced bytes of the files being fetched now (--max-store counts them as held). */
  private reserved = 0
  private readonly onAnnounced = (evt: CustomEvent<SwarmProtocolEvents['file:announced']>): void => {
    if (evt.detail.peer !== this.c.peerId()) this.add(evt.detail.entry.cid, evt.detail.entry.name, evt.detail.peer)
  }

  constructor (components: ReplicatorComponents) {
    this.c = components
  }

  /** Listens for announcements and queues what the catalog already names. */
  start (): void {
    this.controller = new AbortController()
    this.c.protocol.addEventListener('file:announced', this.onAnnounced)
    this.stopWatching = this.c.onPeerConnect((peer) => { this.retryFrom(peer) })
    for (const e of this.c.protocol.catalog()) {
      const other = e.providers.find(p => p.peer !== this.c.peerId())
      if (other != null) this.add(e.cid, e.name, other.peer)
    }
  }

  /** Stops listening, aborts the fetch under way and waits for it; the queue is dropped. */
  async stop (): Promise<void> {
    this.c.protocol.removeEventListener('file:announced', this.onAnnounced)
    this.stopWatching?.()
    this.stopWatching = undefined
    this.controller.abort()
    this.queues = new Map()
    this.turns = []
    this.seen.clear()
    // start() queues again whatever the catalog names
    this.failed.clear()
    await Promise.all(this.workers)
  }

  /**
   * StoreLimitError when the file (its announced size) would take the store over maxStoreBytes;
   * else reserves that size until the fetch ends and returns it.
   */
  private async checkRoom (store: Store, cid: string, name: string): Promise<number> {
    const max = this.c.maxStoreBytes
    if (max == null) return 0
    const size = this.c.protocol.entry(cid)?.size ?? 0
    const { bytes, refBytes } = await store.stat()
    // the files being fetched beside this one count as if they were here already
    const held = bytes + refBytes + this.reserved
    if (held + size > max) throw new StoreLimitError(name, cid, size, held, max)
    this.reserved += size
    return size
  }

  /** Queues again the failed files the catalog says `peer` provides. */
  private retryFrom (peer: string): void {
    for (const [cid, name] of [...this.failed]) {
      if (this.c.protocol.entry(cid)?.providers.some(p => p.peer === peer) !== true) continue
      this.c.log('%s connected: retrying %s', peer, cid)
      this.add(cid, name, peer)
    }
  }

  private add (cid: string, name: string, peer: string): void {
    if (this.seen.has(cid) || this.controller.signal.aborted) return
    this.failed.delete(cid)
    this.seen.add(cid)
    const queue = this.queues.get(peer)
    if (queue != null) queue.push({ cid, name })
    else {
      this.queues.set(peer, [{ cid, name }])
      this.turns.push(peer)
    }
    while (this.workers.size < REPLICATE_CONCURRENCY && this.turns.length > 0) {
      const worker: Promise<void> = this.drain().finally(() => { this.workers.delete(worker) })
      this.workers.add(worker)
    }
  }

  /** The next file: the first of the peer whose turn it is; that peer goes to the back. */
  private next (): Item | undefined {
    const peer = this.turns.shift()
    if (peer == null) return undefined
    const queue = this.queues.get(peer)!
    const item = queue.shift()
    if (queue.length > 0) this.turns.push(peer)
    else this.queues.delete(peer)
    return item
  }

  private async drain (): Promise<void> {
    const signal = this.controller.signal
    for (let item = this.next(); item != null && !signal.aborted; item = this.next()) {
      const { cid, name } = item
      let reservedHere = 0
      try {
        const store = this.c.store()
        const rec = await store.get(cid)
        if (rec?.complete === true) {
          this.seen.delete(cid)
          if (!rec.pinned) await store.pin(cid)
          continue
        }
        reservedHere = await this.checkRoom(store, cid, name)
        this.c.emit('replicate:start', { cid, name })
        const res = await this.c.fetch(cid, {
          signal,
          onProgress: (evt) => {
            if (evt.type === 'transfer:fetch:provider') return
            const { bytes, total, providers } = evt.detail
            this.c.emit('replicate:progress', { cid, name, bytes, ...(total != null ? { total } : {}), providers })
          }
        })
        await this.c.store().pin(cid)
        // a folder's root has no file size: its record has the folder's (as `get` reports it)
        const size = (await this.c.store().get(cid))?.size ?? res.size
        this.seen.delete(cid)
        this.c.emit('replicate:done', { cid, name, size, received: res.bytesReceived, elapsed: res.elapsed })
      } catch (err: any) {
        if (signal.aborted) return
        this.seen.delete(cid)
        // a full store does not change when a peer connects: that failure waits for an announcement
        if (!(err instanceof StoreLimitError)) {
          setNewest(this.failed, cid, name, MAX_FAILED_KEPT)
        }
        this.c.log('replication of %s failed: %e', cid, err)
        this.c.emit('replicate:failed', { cid, name, error: err instanceof Error ? err : new Error(String(err)) })
      } finally {
        this.reserved -= reservedHere
      }
    }
  }
}
