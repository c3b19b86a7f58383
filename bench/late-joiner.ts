/**
 * Late joiner (issue 4): a swarm of --nodes (default 20) nodes in one process
 * holds --files (default 20) files announced round-robin; a new node joins,
 * --rounds times (default 5), and we count the messages published on the wire
 * until it has the whole catalog, and the time it took.
 *
 * Two ways to bring it up to date, alternated, both measured in this run:
 * - swarmdrop: its own catalog request (named responder answers at once, the
 *   others only fill gaps after a delay);
 * - naive baseline: every peer answers with every file it knows, one message
 *   per file (what "peers x files" means), as soon as it hears the newcomer.
 *
 * Counting: the sum of what every node published (protocol counters and the
 * baseline's own publishes), cross-checked against a passive observer (node 0):
 * every message it receives on the swarm's topics and on the baseline's trigger
 * topic, plus its own (`observed`, null when the two never agreed: under load
 * libp2p's connection monitor can drop a peer whose pings time out; connections
 * are re-dialled between rounds).
 * Usage: npm run bench -- late-joiner [--nodes 20] [--files 20] [--rounds 5]
 */
import '../src/polyfill.js'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as delay } from 'node:timers/promises'
import { createSwarmNode, type SwarmNode } from '../src/node/index.js'
import { encodeWire } from '../src/pubsub/codec.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import { fileOf } from '../test/helpers/pubsub.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20' },
    files: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' }
  }
})
const n = Number(values.nodes)
const fileCount = Number(values.files)
const rounds = Number(values.rounds)
const NAIVE_TOPIC = 'bench/naive-catalog-request'
const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const pubsub = { reannounceInterval: 3_600_000, providerTtl: 7_200_000 }

const swarm = await createLocalSwarm({ size: n, timeout: 180_000, node: { pubsub } })
const nodes = swarm.nodes
const observer = nodes[0]!
for (let i = 0; i < fileCount; i++) await nodes[i % n]!.protocol.announce(await fileOf(`late-joiner-bench-${i}`))
await waitFor(() => nodes.every(x => x.protocol.catalog().length === fileCount), { timeout: 60_000, message: 'the swarm to know every file' })

// the naive baseline: on the newcomer's trigger, every node publishes one catalog answer per file it knows
let naivePublished = 0
let observerNaive = 0
let naiveResponders = 0
for (const node of nodes) {
  node.subscribe(NAIVE_TOPIC, () => {
    naiveResponders++
    const now = Date.now()
    for (const e of node.protocol.catalog()) {
      const records = [{ meta: { cid: e.cid, name: e.name, size: e.size, mediaType: e.mediaType, encrypted: e.encrypted }, providers: e.providers.slice(0, 64).map(p => ({ peer: p.peer, complete: p.complete, ageMs: now - p.lastSeen })) }]
      const requestId = Array.from(crypto.getRandomValues(new Uint8Array(8)), b => b.toString(16).padStart(2, '0')).join('')
      naivePublished++
      if (node === observer) observerNaive++
      void node.network.publish(node.topics.announce, encodeWire({ type: 'catalog-answer', requestId, records }))
    }
  })
}

const watched = new Set([observer.topics.announce, observer.topics.request, NAIVE_TOPIC])
let seen = 0
observer.network.addEventListener('message', (evt) => { if (watched.has(evt.detail.topic)) seen++ })
const published = (): number => [...nodes, ...joiners].reduce((s, x) => s + x.protocol.stats().published, 0) + naivePublished
const observerPublished = (): number => observer.protocol.stats().published + observerNaive
const idle = (x: SwarmNode): boolean => x.protocol.stats().pendingAnswers === 0 && x.protocol.stats().pendingRequests === 0
const joiners: SwarmNode[] = []

/** Re-dials connections lost under load (libp2p's connection monitor drops a peer whose pings time out), as createLocalSwarm dialled them. */
async function heal (): Promise<void> {
  for (const [i, node] of nodes.entries()) {
    const connected = new Set(node.network.connections().map(c => c.peer))
    for (const t of nodes.slice(0, i).reverse().slice(0, 8)) {
      if (!connected.has(t.peerId)) await node.dial(t.getMultiaddrs()[0]!).catch(() => {})
    }
  }
  await swarm.waitForMesh({ timeout: 60_000 })
}

async function join1 (round: number, mode: 'swarmdrop' | 'naive'): Promise<{ messages: number, observed: number | null, ms: number }> {
  await heal()
  // a quiet second first: gossipsub replays the last second of messages to a new peer
  await delay(1_500)
  await waitFor(() => nodes.every(idle), { timeout: 60_000 })
  const seen0 = seen
  const own0 = observerPublished()
  const total0 = published()
  const late = await createSwarmNode({
    repo: join(swarm.dir, `late-${round}-${mode}`),
    name: `late-${round}`,
    listen: LOCAL,
    mdns: false,
    // the naive newcomer does not send swarmdrop's catalog request
    pubsub: mode === 'naive' ? { ...pubsub, joinDelay: 3_600_000 } : pubsub
  })
  joiners.push(late)
  const t0 = performance.now()
  // like createLocalSwarm: dial the 8 most recent nodes
  await Promise.all(nodes.slice(-8).map(async x => await late.dial(x.getMultiaddrs()[0]!)))
  if (mode === 'naive') {
    await waitFor(() => late.network.getSubscribers(NAIVE_TOPIC).length > 0, { timeout: 30_000 })
    late.subscribe(NAIVE_TOPIC, () => {})
    naiveResponders = 0
    naivePublished++
    await late.publish(NAIVE_TOPIC, new Uint8Array([1]))
  }
  await waitFor(() => late.protocol.catalog().length === fileCount, { timeout: 60_000, interval: 5, message: () => `the newcomer's catalog (${late.protocol.catalog().length} of ${fileCount})` })
  const ms = performance.now() - t0
  // every answer timer has fired (sent or suppressed); in the baseline, every node has answered
  await waitFor(() => [...nodes, late].every(idle) && (mode === 'swarmdrop' || naiveResponders === n), { timeout: 60_000 })
  const messages = published() - total0
  const observed = (): number => seen - seen0 + observerPublished() - own0
  // the observer's count agrees once every message reached it (unless load cost it its connections)
  const agreed = await waitFor(() => observed() === messages, { timeout: 5_000 }).then(() => true, () => false)
  await late.stop()
  return { messages, observed: agreed ? observed() : null, ms }
}

const results: Record<'swarmdrop' | 'naive', Array<{ messages: number, observed: number | null, ms: number }>> = { swarmdrop: [], naive: [] }
for (let r = 0; r < rounds; r++) {
  results.naive.push(await join1(r, 'naive'))
  results.swarmdrop.push(await join1(r, 'swarmdrop'))
}
await swarm.stop()

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = results.swarmdrop
const nv = results.naive
const msgS = mean(sd.map(x => x.messages))
const msgN = mean(nv.map(x => x.messages))
const msS = mean(sd.map(x => x.ms))
const msN = mean(nv.map(x => x.ms))
process.stdout.write(`late-joiner: ${n} nodes, ${fileCount} files, ${rounds} joins each: swarmdrop ${msgS.toFixed(1)} messages on the wire per late joiner (min ${Math.min(...sd.map(x => x.messages))}, max ${Math.max(...sd.map(x => x.messages))}), full catalog in ${msS.toFixed(0)} ms (max ${Math.max(...sd.map(x => x.ms)).toFixed(0)} ms)\n`)
process.stdout.write(`baseline (every peer answers every file, same run): ${msgN.toFixed(1)} messages (peers x files = ${n * fileCount}), full catalog in ${msN.toFixed(0)} ms; ratio messages ${(msgS / msgN).toFixed(3)}x, time ${(msS / msN).toFixed(2)}x\n`)
process.stdout.write(JSON.stringify({ nodes: n, files: fileCount, rounds, swarmdrop: sd, naive: nv }) + '\n')
