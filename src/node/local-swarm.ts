/**
 * A local swarm: N nodes in this process on 127.0.0.1 (a free port each, kept across restarts;
 * temp repositories; no mDNS: safe on any network), each logging under its own name, started
 * once every node has joined the gossipsub mesh of the swarm's topics. Each node has the nodes
 * it joined as bootstrap peers: a node stopped and started again, or whose neighbour was, is
 * connected again without the caller dialling. `swarmdrop demo` runs on it and
 * `swarmdrop/testing` wraps it for tests (teardown, in-memory repositories).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../util/wait.js'
import type { SwarmNodeComponents, SwarmNodeInit } from './swarm-node.js'
import type { SwarmNode } from './swarm-node.js'
import { createSwarmNode } from './create.js'

export interface LocalSwarmInit {
  /** How many nodes to start (default 3). */
  size?: number
  /** Swarm name shared by every node (default `default`). */
  swarm?: string
  /** Options for every node; repo, listen and mdns are set by the swarm. */
  node?: Partial<SwarmNodeInit>
  /** Per-node options (index → options), merged over `node`. */
  nodes?: Record<number, Partial<SwarmNodeInit>>
  /** Components handed to each node (index → components), e.g. a store. */
  components?: (index: number) => Partial<SwarmNodeComponents>
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
  /** Starts one more node, connects it like the others and waits until it is meshed (with `start: false`: only creates it). */
  addNode: (init?: Partial<SwarmNodeInit>) => Promise<SwarmNode>
  /**
   * Stops `node` for good and deletes its repository: `nodes` no longer lists it, waitForMesh no
   * longer counts it, and no node redials it. A node that had joined it joins the nearest earlier
   * node it did not join yet instead (dialled now and by waitForMesh), so that the graph stays
   * connected. To stop a node for a while, use `node.stop()` and `node.start()`.
   */
  removeNode: (node: SwarmNode) => Promise<void>
  /**
   * Waits until every running node is connected to the running nodes it joined (dialling the
   * links that are down, e.g. after a restart) and meshed on the swarm's topics.
   */
  waitForMesh: (options?: { timeout?: number }) => Promise<void>
  /** Stops every node (even after failures) and deletes the temp folder. */
  stop: () => Promise<void>
}

/** Mesh target: gossipsub keeps at least D_lo (4) mesh peers when it has that many. */
const D_LO = 4

/** waitForMesh dials a link that is down about this often. */
const RELINK_MS = 1000

/** The peers `node` is connected to. */
function connectedPeers (node: SwarmNode): Set<string> {
  return new Set(node.network.connections().map(c => c.peer))
}

/** The running neighbours not among `connected` (a node's connected peers). */
function unlinked (connected: ReadonlySet<string>, neighbours: readonly SwarmNode[]): SwarmNode[] {
  return neighbours.filter(n => n.isStarted() && !connected.has(n.peerId))
}

/**
 * Why `node` is not meshed yet (undefined: it is, or it is not running), for waitForMesh's error:
 * not connected to a running neighbour (a node it joined), or not in the gossipsub mesh.
 */
function notMeshed (node: SwarmNode, neighbours: readonly SwarmNode[]): string | undefined {
  if (!node.isStarted()) return undefined
  const connected = connectedPeers(node)
  const missing = unlinked(connected, neighbours)
  if (missing.length > 0) return `not connected to ${missing.map(n => n.name).join(', ')}`
  if (connected.size === 0) return 'no connection'
  for (const topic of [node.topics.announce, node.topics.request]) {
    const subs = new Set(node.network.getSubscribers(topic))
    const unsubscribed = [...connected].filter(p => !subs.has(p))
    if (unsubscribed.length > 0) return `${unsubscribed.length} of ${connected.size} connected peer(s) not yet seen subscribed to ${topic}`
    const mesh = node.network.getMeshPeers(topic).length
    const want = Math.min(connected.size, D_LO)
    if (mesh < want) return `${mesh} mesh peer(s) on ${topic}, ${want} wanted`
  }
  return undefined
}

export async function startLocalSwarm (init: LocalSwarmInit = {}): Promise<LocalSwarm> {
  const size = init.size ?? 3
  const degree = init.degree ?? 8
  const timeout = init.timeout ?? 20_000
  const dir = await mkdtemp(join(init.dir ?? tmpdir(), 'swarmdrop-swarm-'))
  const nodes: SwarmNode[] = []
  /** The earlier nodes each node joined (its bootstrap peers): the swarm's graph. */
  const links = new Map<SwarmNode, SwarmNode[]>()
  /** When waitForMesh last dialled a link (`from to`), so that it tries each about once a second. */
  const dialled = new Map<string, number>()
  let created = 0
  const neighbours = (node: SwarmNode): SwarmNode[] => links.get(node) ?? []
  /** Each node's address once it has run (stablePort: the same after a restart), also while it is stopped. */
  const addrs = new Map<SwarmNode, string>()
  const addrOf = (node: SwarmNode): string | undefined => {
    const now = node.getMultiaddrs()[0]
    if (now != null) addrs.set(node, now)
    return addrs.get(node)
  }

  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  }

  /**
   * Dials the links of the graph that are down between running nodes. Each node's bootstrap
   * dialer redials its own links too, but with a backoff that grows to REDIAL_MAX_MS while the
   * other side is stopped: a caller that waits for the swarm should not wait for it.
   */
  const relink = (): void => {
    const now = Date.now()
    for (const node of nodes) {
      if (!node.isStarted()) continue
      for (const to of unlinked(connectedPeers(node), neighbours(node))) {
        const key = `${node.peerId} ${to.peerId}`
        if (now - (dialled.get(key) ?? -Infinity) < RELINK_MS) continue
        dialled.set(key, now)
        const addr = addrOf(to)
        if (addr != null) node.dial(addr).catch(() => {}) // failed: tried again at the next relink
      }
    }
  }

  const waitForMesh = async (options: { timeout?: number } = {}): Promise<void> => {
    await waitFor(() => {
      relink()
      return nodes.filter(n => n.isStarted()).length < 2 || nodes.every(n => notMeshed(n, neighbours(n)) == null)
    }, {
      timeout: options.timeout ?? timeout,
      message: () => {
        const missing = nodes.flatMap(n => { const why = notMeshed(n, neighbours(n)); return why == null ? [] : [`${n.name}: ${why}`] })
        return `a meshed swarm (${nodes.length - missing.length} of ${nodes.length} nodes meshed; ${missing.join('; ')})`
      }
    })
  }

  const startNode = async (extra: Partial<SwarmNodeInit> = {}): Promise<SwarmNode> => {
    const index = created++
    const own = { ...init.node, ...init.nodes?.[index], ...extra }
    const name = own.name ?? `node-${index}`
    // up to `degree` earlier nodes, the nearest first so the graph stays connected: running ones
    // first, then those stopped for now (their address is known and kept: joined when they are
    // back), not those never started (`start: false`: none either, the caller starts and dials
    // it). Running first: once `degree` nodes were added and stopped, a new node that took the
    // nearest would have joined only stopped ones and reached nobody
    const known = nodes.filter(n => addrOf(n) != null).reverse()
    const targets = own.start === false ? [] : [...known.filter(n => n.isStarted()), ...known.filter(n => !n.isStarted())].slice(0, degree)
    const node = await createSwarmNode({
      swarm: init.swarm,
      logPrefix: name,
      // the swarm's graph is the one `degree` draws: no peer exchange unless a test asks for it
      peerExchange: false,
      // a node stopped and started again comes back on its port, where its neighbours redial it
      stablePort: true,
      ...own,
      // its neighbours as bootstrap peers (no mDNS here): dialled at start and again whenever the
      // connection is lost, so that the swarm heals after either side restarts
      bootstrap: [...own.bootstrap ?? [], ...targets.flatMap(t => addrOf(t) ?? [])],
      name,
      repo: join(dir, `node-${index}`),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false
    }, init.components?.(index))
    nodes.push(node)
    links.set(node, targets)
    addrOf(node)
    return node
  }

  try {
    for (let i = 0; i < size; i++) await startNode()
    await waitForMesh()
  } catch (err) {
    await stop()
    throw err
  }

  const removeNode = async (node: SwarmNode): Promise<void> => {
    const at = nodes.indexOf(node)
    if (at < 0) throw new Error(`${node.name} is not a node of this swarm`)
    await node.stop()
    nodes.splice(at, 1)
    links.delete(node)
    addrs.delete(node)
    for (const [i, n] of nodes.entries()) {
      const was = neighbours(n)
      if (was.includes(node)) {
        const kept = was.filter(x => x !== node)
        const nearest = nodes.slice(0, i).reverse().find(x => !kept.includes(x) && addrOf(x) != null)
        links.set(n, nearest != null ? [...kept, nearest] : kept)
      }
      // stopped ones too: a node's redials outlive its restarts
      await n.forget(node.peerId)
    }
    await rm(node.repo, { recursive: true, force: true })
    relink()
  }

  return {
    nodes,
    dir,
    stop,
    waitForMesh,
    removeNode,
    addNode: async (extra) => {
      const node = await startNode(extra)
      await waitForMesh()
      return node
    }
  }
}
