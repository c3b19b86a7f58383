/**
 * Replication (`createSwarmNode({ replicate: true })`, `swarmdrop start --replicate`):
 * fetch and pin every file another peer announces, one at a time, each once. A failed
 * file is retried when it is announced again. Started and stopped with the node.
 */
import type { SwarmProtocol, SwarmProtocolEvents } from '../pubsub/index.js'
import type { Store } from '../storage/index.js'
import type { FetchResult, TransferFetchEvents } from '../transfer/index.js'
import type { Logger } from '../util/logger.js'
import { StoreLimitError } from './errors.js'

export interface ReplicationEvents {
  /** A file is being fetched to be kept. */
  'replicate:start': { cid: string, name: string }
  /** Blocks arrived: `bytes` of `total` present here, from `providers` peers (at most one event per block). */
  'replicate:progress': { cid: string, name: string, bytes: number, total?: number, providers: number }
  /** It is complete and pinned here. */
  'replicate:done': { cid: string, name: string, size: number, elapsed: number }
  /** It could not be fetched; a later announcement retries. */
  'replicate:failed': { cid: string, name: string, error: Error }
}

export interface ReplicatorComponents {
  peerId: () => string
  store: () => Store
  protocol: SwarmProtocol
  fetch: (cid: string, options: { signal: AbortSignal, onProgress?: (evt: TransferFetchEvents) => void }) => Promise<FetchResult>
  emit: <K extends keyof ReplicationEvents>(type: K, detail: ReplicationEvents[K]) => void
  log: Logger
  /** Most bytes the store may hold: a file that would take it over is not fetched (default: no limit). */
  maxStoreBytes?: number
}

export class Replicator {
  private readonly c: ReplicatorComponents
  private queue: Array<{ cid: string, name: string }> = []
  private readonly seen = new Set<string>()
  private controller = new AbortController()
  private running?: Promise<void>
  private readonly onAnnounced = (evt: CustomEvent<SwarmProtocolEvents['file:announced']>): void => {
    if (evt.detail.peer !== this.c.peerId()) this.add(evt.detail.entry.cid, evt.detail.entry.name)
  }

  constructor (components: ReplicatorComponents) {
    this.c = components
  }

  /** Listens for announcements and queues what the catalog already names. */
  start (): void {
    this.controller = new AbortController()
    this.c.protocol.addEventListener('file:announced', this.onAnnounced)
    for (const e of this.c.protocol.catalog()) {
      if (e.providers.some(p => p.peer !== this.c.peerId())) this.add(e.cid, e.name)
    }
  }

  /** Stops listening, aborts the fetch under way and waits for it; the queue is dropped. */
  async stop (): Promise<void> {
    this.c.protocol.removeEventListener('file:announced', this.onAnnounced)
    this.controller.abort()
    this.queue = []
    this.seen.clear()
    await this.running
  }

  /** StoreLimitError when the file (its announced size) would take the store over maxStoreBytes. */
  private async checkRoom (store: Store, cid: string, name: string): Promise<void> {
    const max = this.c.maxStoreBytes
    if (max == null) return
    const size = this.c.protocol.entry(cid)?.size ?? 0
    const { bytes, refBytes } = await store.stat()
    if (bytes + refBytes + size > max) throw new StoreLimitError(name, cid, size, bytes + refBytes, max)
  }

  private add (cid: string, name: string): void {
    if (this.seen.has(cid) || this.controller.signal.aborted) return
    this.seen.add(cid)
    this.queue.push({ cid, name })
    this.running ??= this.drain().finally(() => { this.running = undefined })
  }

  private async drain (): Promise<void> {
    const signal = this.controller.signal
    for (let item = this.queue.shift(); item != null && !signal.aborted; item = this.queue.shift()) {
      const { cid, name } = item
      try {
        const store = this.c.store()
        const rec = await store.get(cid)
        if (rec?.complete === true) {
          if (!rec.pinned) await store.pin(cid)
          continue
        }
        await this.checkRoom(store, cid, name)
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
        this.c.emit('replicate:done', { cid, name, size: res.size, elapsed: res.elapsed })
      } catch (err: any) {
        if (signal.aborted) return
        this.seen.delete(cid)
        this.c.log('replication of %s failed: %e', cid, err)
        this.c.emit('replicate:failed', { cid, name, error: err instanceof Error ? err : new Error(String(err)) })
      }
    }
  }
}
