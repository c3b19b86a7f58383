/**
 * A swarmdrop node in its own process (test/fixtures/flood-node.js) for the flood tests: the
 * victim's memory and CPU are then its own, apart from the attacker's in the test process.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { waitFor, WaitTimeoutError } from '../../src/util/wait.js'
import { rawPeer, type RawPeer } from './pubsub.js'

const FLOOD_NODE = fileURLToPath(new URL('../fixtures/flood-node.js', import.meta.url))

/**
 * A flood victim's V8 heap is capped: left alone, V8 lets its heap grow lazily far past what is
 * reachable while allocation runs high (100,000 announced files made 30 MiB live but 150-200 MiB
 * of RSS), so an RSS bound would measure the collector's mood. Capped, the RSS bound measures what
 * the node keeps, buffers included (they live outside the heap); a victim that kept growing would
 * run out of heap and die, failing the test. Semi-spaces are capped too: Node 24's larger young
 * generation alone added ~50 MiB of RSS that no node code holds.
 */
export const VICTIM_NODE_OPTIONS = ['--expose-gc', '--max-old-space-size=128', '--max-semi-space-size=8']

export interface NodeProcess {
  peerId: string
  addrs: string[]
  request: (op: string, args?: object, timeout?: number) => Promise<any>
}

/**
 * Starts test/fixtures/flood-node.js (inside the named network namespace `netns` when given);
 * stopped (killed if it does not exit) in t.after.
 */
export async function startNode (t: TestContext, init: { repo: string, name: string, bootstrap?: string[], listen?: string[], maxGonePeers?: number, replicate?: boolean, timeout?: number }, nodeOptions: string[] = [], where: { netns?: string } = {}): Promise<NodeProcess> {
  return await startFixture(t, FLOOD_NODE, init, nodeOptions, where)
}

/**
 * Starts a fixture that speaks flood-node's protocol (argv[2] the JSON `init`; a first line
 * `{ type: 'ready', peerId, addrs }`; `{ id, op }` commands answered by `{ id, ... }`; `stop`).
 */
export async function startFixture (t: TestContext, script: string, init: { name: string }, nodeOptions: string[] = [], where: { netns?: string } = {}): Promise<NodeProcess> {
  const args = [...nodeOptions, script, JSON.stringify(init)]
  // `ip netns exec` execs the command: the child is the node process itself
  const child = where.netns == null
    ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('ip', ['netns', 'exec', where.netns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  // a node killed with its namespace no longer reads: writing the stop command must not throw
  child.stdin.on('error', () => {})
  const stderr: string[] = []
  createInterface({ input: child.stderr }).on('line', (l) => { stderr.push(l) })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  const waiting = new Map<number, (msg: any) => void>()
  let nextId = 0
  let onReady: ((msg: any) => void) | undefined
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line)
    if (msg.id == null) {
      onReady?.(msg)
      return
    }
    waiting.get(msg.id)?.(msg)
    waiting.delete(msg.id)
  })
  t.after(async () => {
    if (child.exitCode != null || child.signalCode != null) return
    child.stdin.write(JSON.stringify({ id: -1, op: 'stop' }) + '\n')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 5000)
    await exited
    clearTimeout(timer)
  })
  const ready = await new Promise<any>((resolve, reject) => {
    onReady = resolve
    child.once('exit', (code) => { reject(new Error(`${init.name} exited with ${String(code)} before it was ready: ${stderr.join('\n')}`)) })
  })
  if (ready.type !== 'ready') throw new Error(`${init.name} failed: ${String(ready.message)}`)
  const request = async (op: string, args: object = {}, timeout = 30_000): Promise<any> => {
    const id = nextId++
    const answer = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${init.name}: no answer to ${op} within ${timeout} ms`)) }, timeout)
      waiting.set(id, (msg) => {
        clearTimeout(timer)
        if (msg.error != null) reject(new Error(`${init.name}: ${op}: ${String(msg.error)}`))
        else resolve(msg)
      })
    })
    child.stdin.write(JSON.stringify({ id, op, ...args }) + '\n')
    return answer
  }
  return { peerId: ready.peerId, addrs: ready.addrs, request }
}

/** An attacker or a signer: a bare libp2p network of its own key, on 127.0.0.1. */
export type { RawPeer }

/**
 * Starts a raw peer (stopped in t.after), dials `target` and waits until it sees the target
 * subscribed to every topic of `topics`.
 */
export async function startRawPeer (t: Pick<TestContext, 'after'>, dir: string, target: NodeProcess, topics: string[]): Promise<RawPeer> {
  return await rawPeer(t, dir, { getMultiaddrs: () => target.addrs, peerId: target.peerId }, topics, { agent: 'attacker' })
}

/** What the target's `mark` and `memory` ops report: RSS, and heap and buffers after a full GC (with --expose-gc). */
export interface Memory { rss: number, heapUsed: number, external: number }

/**
 * How long what an attacker left may take to be released: gossipsub keeps the last 5 heartbeats'
 * messages (mcache, 1 s heartbeats) and drops a gone peer's state on its next heartbeat, so a
 * measurement taken the moment the peer leaves can still count them.
 */
const RELEASE_TIMEOUT = 30_000

/**
 * Polls `live` (bytes held after a full GC over a baseline) once a second until it is under
 * `limit` or RELEASE_TIMEOUT passed, and returns the least measured: memory that is released
 * passes as soon as it is, memory that is kept fails after the timeout with its figure.
 */
export async function liveSettles (live: () => Promise<number>, limit: number): Promise<number> {
  let least = Infinity
  try {
    await waitFor(async () => {
      least = Math.min(least, await live())
      return least < limit
    }, { timeout: RELEASE_TIMEOUT, interval: 1000, message: 'held memory to be released' })
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err
  }
  return least
}

/**
 * The raw peers leave: once the target has seen each of them go, the bytes it still holds after a
 * full GC (heap and buffers) over `baseline` — what their attack left behind (issue 13: memory is
 * released after the attacker leaves), waited for until under `limit` (see liveSettles).
 */
export async function liveAfterLeaving (target: NodeProcess, peers: RawPeer[], baseline: Memory, limit: number): Promise<number> {
  for (const peer of peers) await peer.stop()
  await waitFor(async () => {
    for (const peer of peers) if ((await target.request('stats', { peer: peer.peerId })).connected === true) return false
    return true
  }, { timeout: 30_000, message: `the ${peers.length} raw peer(s) gone from the target` })
  return await liveSettles(async () => {
    const now: Memory = await target.request('memory')
    return now.heapUsed + now.external - baseline.heapUsed - baseline.external
  }, limit)
}
