/**
 * What the running node answers on its control socket: one handler per
 * request method, each a thin call into the node.
 */
import type { SwarmNode } from '../../node/index.js'
import { VERSION } from '../../version.js'
import type { Handler } from './server.js'

export interface HandlerHost {
  node: SwarmNode
  /** Asks `start` to stop the node (the `stop` request). */
  requestStop: () => void
  started: number
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
        peers: peers.filter(p => p.connected).length
      }
    },
    peers: async () => ({ peers: await node.peers() }),
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
