/**
 * The swarm mode's nodes: N swarmdrop nodes in this process on 127.0.0.1
 * (port 0, repositories in the run's folder, no mDNS), each dialing every
 * earlier one, as on one LAN. Built on the package's public surface only
 * (createSwarmNode and the node's own properties), not on the test harness.
 */
import { join } from 'node:path'
import { createSwarmNode, type SwarmNode } from '../../src/index.js'

export interface BenchSwarm {
  readonly nodes: SwarmNode[]
  /** Stops every node (even after failures). */
  stop: () => Promise<void>
}

export interface BenchSwarmInit {
  size: number
  /** Parent of the node repositories. */
  dir: string
  /** Bound on start-up, ms. */
  timeout: number
  signal?: AbortSignal
}

/** Polls `condition` every 20 ms until it holds; rejects at `timeout` saying what it waited for. */
export async function until (condition: () => boolean | Promise<boolean>, options: { timeout: number, signal?: AbortSignal | undefined, message: () => string }): Promise<void> {
  const deadline = Date.now() + options.timeout
  for (;;) {
    options.signal?.throwIfAborted()
    if (await condition()) return
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeout} ms waiting for ${options.message()}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Gossipsub keeps at least D_lo (4) mesh peers when it has that many. */
const D_LO = 4

/** Every other node is connected, subscribed to the swarm's topics and (up to D_lo) in this node's mesh of them. */
function ready (node: SwarmNode, others: number): boolean {
  const connected = new Set(node.network.connections().map(c => c.peer))
  if (connected.size < others) return false
  for (const topic of [node.topics.announce, node.topics.request]) {
    const subs = new Set(node.network.getSubscribers(topic))
    for (const p of connected) if (!subs.has(p)) return false
    if (node.network.getMeshPeers(topic).length < Math.min(connected.size, D_LO)) return false
  }
  return true
}

/** Starts `size` connected nodes; on failure stops the ones it started. */
export async function startBenchSwarm (init: BenchSwarmInit): Promise<BenchSwarm> {
  const nodes: SwarmNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
  }
  try {
    for (let i = 0; i < init.size; i++) {
      init.signal?.throwIfAborted()
      const node = await createSwarmNode({ name: `node-${i}`, repo: join(init.dir, `node-${i}`), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
      nodes.push(node)
      await Promise.all(nodes.slice(0, i).map(async t => node.dial(t.getMultiaddrs()[0] ?? '')))
    }
    await until(() => nodes.every(n => ready(n, nodes.length - 1)), {
      timeout: init.timeout,
      signal: init.signal,
      message: () => `a connected swarm (${nodes.filter(n => ready(n, nodes.length - 1)).length} of ${nodes.length} nodes ready)`
    })
  } catch (err) {
    await stop()
    throw err
  }
  return { nodes, stop }
}
