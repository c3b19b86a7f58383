/**
 * Bounds that identities minted by the thousand cannot multiply (issues 13 part 1
 * and 18): the catalog's global budget and its eviction order, first-hand before
 * second-hand, metadata squatting, replay after withdraw, rate limits per
 * delivering peer and in total, and catalog answers that pass on only what the
 * answerer verified itself.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { Catalog } from '../src/pubsub/catalog.js'
import { decodeWire, encodeWire, type FileMeta, type WireMessage } from '../src/pubsub/codec.js'
import {
  MAX_CATALOG_BYTES, MAX_PROVIDERS_PER_FILE, WANT_ANSWERS_PER_S, WANT_BURST, WANT_BURST_PER_PEER, WANT_BURST_TOTAL, WANT_RATE_PER_PEER_S, WANT_RATE_TOTAL_S
} from '../src/pubsub/constants.js'
import { ProtocolContext } from '../src/pubsub/context.js'
import { swarmTopics } from '../src/pubsub/topics.js'
import { MessageValidator } from '../src/pubsub/validation.js'
import { Wants } from '../src/pubsub/wants.js'
import type { Network, TopicMessage } from '../src/net/network.js'
import { MAX_TOPICS_PER_PEER } from '../src/net/constants.js'
import type { SwarmNode } from '../src/node/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import { cidOf, fakePeer, fileOf, rawPeer } from './helpers/pubsub.js'

const SELF = '12D3KooWS9ka9oUeJpQBcu4n858vZpv4jEwxqf5igoJB5bF3Kde8'
const HONEST = '12D3KooWSa5uzdyrFTDZioDRZ7BYdcMx8N13Le8V8TrWJM1F4n73'

async function meta (seed: string, extra: Partial<FileMeta> = {}): Promise<FileMeta> {
  return { cid: await cidOf(seed), name: `${seed}.bin`, size: 1024, mediaType: 'application/octet-stream', encrypted: false, ...extra }
}

test('catalog budget: 50 throw-away signers × 100 files never hold more than the budget, and the connected long-lived provider keeps every file', async () => {
  const maxPairs = 1_000
  const catalog = new Catalog(SELF, () => {}, { maxPairs, connected: () => new Set([HONEST]) })
  const honest = await Promise.all(Array.from({ length: 100 }, async (_, i) => await meta(`honest-${i}`)))
  for (const m of honest) catalog.add({ cid: m.cid, peer: HONEST, meta: m, complete: true, lastSeen: 1, firstHand: true }, 1)
  let peak = 0
  for (let s = 0; s < 50; s++) {
    for (let i = 0; i < 100; i++) {
      const m = await meta(`flood-${s}-${i}`)
      catalog.add({ cid: m.cid, peer: fakePeer(s), meta: m, complete: true, lastSeen: 100 + s, firstHand: true }, 100 + s)
      peak = Math.max(peak, catalog.usage().pairs)
    }
  }
  assert.ok(peak <= maxPairs, `at most ${maxPairs} pairs held at any time (peak ${peak})`)
  for (const m of honest) assert.deepEqual(catalog.providers(m.cid).map(p => p.peer), [HONEST], `${m.name} still listed`)
  assert.ok(catalog.size <= maxPairs && catalog.size >= 100)
})

test('catalog budget: bytes are capped too (long names), the local node is never evicted', async () => {
  const maxBytes = 200_000
  const catalog = new Catalog(SELF, () => {}, { maxBytes })
  const own = await meta('own')
  catalog.add({ cid: own.cid, peer: SELF, meta: own, complete: true, lastSeen: 0, firstHand: true })
  let peak = 0
  for (let i = 0; i < 2_000; i++) {
    const m = await meta(`long-${i}`, { name: 'n'.repeat(250) })
    catalog.add({ cid: m.cid, peer: fakePeer(i % 40), meta: m, complete: true, lastSeen: i, firstHand: true }, i)
    peak = Math.max(peak, catalog.usage().bytes)
  }
  assert.ok(peak <= maxBytes, `at most ${maxBytes} bytes (peak ${peak})`)
  assert.deepEqual(catalog.providers(own.cid).map(p => p.peer), [SELF])
  assert.ok(MAX_CATALOG_BYTES >= 16 * 1024 * 1024)
})

test('provider poisoning: reported providers never push out one heard first-hand; at the cap a first-hand one evicts a report', async () => {
  const catalog = new Catalog(SELF, () => {})
  const m = await meta('poisoned')
  for (let i = 0; i < MAX_PROVIDERS_PER_FILE; i++) {
    assert.equal(catalog.add({ cid: m.cid, peer: fakePeer(i), meta: m, complete: true, lastSeen: 1, firstHand: false }), 'added')
  }
  assert.equal(catalog.add({ cid: m.cid, peer: fakePeer(9_999), meta: m, complete: true, lastSeen: 1, firstHand: false }), 'refused', 'one more report is refused')
  assert.equal(catalog.add({ cid: m.cid, peer: HONEST, meta: m, complete: true, lastSeen: 2, firstHand: true }), 'added', 'the real provider is not locked out')
  assert.equal(catalog.providers(m.cid).length, MAX_PROVIDERS_PER_FILE)
  assert.ok(catalog.providers(m.cid).some(p => p.peer === HONEST))
  // answers pass on only what this node verified: the first-hand provider, not the 255 reports
  assert.deepEqual([...catalog.pairs()].map(p => p.peer), [HONEST])
})

test('metadata squatting: the first provider\'s own metadata stays, later differing ones are recorded as conflicts, and the local node\'s own always wins', async () => {
  const catalog = new Catalog(SELF, () => {})
  const real = await meta('report', { name: 'quarterly-report.pdf', size: 52_000, mediaType: 'application/pdf' })
  const squat = { ...real, name: 'run-me.sh', size: 1, encrypted: true }
  catalog.add({ cid: real.cid, peer: fakePeer(1), meta: squat, complete: true, lastSeen: 1, firstHand: true })
  catalog.add({ cid: real.cid, peer: HONEST, meta: real, complete: true, lastSeen: 2, firstHand: true })
  const entry = catalog.get(real.cid)
  assert.equal(entry?.name, 'run-me.sh', 'first heard is shown...')
  assert.deepEqual(entry?.conflicts, [{ peer: HONEST, name: 'quarterly-report.pdf', size: 52_000, mediaType: 'application/pdf', encrypted: false }], '...with the conflict beside it')
  // the squatter's later "louder" announcements of the same cannot replace the honest one's record
  catalog.add({ cid: real.cid, peer: fakePeer(2), meta: squat, complete: true, lastSeen: 3, firstHand: true })
  assert.equal(catalog.get(real.cid)?.conflicts?.length, 1)
  // this node shares the file: its own metadata is what it shows, the squatter's is now the conflict
  catalog.add({ cid: real.cid, peer: SELF, meta: real, complete: true, lastSeen: 4, firstHand: true })
  const mine = catalog.get(real.cid)
  assert.equal(mine?.name, 'quarterly-report.pdf')
  assert.equal(mine?.size, 52_000)
  assert.ok(mine?.conflicts?.some(c => c.name === 'run-me.sh'), 'the squat is recorded')
  catalog.add({ cid: real.cid, peer: fakePeer(3), meta: squat, complete: true, lastSeen: 5, firstHand: true })
  assert.equal(catalog.get(real.cid)?.name, 'quarterly-report.pdf', 'nobody overrides the local metadata')
})

test('replay after withdraw: an announcement older than the provider\'s withdrawal (its own clock) is refused, even after the TTL', async () => {
  const catalog = new Catalog(SELF, () => {})
  const m = await meta('withdrawn')
  const ttl = 90_000
  assert.equal(catalog.add({ cid: m.cid, peer: HONEST, meta: m, complete: true, lastSeen: 1_000, firstHand: true, issued: 5_000 }, 1_000), 'added')
  catalog.remove(m.cid, HONEST, 'withdrawn', 2_000, 6_000)
  catalog.expire(2_000 + 125_000, ttl)
  assert.equal(catalog.add({ cid: m.cid, peer: HONEST, meta: m, complete: true, lastSeen: 127_000, firstHand: true, issued: 5_000 }, 127_000), 'stale', 'the replayed announcement 125 s later')
  assert.equal(catalog.get(m.cid), undefined)
  assert.equal(catalog.add({ cid: m.cid, peer: HONEST, meta: m, complete: true, lastSeen: 128_000, firstHand: true, issued: 7_000 }, 128_000), 'added', 'a fresh announcement after it')
})

function fakeContext (published: WireMessage[] = []): ProtocolContext {
  const network = {
    peerId: SELF,
    penalize: () => {},
    isStarted: () => true,
    publish: async (_topic: string, data: Uint8Array) => {
      const r = decodeWire(_topic.endsWith('/request') ? 'request' : 'announce', data)
      if (r.ok) published.push(r.message)
      return []
    }
  } as unknown as Network
  const timing = { providerTtl: 90_000, reannounceInterval: 20_000, reannounceJitter: 0.25, joinDelay: 50, catalogFallbackDelay: 250, catalogAnswerWindow: 400, catalogRetry: 1000, wantTimeout: 5000, wantSettle: 50, wantAnswerWindow: 0, penalty: 30 }
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as any
  return new ProtocolContext({ network, catalog: new Catalog(SELF, () => {}), log, topics: swarmTopics('t'), timing, dispatch: () => {} })
}

test('rate limits: wants from 1,000 fresh signers on one connection are limited by that connection; others are limited by the node\'s total; each message is decoded once', async () => {
  const validator = new MessageValidator(fakeContext())
  const topic = swarmTopics('t').request
  const cid = await cidOf('wanted')
  const want = (from: string, via: string): TopicMessage => ({ topic, from, via, data: encodeWire({ type: 'want', requestId: '0011223344556677', cid }) })

  const started = Date.now()
  let accepted = 0
  for (let i = 0; i < 1_000; i++) if (validator.validate('request', want(fakePeer(i), HONEST)) === 'accept') accepted++
  const elapsedS = (Date.now() - started) / 1000
  // a token bucket: the burst plus what refilled meanwhile (an upper bound a slow machine only loosens)
  assert.ok(accepted >= WANT_BURST_PER_PEER, `the burst passes (${accepted})`)
  assert.ok(accepted <= WANT_BURST_PER_PEER + Math.ceil(WANT_RATE_PER_PEER_S * elapsedS) + 1, `${accepted} of 1,000 accepted from one connection`)

  // many connections: the total caps them all
  const started2 = Date.now()
  let total = accepted
  for (let c = 0; c < 20; c++) {
    for (let i = 0; i < WANT_BURST; i++) if (validator.validate('request', want(fakePeer(10_000 + c), fakePeer(20_000 + c))) === 'accept') total++
  }
  const elapsed2 = (Date.now() - started) / 1000
  assert.ok(total <= WANT_BURST_TOTAL + Math.ceil(WANT_RATE_TOTAL_S * elapsed2) + 1, `${total} accepted in total from 21 connections`)
  assert.ok(Date.now() >= started2)

  // decode once: what the handler takes is the validator's decoded object, then it is gone
  const msg: TopicMessage = { topic: swarmTopics('t').announce, from: HONEST, via: HONEST, data: encodeWire({ type: 'hello', name: 'x' }) }
  assert.equal(validator.validate('announce', msg), 'accept')
  const first = validator.take('announce', msg)
  assert.deepEqual(first, { type: 'hello', name: 'x' })
  assert.notEqual(validator.take('announce', msg), first, 'a second take decodes anew (nothing cached twice)')
})

test('want flood: 2,000 accepted Wants from fresh signers cost at most the answer budget in Haves', async () => {
  const published: WireMessage[] = []
  const ctx = fakeContext(published)
  ctx.started = true
  const wants = new Wants(ctx, async () => true)
  const cid = await cidOf('held')
  const started = Date.now()
  for (let i = 0; i < 2_000; i++) await wants.onWant(i.toString(16).padStart(16, '0'), cid)
  await waitFor(() => ctx.counters.pendingAnswers === 0, { message: 'the answer timers' })
  const elapsedS = (Date.now() - started) / 1000
  const haves = published.filter(m => m.type === 'have').length
  assert.ok(haves >= 2 * WANT_ANSWERS_PER_S, `the burst is answered (${haves})`)
  assert.ok(haves <= 2 * WANT_ANSWERS_PER_S + Math.ceil(WANT_ANSWERS_PER_S * elapsedS) + 1, `${haves} Haves for 2,000 Wants`)
  wants.stop()
  ctx.started = false
  ctx.clearTimers()
})

test('catalog answers: a node lists no made-up providers from answers to requests it never made, and its own answer carries only what it verified', async (t) => {
  const swarm = await createLocalSwarm({ size: 2 })
  t.after(async () => { await swarm.stop() })
  const [target] = swarm.nodes as [SwarmNode, SwarmNode]
  const own = await fileOf('target-own')
  await target.protocol.announce(own)
  const answers: Array<Extract<WireMessage, { type: 'catalog-answer' }>> = []
  const answerBytes: number[] = []
  const raw = await rawPeer(t, swarm.dir, target, [target.topics.announce, target.topics.request], {
    subscribe: true,
    onMessage: (m) => {
      const r = decodeWire('announce', m.data)
      if (m.from === target.peerId && r.ok && r.message.type === 'catalog-answer' && r.message.requestId === 'aabbccddeeff0011') {
        answers.push(r.message)
        answerBytes.push(m.data.byteLength)
      }
    }
  })
  // an answer to a request nobody made, listing 300 files "provided" by 300 made-up peers
  const records = await Promise.all(Array.from({ length: 300 }, async (_, i) => ({ meta: await meta(`fake-${i}`), providers: [{ peer: fakePeer(i), complete: true, ageMs: 0 }] })))
  const before = target.protocol.stats().receivedByType['catalog-answer'] ?? 0
  await raw.publish(target.topics.announce, encodeWire({ type: 'catalog-answer', requestId: '0123456789abcdef', records }))
  await waitFor(() => (target.protocol.stats().receivedByType['catalog-answer'] ?? 0) > before, { message: 'the answer at the target' })
  assert.equal(target.protocol.catalog().filter(e => e.name.startsWith('fake-')).length, 0, 'no made-up provider listed')

  // a 30-byte request naming the target: the answer is the target's own file (and the honest peer's), nothing reported
  const request = encodeWire({ type: 'catalog-request', requestId: 'aabbccddeeff0011', responder: target.peerId })
  await raw.publish(target.topics.request, request)
  await waitFor(() => answers.length >= 1, { timeout: 30_000, message: 'the target\'s answer' })
  const listed = answers.flatMap(a => a.records.flatMap(r => r.providers.map(p => `${r.meta.name} ${p.peer}`)))
  assert.deepEqual(listed, [`${own.name} ${target.peerId}`])
  const amplification = answerBytes.reduce((a, b) => a + b, 0) / request.byteLength
  t.diagnostic(`request ${request.byteLength} B → answer ${answerBytes.join('+')} B (×${amplification.toFixed(1)})`)
  assert.ok(amplification <= 10, `the answer is ≤ 10× the request (×${amplification.toFixed(1)})`)
})

test('many signers on one connection: 8 throw-away signers behind one relay announce 1,600 files; the catalog stays within its budget, the honest provider keeps its files and a fetch completes', async (t) => {
  const maxCatalogPairs = 600
  const swarm = await createLocalSwarm({ size: 2, nodes: { 0: { pubsub: { maxCatalogPairs } } } })
  t.after(async () => { await swarm.stop() })
  const [target, honest] = swarm.nodes as [SwarmNode, SwarmNode]
  const honestFiles = await Promise.all(Array.from({ length: 20 }, async (_, i) => await fileOf(`honest-${i}`)))
  for (const f of honestFiles) await honest.protocol.announce(f)
  await waitFor(() => honestFiles.every(f => target.protocol.entry(f.cid) != null), { message: 'the honest files at the target' })

  let peak = 0
  const onAdded = (): void => { peak = Math.max(peak, target.protocol.stats().catalogPairs) }
  target.protocol.addEventListener('provider:added', onAdded)
  t.after(() => { target.protocol.removeEventListener('provider:added', onAdded) })

  // the relay: a bare gossipsub peer connected to the target; the signers reach the target only through it
  const topic = target.topics.announce
  const relay = await rawPeer(t, swarm.dir, target, [topic], { subscribe: true })
  await waitFor(() => relay.getMeshPeers(topic).includes(target.peerId), { message: 'the relay in the target\'s mesh' })
  const signers = await Promise.all(Array.from({ length: 8 }, async () => await rawPeer(t, swarm.dir, { getMultiaddrs: () => relay.getMultiaddrs(), peerId: relay.peerId }, [topic], { subscribe: true })))
  await waitFor(() => signers.every(s => s.getMeshPeers(topic).includes(relay.peerId)), { message: 'the signers in the relay\'s mesh' })

  const before = target.protocol.stats().receivedByType.announce ?? 0
  for (const [s, signer] of signers.entries()) {
    for (let b = 0; b < 2; b++) {
      const files = await Promise.all(Array.from({ length: 100 }, async (_, i) => ({ meta: await meta(`flood-${s}-${b}-${i}`), complete: true })))
      await signer.publish(topic, encodeWire({ type: 'announce', files }))
    }
  }
  await waitFor(() => (target.protocol.stats().receivedByType.announce ?? 0) - before >= 16, {
    timeout: 60_000, message: () => `16 announcements through the relay (got ${(target.protocol.stats().receivedByType.announce ?? 0) - before})`
  })
  const stats = target.protocol.stats()
  t.diagnostic(`catalog after 1,600 flooded pairs: ${stats.catalogPairs} pairs (peak ${peak}), ${stats.catalogBytes} bytes`)
  assert.ok(peak <= maxCatalogPairs && stats.catalogPairs <= maxCatalogPairs, `within the budget (peak ${peak})`)
  for (const f of honestFiles) assert.deepEqual(target.protocol.providers(f.cid), [honest.peerId], `${f.name} kept`)

  // the honest operation alongside: a fetch from the honest provider completes
  const bytes = new TextEncoder().encode('honest bytes\n'.repeat(5000))
  const record = await honest.share(bytes, { name: 'honest.txt' })
  await waitFor(() => target.protocol.providers(record.cid).length > 0, { message: 'the honest share at the target' })
  const result = await target.fetch(record.cid, { timeout: 30_000 })
  assert.equal(result.size, bytes.byteLength)
})

test('subscription flood: a peer subscribing to more than MAX_TOPICS_PER_PEER topics is disconnected, and the topics it leaves behind are released', async (t) => {
  const swarm = await createLocalSwarm({ size: 2 })
  t.after(async () => { await swarm.stop() })
  const [target, honest] = swarm.nodes as [SwarmNode, SwarmNode]
  const raw = await rawPeer(t, swarm.dir, target, [target.topics.announce])
  const table = (): Map<string, Set<string>> => (target.network as any).libp2p.services.pubsub.topics
  const flooded = (): number => [...table().keys()].filter(k => k.startsWith('/flood/')).length

  const disconnected = new Promise<void>((resolve) => {
    const on = (evt: CustomEvent<{ peer: string }>): void => {
      if (evt.detail.peer !== raw.peerId) return
      target.network.removeEventListener('peer:disconnect', on)
      resolve()
    }
    target.network.addEventListener('peer:disconnect', on)
  })
  for (let i = 0; i <= MAX_TOPICS_PER_PEER + 50; i++) raw.subscribe(`/flood/${i}`)
  await Promise.race([disconnected, new Promise((_resolve, reject) => setTimeout(() => { reject(new Error(`not disconnected (${flooded()} flood topics held)`)) }, 30_000).unref())])
  // released: no table entry left for the topics only the attacker had
  await waitFor(() => flooded() === 0, { message: () => `the flood's topics released (${flooded()} held)` })
  assert.ok(target.network.connections().some(c => c.peer === honest.peerId), 'the honest peer stays connected')
  assert.ok(target.network.getSubscribers(target.topics.announce).includes(honest.peerId))
})
