/**
 * What the running node answers on its control socket: one handler per
 * request method, each a thin call into the node (files.ts for files).
 */
import { VERSION } from '../../version.js'
import { fetchToFile, fileStatus, listFiles, shareFiles, type FilesNode } from '../files.js'
import { formatBytes, formatDuration, formatRate, printable } from '../format.js'
import type { Handler } from './server.js'

export interface HandlerHost {
  node: FilesNode
  /** Asks `start` to stop the node (the `stop` request). */
  requestStop: () => void
  started: number
  /** A line on the node's console (and a JSON event with --json). */
  log: (event: string, detail: Record<string, unknown>, human: string) => void
}

export function createHandlers (host: HandlerHost): Record<string, Handler> {
  const { node } = host
  const identity = (): Record<string, unknown> => ({
    peerId: node.peerId,
    name: node.name,
    swarm: node.swarm,
    addrs: node.getMultiaddrs(),
    repo: node.repo,
    version: VERSION,
    pid: process.pid
  })
  return {
    ping: async () => ({ ok: true }),
    id: async () => identity(),
    status: async () => {
      const peers = await node.peers()
      return {
        ...identity(),
        uptime: Date.now() - host.started,
        peers: peers.filter(p => p.connected).length,
        ...await fileStatus(node)
      }
    },
    peers: async () => ({ peers: await node.peers() }),
    share: async (params, ctx) => {
      const paths = (params.paths as unknown[]).map(String)
      const files = await shareFiles(node, paths, { signal: ctx.signal, encrypt: params.encrypt === true })
      for (const f of files) host.log('file:shared', { cid: f.cid, name: f.name, size: f.size, encrypted: f.link != null }, `shared       ${printable(f.name)} (${formatBytes(f.size)}${f.link != null ? ', encrypted' : ''}) ${f.cid}`)
      return { files }
    },
    ls: async () => ({ files: await listFiles(node) }),
    get: async (params, ctx) => {
      const cid = String(params.cid)
      host.log('fetch:start', { cid }, `fetching     ${cid}`)
      let step = -1
      const file = await fetchToFile(node, cid, {
        ...(typeof params.key === 'string' ? { key: new Uint8Array(Buffer.from(params.key, 'base64url')) } : {}),
        cwd: String(params.cwd),
        output: params.output == null ? undefined : String(params.output),
        timeout: typeof params.timeout === 'number' ? params.timeout : undefined,
        signal: ctx.signal,
        onProgress: (info) => {
          ctx.emit({ type: 'progress', ...info })
          if (info.total != null && info.total > 0) {
            const s = Math.floor(info.bytes / info.total * 4)
            if (s > step && s < 4) {
              step = s
              host.log('fetch:progress', { ...info }, `fetching     ${cid} ${s * 25}% from ${info.providers} peer(s)`)
            }
          }
        }
      })
      host.log('fetch:done', { ...file, name: file.decrypted ? undefined : file.name }, `fetched      ${printable(file.name)} (${formatBytes(file.size)}) in ${formatDuration(file.elapsed)}, ${formatRate(file.received / Math.max(file.elapsed, 1) * 1000)}, to ${file.path}`)
      return file
    },
    pin: async (params, ctx) => {
      const cid = String(params.cid)
      const rec = await node.store.get(cid)
      if (rec?.complete !== true) await node.fetch(cid, { signal: ctx.signal })
      await node.store.pin(cid)
      return { cid, pinned: true }
    },
    unpin: async (params) => {
      const cid = String(params.cid)
      await node.store.unpin(cid)
      return { cid, pinned: false }
    },
    rm: async (params, ctx) => {
      const cid = String(params.cid)
      await node.protocol.withdraw(cid, { signal: ctx.signal })
      await node.store.remove(cid, { signal: ctx.signal })
      host.log('file:removed', { cid }, `removed      ${cid}`)
      return { cid, removed: true }
    },
    gc: async (_params, ctx) => node.store.gc({ signal: ctx.signal }),
    pub: async (params) => {
      const data = new TextEncoder().encode(String(params.message ?? ''))
      return { recipients: await node.publish(String(params.topic), data) }
    },
    sub: async (params, ctx) => {
      const topic = String(params.topic)
      const decoder = new TextDecoder()
      const unsubscribe = node.subscribe(topic, (msg) => {
        const name = node.peerName(msg.from)
        ctx.emit({ topic: msg.topic, from: msg.from, ...(name != null ? { name } : {}), data: decoder.decode(msg.data), time: new Date().toISOString() })
      })
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
