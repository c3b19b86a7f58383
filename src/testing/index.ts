/**
 * `swarmdrop/testing`: a local swarm for your tests.
 *
 * Starts N nodes in this process on 127.0.0.1 (port 0, temp repositories,
 * explicit dials, no mDNS), waits until every node has joined the gossipsub
 * mesh of the swarm's topics, and stops and deletes everything on `stop()`.
 *
 * @example
 * ```ts
 * import { test } from 'node:test'
 * import { createLocalSwarm } from 'swarmdrop/testing'
 *
 * test('three nodes', async (t) => {
 *   const swarm = await createLocalSwarm({ size: 3 })
 *   t.after(() => swarm.stop())
 *   const [a, b] = swarm.nodes
 *   // ... a.share(...), b.fetch(...)
 * })
 * ```
 */
import '../polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSwarmNode, type SwarmNode, type SwarmNodeInit } from '../node/index.js'
import { waitFor } from '../util/wait.js'

export interface LocalSwarmInit {
  /** How many nodes to start (default 3). */
  size?: number
  /** Swarm name shared by every node (default `default`). */
  swarm?: string
  /** Options for every node; repo, listen and mdns are set by the swarm. */
  node?: Partial<SwarmNodeInit>
  /** Per-node options (index → options), merged over `node`. */
  nodes?: Record<number, Partial<SwarmNodeInit>>
  /** How many earlier nodes each new node dials (default 8: a full mesh up to 9 nodes). */
  degree?: number
  /** Bound on start-up, in ms (default 20 s). */
  timeout?: number
  /** Parent folder for the temp repositories (default the OS temp dir). */
  dir?: string
}

export interface LocalSwarm {
  readonly nodes: SwarmNode[]
  /** The folder holding every node's repository. */
  readonly dir: string
  /** Starts one more node, connects it like the others and waits until it is meshed. */
  addNode: (init?: Partial<SwarmNodeInit>) => Promise<SwarmNode>
  /** Waits until every node is connected and meshed on the swarm's topics. */
  waitForMesh: (options?: { timeout?: number }) => Promise<void>
  /** Stops every node (even after failures) and deletes the temp folder. */
  stop: () => Promise<void>
}

/** Mesh target: gossipsub keeps at least D_lo (4) mesh peers when it has that many. */
const D_LO = 4

function meshed (node: SwarmNode): boolean {
  const connected = new Set(node.network.connections().map(c => c.peer))
  if (connected.size === 0) return false
  for (const topic of [node.topics.announce, node.topics.request]) {
    const subs = new Set(node.network.getSubscribers(topic))
    for (const p of connected) if (!subs.has(p)) return false
    if (node.network.getMeshPeers(topic).length < Math.min(connected.size, D_LO)) return false
  }
  return true
}

export async function createLocalSwarm (init: LocalSwarmInit = {}): Promise<LocalSwarm> {
  const size = init.size ?? 3
  const degree = init.degree ?? 8
  const timeout = init.timeout ?? 20_000
  const dir = await mkdtemp(join(init.dir ?? tmpdir(), 'swarmdrop-swarm-'))
  const nodes: SwarmNode[] = []

  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  }

  const waitForMesh = async (options: { timeout?: number } = {}): Promise<void> => {
    await waitFor(() => nodes.length < 2 || nodes.every(meshed), {
      timeout: options.timeout ?? timeout,
      message: () => `a meshed swarm (${nodes.filter(meshed).length} of ${nodes.length} nodes meshed)`
    })
  }

  const startNode = async (extra: Partial<SwarmNodeInit> = {}): Promise<SwarmNode> => {
    const index = nodes.length
    const node = await createSwarmNode({
      name: `node-${index}`,
      swarm: init.swarm,
      ...init.node,
      ...init.nodes?.[index],
      ...extra,
      repo: join(dir, `node-${index}`),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false
    })
    nodes.push(node)
    // dial up to `degree` earlier nodes, the nearest first so the graph stays connected
    const targets = nodes.slice(0, index).reverse().slice(0, degree)
    await Promise.all(targets.map(async t => node.dial(t.getMultiaddrs()[0] ?? '')))
    return node
  }

  try {
    for (let i = 0; i < size; i++) await startNode()
    await waitForMesh()
  } catch (err) {
    await stop()
    throw err
  }

  return {
    nodes,
    dir,
    stop,
    waitForMesh,
    addNode: async (extra) => {
      const node = await startNode(extra)
      await waitForMesh()
      return node
    }
  }
}
