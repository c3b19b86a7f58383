/**
 * What the running node answers on its control socket: one handler per
 * method of the contract, each a thin call into the node. Handlers return
 * data and report what happened as typed log events (ControlLogEvent); the
 * CLI's printer turns both into lines.
 */
import { VERSION } from '../version.js'
import type { SwarmNode } from '../node/index.js'
import type { FetchedFile, FetchProgress, ListedFile, NodeIdentity, SharedFile, ShareProgress, StoreStats, TransferStatus } from './contract.js'
import type { ControlHandlers } from './server.js'

/** File operations of the node, in wire shapes (share, list, fetch to a file). */
export interface ControlFiles {
  share: (paths: string[], options: { encrypt: boolean, copy?: boolean, signal: AbortSignal, onProgress?: (p: ShareProgress) => void }) => Promise<SharedFile[]>
  list: () => Promise<ListedFile[]>
  status: () => Promise<{ files: number, local: number, store: StoreStats }>
  get: (cid: string, options: {
    key?: Uint8Array
    output?: string
    cwd: string
    timeout?: number
    force?: boolean
    copy?: boolean
    signal: AbortSignal
    onProgress: (info: FetchProgress) => void
  }) => Promise<FetchedFile>
}

/** What a request did on the node, for its log (`swarmdrop start` prints one line each). */
export type ControlLogEvent =
  | { event: 'file:shared', cid: string, name: string, size: number, encrypted: boolean }
  | { event: 'file:removed', cid: string }
  | { event: 'fetch:start', cid: string }
  /** At 0, 25, 50 and 75 % of a fetch. */
  | ({ event: 'fetch:progress' } & FetchProgress)
  | ({ event: 'fetch:done' } & FetchedFile)
  /** A fetch (get or pin) that failed, or that its client cancelled (Ctrl-C, closed socket). */
  | { event: 'fetch:failed', cid: string, cancelled: boolean, error: string }

export interface HandlerHost {
  node: SwarmNode
  files: ControlFiles
  /** Asks the node's owner to stop it (the `stop` method). */
  requestStop: () => void
  /** When the node started (Date.now()). */
  started: number
  /** The fingerprint of the swarm key, for a private swarm. */
  keyFingerprint?: string
  /** Told of what requests did (shares, fetches, removals). */
  log?: (event: ControlLogEvent) => void
}

/** The transfer counters of `status`. */
function transferStatus (node: SwarmNode): TransferStatus {
  const stats = node.transfer.stats()
  return { uploaded: stats.served.bytes, downloaded: stats.received.bytes, uploads: stats.served.activeStreams, downloads: stats.fetches }
}

/** Awaits a fetch; a failure (or the client's cancel) goes to the log before it is rethrown. */
async function logFailure<T> (log: (e: ControlLogEvent) => void, cid: string, signal: AbortSignal, fetching: Promise<T>): Promise<T> {
  try {
    return await fetching
  } catch (err: any) {
    const cancelled = signal.aborted
    log({ event: 'fetch:failed', cid, cancelled, error: cancelled ? 'cancelled by the client' : String(err?.message ?? err) })
    throw err
  }
}

/** Quarter steps of a fetch reported to the log. */
const LOG_STEPS = 4

export function createHandlers (host: HandlerHost): ControlHandlers {
  const { node, files } = host
  const log = host.log ?? (() => {})
  const identity = (): NodeIdentity => ({
    peerId: node.peerId,
    name: node.name,
    swarm: node.swarm,
    addrs: node.getMultiaddrs(),
    repo: node.repo,
    version: VERSION,
    pid: process.pid,
    ...(host.keyFingerprint != null ? { private: true, keyFingerprint: host.keyFingerprint } : {})
  })
  return {
    ping: async () => ({ ok: true }),
    id: async () => identity(),
    status: async () => {
      const peers = await node.peers()
      return {
        ...identity(),
        uptime: Date.now() - host.started,
        peers: peers.filter(p => p.connected && p.member).length,
        ...(peers.some(p => p.connected && !p.member) ? { otherSwarmPeers: peers.filter(p => p.connected && !p.member).length } : {}),
        ...await files.status(),
        transfer: transferStatus(node)
      }
    },
    peers: async () => ({ peers: await node.peers() }),
    share: async (params, ctx) => {
      const shared = await files.share(params.paths, { signal: ctx.signal, encrypt: params.encrypt === true, copy: params.copy === true, onProgress: (p) => { ctx.emit({ type: 'progress', ...p }) } })
      for (const f of shared) log({ event: 'file:shared', cid: f.cid, name: f.name, size: f.size, encrypted: f.link != null })
      return { files: shared }
    },
    ls: async ({ cid, providers }) => {
      let list = await files.list()
      if (cid != null) list = list.filter(f => f.cid === cid)
      if (cid == null && providers !== true) return { files: list }
      return { files: await Promise.all(list.map(async f => ({ ...f, providerList: await node.providers(f.cid) }))) }
    },
    get: async (params, ctx) => {
      const { cid } = params
      log({ event: 'fetch:start', cid })
      let step = -1
      const file = await logFailure(log, cid, ctx.signal, files.get(cid, {
        ...(params.key != null ? { key: new Uint8Array(Buffer.from(params.key, 'base64url')) } : {}),
        cwd: params.cwd,
        ...(params.output != null ? { output: params.output } : {}),
        ...(params.timeout != null ? { timeout: params.timeout } : {}),
        ...(params.force === true ? { force: true } : {}),
        ...(params.copy === true ? { copy: true } : {}),
        signal: ctx.signal,
        onProgress: (info) => {
          ctx.emit({ type: 'progress', ...info })
          if (info.total != null && info.total > 0) {
            const s = Math.floor(info.bytes / info.total * LOG_STEPS)
            if (s > step && s < LOG_STEPS) {
              step = s
              log({ event: 'fetch:progress', ...info })
            }
          }
        }
      }))
      log({ event: 'fetch:done', ...file })
      return file
    },
    pin: async ({ cid }, ctx) => {
      const rec = await node.store.get(cid)
      if (rec?.complete !== true) {
        const { progressOf } = await import('../node/index.js')
        await logFailure(log, cid, ctx.signal, node.fetch(cid, {
          signal: ctx.signal,
          onProgress: (evt) => {
            const info = progressOf(evt)
            const name = node.protocol.entry(cid)?.name
            if (info != null) ctx.emit({ type: 'progress', ...info, rate: Math.round(info.rate), ...(name != null ? { name } : {}) })
          }
        }))
      }
      await node.store.pin(cid)
      return { cid, pinned: true }
    },
    unpin: async ({ cid }) => {
      await node.store.unpin(cid)
      return { cid, pinned: false }
    },
    rm: async ({ cid }, ctx) => {
      await node.protocol.withdraw(cid, { signal: ctx.signal })
      await node.store.remove(cid, { signal: ctx.signal })
      log({ event: 'file:removed', cid })
      return { cid, removed: true }
    },
    gc: async (_params, ctx) => {
      // unpinned files go too: what `unpin` promised (`gc` alone keeps complete unpinned files)
      const { removedBlocks, removedBytes } = await node.store.gc({ unpinned: true, signal: ctx.signal })
      return { removedBlocks, removedBytes }
    },
    pub: async ({ topic, message, global }) => {
      const data = new TextEncoder().encode(message ?? '')
      return { recipients: await node.publish(topic, data, { global: global === true }) }
    },
    sub: async ({ topic, global }, ctx) => {
      const decoder = new TextDecoder()
      const unsubscribe = node.subscribe(topic, (msg) => {
        const name = node.peerName(msg.from)
        ctx.emit({ topic: msg.topic, from: msg.from, ...(name != null ? { name } : {}), data: decoder.decode(msg.data), time: new Date().toISOString() })
      }, { global: global === true })
      ctx.emit({ subscribed: topic })
      try {
        await new Promise<void>(resolve => {
          if (ctx.signal.aborted) resolve()
          ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
        })
      } finally {
        unsubscribe()
      }
      return null
    },
    stop: async () => {
      setImmediate(host.requestStop)
      return { stopping: true }
    }
  }
}
