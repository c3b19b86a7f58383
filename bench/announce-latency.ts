/**
 * Announcement latency (issue 4): in a swarm of --nodes (default 20) nodes in
 * one process, --announcements (default 200) files are announced one at a
 * time, each by the next node in turn; the latency of one is the time from
 * announce() until the last other node has it in its catalog. Baseline in the
 * same run: the same bytes published with plain gossipsub on a user topic
 * (no validation, no catalog), time until the last node's handler runs.
 * The two are interleaved so load on the machine hits both alike.
 * Usage: npm run bench -- announce-latency [--nodes 20] [--announcements 200] [--degree 8]
 */
import '../src/polyfill.js'
import { parseArgs } from 'node:util'
import type { SwarmNode } from '../src/node/index.js'
import { encodeWire } from '../src/pubsub/codec.js'
import { fileMeta } from '../src/pubsub/protocol.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import { fileOf } from '../test/helpers/pubsub.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    announcements: { type: 'string', default: '200' },
    degree: { type: 'string', default: '8' }
  }
})
const n = Number(values.nodes)
const count = Number(values.announcements)
const RAW_TOPIC = 'bench/raw-latency'

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p / 100 * sorted.length) - 1)] ?? NaN
}

// no periodic re-announce during the run: every message is one we measure
const swarm = await createLocalSwarm({ size: n, degree: Number(values.degree), timeout: 180_000, node: { pubsub: { reannounceInterval: 3_600_000, providerTtl: 7_200_000 } } })
const nodes = swarm.nodes

// the baseline topic: every node subscribes; a per-message arrival counter
const arrivals = new Map<string, { left: number, done: () => void }>()
for (const node of nodes) {
  node.subscribe(RAW_TOPIC, (msg) => {
    const key = new TextDecoder().decode(msg.data.subarray(msg.data.byteLength - 16))
    const a = arrivals.get(key)
    if (a != null && --a.left === 0) a.done()
  })
}
const meshed = (node: SwarmNode): boolean => {
  const connected = new Set(node.network.connections().map(c => c.peer))
  const subs = new Set(node.network.getSubscribers(RAW_TOPIC))
  return [...connected].every(p => subs.has(p)) && node.network.getMeshPeers(RAW_TOPIC).length >= Math.min(connected.size, 4)
}
await waitFor(() => nodes.every(meshed), { timeout: 60_000, message: 'the raw topic mesh' })
await waitFor(() => nodes.every(x => x.protocol.stats().pendingAnswers === 0 && x.protocol.stats().pendingRequests === 0), { timeout: 60_000 })

async function announceOnce (i: number): Promise<number> {
  const from = nodes[i % n]!
  const file = await fileOf(`latency-${i}-${Math.random()}`)
  const others = nodes.filter(x => x !== from)
  const heard = others.map(async x => {
    await new Promise<void>((resolve) => {
      const listener = (evt: CustomEvent<{ entry: { cid: string } }>): void => {
        if (evt.detail.entry.cid !== fileMeta(file).cid) return
        x.removeEventListener('file:announced', listener)
        resolve()
      }
      x.addEventListener('file:announced', listener)
    })
  })
  const t0 = performance.now()
  await from.protocol.announce(file)
  await Promise.all(heard)
  return performance.now() - t0
}

async function rawOnce (i: number): Promise<number> {
  const from = nodes[i % n]!
  // the same bytes an announcement carries, with a unique tail to match arrivals
  const key = `${i}`.padStart(16, '0')
  const body = encodeWire({ type: 'announce', files: [{ meta: fileMeta(await fileOf(`raw-${i}`)), complete: true }] })
  const data = new Uint8Array([...body, ...new TextEncoder().encode(key)])
  const done = new Promise<void>((resolve) => { arrivals.set(key, { left: n - 1, done: resolve }) })
  const t0 = performance.now()
  await from.publish(RAW_TOPIC, data)
  await done
  arrivals.delete(key)
  return performance.now() - t0
}

const announce: number[] = []
const raw: number[] = []
for (let i = 0; i < count; i++) {
  announce.push(await announceOnce(i))
  raw.push(await rawOnce(i))
}
await swarm.stop()

announce.sort((a, b) => a - b)
raw.sort((a, b) => a - b)
const fmt = (x: number): string => `${x.toFixed(1)} ms`
const a50 = percentile(announce, 50)
const a99 = percentile(announce, 99)
const r50 = percentile(raw, 50)
const r99 = percentile(raw, 99)
process.stdout.write(`announce-latency: ${n} nodes, ${count} announcements, until every node has it: p50 ${fmt(a50)}, p99 ${fmt(a99)} (goal p99 <= 150 ms)\n`)
process.stdout.write(`baseline (plain gossipsub publish of the same bytes on a user topic, same run): p50 ${fmt(r50)}, p99 ${fmt(r99)}; ratio p50 ${(a50 / r50).toFixed(2)}x, p99 ${(a99 / r99).toFixed(2)}x\n`)
process.stdout.write(JSON.stringify({ nodes: n, announcements: count, p50: +a50.toFixed(1), p99: +a99.toFixed(1), max: +(announce.at(-1) ?? NaN).toFixed(1), baselineP50: +r50.toFixed(1), baselineP99: +r99.toFixed(1) }) + '\n')
