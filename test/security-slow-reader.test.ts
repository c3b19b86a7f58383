/**
 * Issue 13, "Slow mesh reader": a mesh peer that never reads while another sends valid
 * 60 KiB messages made the victim hold 570 MB. Now gossipsub's outbound queue per peer is
 * capped (`maxOutboundBufferSize` = MAX_GOSSIP_OUTBOUND_BYTES; what is beyond is dropped for
 * that peer), honest subscribers still get every message, and the queue is released when the
 * slow peer goes. The slow reader is a real node process stopped with SIGSTOP: its kernel
 * stops reading the socket, so TCP and yamux windows fill and the victim's queue grows.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createSwarmNode } from '../src/node/index.js'
import { MAX_GOSSIP_OUTBOUND_BYTES } from '../src/net/constants.js'
import { waitFor } from '../src/util/wait.js'
import { liveSettles, VICTIM_NODE_OPTIONS } from './helpers/flood-node.js'
import { lineWaiters, type LineWaiters, type ProcessExit } from './helpers/lines.js'

const NODE_PROCESS = fileURLToPath(new URL('./fixtures/node-process.js', import.meta.url))
const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const TOPIC = 'test/bulk'
const MESSAGES = 400
const MESSAGE_BYTES = 60 * 1024
const MiB = 1024 * 1024
/** What the victim may still hold after a full GC once the slow reader died (gossipsub's seen-cache and mcache, scores). */
const MAX_LIVE_AFTER = 16 * MiB

interface Stats { rss: number, peak: number, heapUsed: number, external: number, received: number, outbound: Record<string, number>, mesh: string[] }

interface NodeProc extends LineWaiters {
  child: ChildProcess
  peerId: string
  addrs: string[]
  stats: (mark?: boolean) => Promise<Stats>
}

async function nodeProcess (t: { after: (fn: () => Promise<void>) => void }, init: Record<string, unknown>, nodeOptions: string[] = []): Promise<NodeProc> {
  const child = spawn(process.execPath, [...nodeOptions, NODE_PROCESS, JSON.stringify({ listen: LOCAL, mdns: false, topic: TOPIC, quiet: true, ...init })], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  let exit: ProcessExit | undefined
  createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l) })
  child.on('close', (code, signal) => { exit = { code, signal } })
  t.after(async () => {
    if (exit == null) child.kill('SIGKILL')
  })
  const waiters = lineWaiters(() => lines, () => exit, () => `node ${JSON.stringify(init.name)}: ${lines.slice(-3).join(' | ')}`)
  const ready = await waiters.waitForJson(m => m.type === 'ready' || m.type === 'error', { timeout: 60_000 })
  if (ready.type === 'error') throw new Error(`${ready.name}: ${ready.message}`)
  let asked = 0
  return {
    ...waiters,
    child,
    peerId: ready.peerId,
    addrs: ready.addrs,
    stats: async (mark = false) => {
      const id = ++asked
      child.stdin!.write(JSON.stringify({ op: 'stats', id, mark }) + '\n')
      return waiters.waitForJson(m => m.type === 'stats' && m.id === id, { timeout: 60_000 })
    }
  }
}

test('a mesh peer that stops reading: the victim queues at most MAX_GOSSIP_OUTBOUND_BYTES for it, honest subscribers get every message, the queue goes with the peer', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-slow-reader-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const victim = await nodeProcess(t, { repo: join(dir, 'victim'), name: 'victim' }, VICTIM_NODE_OPTIONS)
  const bootstrap = [victim.addrs[0]!]
  const slow = await nodeProcess(t, { repo: join(dir, 'slow'), name: 'slow', bootstrap })
  const honest = await nodeProcess(t, { repo: join(dir, 'honest'), name: 'honest', bootstrap })
  const sender = await createSwarmNode({ repo: join(dir, 'sender'), name: 'sender', listen: LOCAL, mdns: false, bootstrap })
  t.after(async () => { await sender.stop() })
  sender.subscribe(TOPIC, () => {})

  let last: Stats | undefined
  await waitFor(async () => {
    last = await victim.stats()
    return [slow.peerId, honest.peerId, sender.peerId].every(p => last!.mesh.includes(p))
  }, { timeout: 60_000, interval: 200, message: () => `the victim's mesh to hold all three peers (${JSON.stringify(last?.mesh)})` })
  const idle = await victim.stats(true)

  slow.child.kill('SIGSTOP')
  let maxQueued = 0
  for (let i = 0; i < MESSAGES; i++) {
    await sender.publish(TOPIC, randomBytes(MESSAGE_BYTES))
    if (i % 25 === 24) {
      // paced by what the victim took in (the sender's own queue is capped the same way)
      await waitFor(async () => {
        last = await victim.stats()
        maxQueued = Math.max(maxQueued, last.outbound[slow.peerId] ?? 0)
        return last.received >= i + 1
      }, { timeout: 60_000, interval: 50, message: () => `the victim to receive ${i + 1} messages (has ${last?.received})` })
    }
  }
  await waitFor(async () => (await honest.stats()).received >= MESSAGES, { timeout: 120_000, interval: 200, message: 'the honest subscriber to get every message' })
  const during = await victim.stats()
  maxQueued = Math.max(maxQueued, during.outbound[slow.peerId] ?? 0)
  const sent = MESSAGES * MESSAGE_BYTES
  assert.ok(sent > 5 * MAX_GOSSIP_OUTBOUND_BYTES, 'the flood is many times the cap')
  assert.ok(maxQueued <= MAX_GOSSIP_OUTBOUND_BYTES + 2 * MESSAGE_BYTES, `queued for the slow reader: ${maxQueued} bytes (cap ${MAX_GOSSIP_OUTBOUND_BYTES})`)
  t.diagnostic(`victim memory: idle RSS ${Math.round(idle.rss / MiB)} MiB, peak during the flood ${Math.round(during.peak / MiB)} MiB; most queued for the slow reader ${(maxQueued / MiB).toFixed(1)} MiB`)
  assert.ok(during.peak < 2 * idle.rss, `victim RSS peaked at ${Math.round(during.peak / MiB)} MiB during the flood, idle ${Math.round(idle.rss / MiB)} MiB`)

  // the slow peer dies: its queue is released, and so is the memory it held
  slow.child.kill('SIGKILL')
  await waitFor(async () => (await victim.stats()).outbound[slow.peerId] == null, { timeout: 120_000, interval: 500, message: 'the queue of the dead peer to be released' })
  const live = await liveSettles(async () => {
    const after = await victim.stats()
    return after.heapUsed + after.external - idle.heapUsed - idle.external
  }, MAX_LIVE_AFTER)
  t.diagnostic(`after the slow reader died, live after GC ${live >= 0 ? '+' : ''}${Math.round(live / MiB)} MiB`)
  assert.ok(live < MAX_LIVE_AFTER, `the victim still holds ${Math.round(live / MiB)} MiB more after the slow reader died (limit ${MAX_LIVE_AFTER / MiB} MiB)`)
})
