/**
 * Acceptance 4: a raw gossipsub peer floods the swarmdrop topics with 10,000
 * random and mutated messages. The target stays up, rejects every one, and
 * still announces and fetches normally afterwards.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOrCreateIdentity } from '../src/net/identity.js'
import { createNetwork, type Network } from '../src/net/network.js'
import type { SwarmNode } from '../src/node/index.js'
import { decodeWire, encodeWire, type TopicKind, type WireMessage } from '../src/pubsub/codec.js'
import { MAX_MESSAGE_BYTES } from '../src/pubsub/constants.js'
import { createLocalSwarm, type LocalSwarm } from '../src/testing/index.js'
import { once } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { cidOf, countEvents, fileOf, pb } from './helpers/pubsub.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const FLOOD = 10_000
const PEER = '12D3KooWSa5uzdyrFTDZioDRZ7BYdcMx8N13Le8V8TrWJM1F4n73'

type RawNetwork = Network & { start: () => Promise<void>, stop: () => Promise<void> }

/** A bare libp2p peer with gossipsub and no swarmdrop validators: it only publishes. */
async function attacker (t: { after: (fn: () => Promise<void>) => void }, swarm: LocalSwarm, target: SwarmNode): Promise<RawNetwork> {
  const repo = join(swarm.dir, 'attacker')
  await mkdir(repo, { recursive: true })
  const privateKey = await loadOrCreateIdentity(repo)
  const net = await createNetwork({ privateKey, listen: LOCAL, mdns: false, agent: 'fuzzer' })
  await net.start()
  t.after(async () => { await net.stop() })
  await net.dial(target.getMultiaddrs()[0]!)
  await waitFor(() => [target.topics.announce, target.topics.request].every(topic => net.getSubscribers(topic).includes(target.peerId)), { message: 'the target\'s subscriptions' })
  return net
}

/** Valid messages of every type: the seeds that mutations start from. */
async function validSeeds (): Promise<Array<{ kind: TopicKind, bytes: Uint8Array }>> {
  const cid = await cidOf('seed')
  const meta = { cid, name: 'seed.txt', size: 42, mediaType: 'text/plain', encrypted: false }
  const messages: WireMessage[] = [
    { type: 'hello', name: 'seed' },
    { type: 'announce', files: [{ meta, complete: true }] },
    { type: 'withdraw', cids: [cid] },
    { type: 'have', cid, complete: false, requestId: '0011223344556677' },
    { type: 'catalog-answer', requestId: '0011223344556677', records: [{ meta, providers: [{ peer: PEER, complete: true, ageMs: 5 }] }] },
    { type: 'want', requestId: '0011223344556677', cid },
    { type: 'catalog-request', requestId: '0011223344556677', responder: PEER }
  ]
  return messages.map(m => ({ kind: m.type === 'want' || m.type === 'catalog-request' ? 'request' : 'announce', bytes: encodeWire(m) }))
}

interface Fuzzed { kind: TopicKind, bytes: Uint8Array }

/**
 * 10,000 invalid messages: random bytes, mutated valid messages (bit flips, truncation, splices;
 * the rare mutation that stays valid is dropped), and valid messages broken on one rule each.
 */
async function fuzzedMessages (count: number, seed: number): Promise<Fuzzed[]> {
  const seeds = await validSeeds()
  const cid = CID.parse(await cidOf('seed')).bytes
  const kind = fc.constantFrom<TopicKind>('announce', 'request')
  const seedArb = fc.constantFrom(...seeds)

  const random = fc.record({ kind, bytes: fc.uint8Array({ maxLength: 600 }) })
  const mutated = fc.tuple(seedArb, fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'set', 'cut', 'insert', 'delete')), { minLength: 1, maxLength: 4 }))
    .map(([s, edits]) => {
      const b = [...s.bytes]
      for (const [at, value, op] of edits) {
        const i = at % Math.max(1, b.length)
        if (op === 'flip') b[i] = (b[i] ?? 0) ^ (1 << (value % 8))
        else if (op === 'set') b[i] = value
        else if (op === 'cut') b.length = Math.max(0, Math.min(b.length - 1, i))
        else if (op === 'insert') b.splice(i, 0, value)
        else b.splice(i, 1)
      }
      return { kind: s.kind, bytes: new Uint8Array(b) }
    })
  // one broken rule each: invalid by construction
  const broken: fc.Arbitrary<Fuzzed> = fc.oneof(
    fc.tuple(seedArb, fc.integer({ min: 2, max: 0xffffffff })).map(([s, v]) => ({ kind: s.kind, bytes: new Uint8Array([...pb.int(1, v), ...s.bytes.subarray(2)]) })),
    seedArb.map(s => ({ kind: (s.kind === 'announce' ? 'request' : 'announce') as TopicKind, bytes: s.bytes })),
    fc.bigInt({ min: -(2n ** 63n), max: -1n }).map(size => ({ kind: 'announce' as const, bytes: pb.announce({ cid, name: 'n', size, mediaType: 'text/plain' }) })),
    fc.string({ minLength: 256, maxLength: 400 }).map(name => ({ kind: 'announce' as const, bytes: pb.announce({ cid, name, size: 1n, mediaType: 'text/plain' }) })),
    fc.uint8Array({ minLength: 0, maxLength: 40 }).map(bad => ({ kind: 'announce' as const, bytes: pb.announce({ cid: bad, name: 'n', size: 1n, mediaType: 'text/plain' }) })),
    fc.string({ maxLength: 20 }).filter(s => !s.includes('/')).map(mediaType => ({ kind: 'announce' as const, bytes: pb.announce({ cid, name: 'n', size: 1n, mediaType }) })),
    fc.integer({ min: 0, max: 0x1f }).map(c => ({ kind: 'announce' as const, bytes: pb.announce({ cid, name: `a${String.fromCharCode(c)}b`, size: 1n, mediaType: 'text/plain' }) })),
    fc.constant({ kind: 'announce' as const, bytes: new Uint8Array([...pb.int(1, 1), ...pb.bytes(2, pb.bytes(1, 'a')), ...pb.bytes(4, [])]) }),
    fc.constant({ kind: 'announce' as const, bytes: new Uint8Array([...pb.int(1, 1)]) })
  )
  const all = fc.oneof({ arbitrary: random, weight: 4 }, { arbitrary: mutated, weight: 3 }, { arbitrary: broken, weight: 3 })
    .filter(m => !decodeWire(m.kind, m.bytes).ok)
  const out = fc.sample(all, { numRuns: count - 10, seed })
  // a few over the 64 KiB cap, valid inside
  const big = encodeWire({ type: 'hello', name: 'big' })
  for (let i = 0; i < 10; i++) {
    const padded = new Uint8Array(MAX_MESSAGE_BYTES + 1 + i * 1000)
    padded.set(big)
    out.push({ kind: i % 2 === 0 ? 'announce' : 'request', bytes: padded })
  }
  return out
}

test('acceptance 4: 10,000 random and mutated messages from a raw peer are all rejected; the node still announces and fetches', async (t) => {
  // graylisting off on the target so every message reaches its validator (the next test covers scoring):
  // no application penalty, and score thresholds no peer can fall below
  const noGraylist = { gossipThreshold: -Infinity, publishThreshold: -Infinity, graylistThreshold: -Infinity }
  const swarm = await createLocalSwarm({ size: 2, nodes: { 0: { pubsub: { invalidMessagePenalty: 0 }, gossipsub: { scoreThresholds: noGraylist } } } }, t)
  const [target, honest] = swarm.nodes as [SwarmNode, SwarmNode]
  const raw = await attacker(t, swarm, target)
  const messages = await fuzzedMessages(FLOOD, 4242)
  assert.equal(messages.length, FLOOD)

  const rejected = countEvents<{ peer: string }>(target.protocol as unknown as EventTarget, 'message:rejected', d => d.peer === raw.peerId)
  const accepted = countEvents<{ from: string }>(target.network as unknown as EventTarget, 'message', d => d.from === raw.peerId)
  t.after(() => { rejected.stop(); accepted.stop() })
  const topics = { announce: target.topics.announce, request: target.topics.request }
  // attacker and target share this process's event loop: keep at most WINDOW messages in flight, or on a
  // loaded machine the backlog delays libp2p's connection-monitor pings past their 5 s timeout and the
  // connection is closed (with the messages on it)
  const WINDOW = 100
  const started = Date.now()
  for (const [i, m] of messages.entries()) {
    if (i - rejected.count >= WINDOW) await waitFor(() => i - rejected.count < WINDOW / 2, { timeout: 20_000, message: () => `the target to catch up (${rejected.count} of ${i}; attacker score ${target.network.score(raw.peerId)}, connected ${target.network.connections().some(c => c.peer === raw.peerId)})` })
    await raw.publish(topics[m.kind], m.bytes)
  }

  t.diagnostic(`published in ${Date.now() - started} ms`)
  await waitFor(() => rejected.count === FLOOD, { timeout: 40_000, message: () => `${FLOOD} rejections (got ${rejected.count})` })
  t.diagnostic(`rejected in ${Date.now() - started} ms`)
  assert.equal(accepted.count, 0)
  assert.ok(target.isStarted() && target.network.isStarted())
  assert.equal(target.protocol.catalog().length, 0)
  const reasons = target.protocol.stats().rejectedByReason
  t.diagnostic(`rejections by reason: ${JSON.stringify(reasons)}`)
  for (const r of ['oversized', 'undecodable', 'version', 'wrong-topic', 'bad-cid', 'bad-name', 'bad-size', 'bad-media-type'] as const) {
    assert.ok((reasons[r] ?? 0) > 0, `some messages were rejected as ${r}`)
  }

  // afterwards: a fresh announcement arrives, and a file shared by the honest node is fetched
  const bytes = new TextEncoder().encode('still alive after the flood\n'.repeat(1000))
  const heard = once(target, 'file:announced', { filter: d => d.peer === honest.peerId, signal: AbortSignal.timeout(10_000) })
  const record = await honest.share(bytes, { name: 'after-the-flood.txt' })
  assert.equal((await heard).entry.cid, record.cid)
  const result = await target.fetch(record.cid, { timeout: 10_000 })
  assert.equal(result.size, bytes.byteLength)
  const chunks: Uint8Array[] = []
  for await (const c of target.store.cat(record.cid)) chunks.push(c)
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(bytes))
  // and the target's own announcement reaches the honest node
  const file = await fileOf('from-the-target')
  const back = once(honest, 'file:announced', { filter: d => d.entry.cid === file.cid, signal: AbortSignal.timeout(10_000) })
  await target.protocol.announce(file)
  assert.equal((await back).peer, target.peerId)
})

test('acceptance 4 (scoring): rejected messages score their signer down to the graylist; honest peers are untouched', async (t) => {
  const swarm = await createLocalSwarm({ size: 2 }, t)
  const [target, honest] = swarm.nodes as [SwarmNode, SwarmNode]
  const raw = await attacker(t, swarm, target)
  const rejected = countEvents<{ peer: string }>(target.protocol as unknown as EventTarget, 'message:rejected', d => d.peer === raw.peerId)
  t.after(() => { rejected.stop() })

  const messages = await fuzzedMessages(300, 7)
  for (const m of messages) await raw.publish(m.kind === 'announce' ? target.topics.announce : target.topics.request, m.bytes)
  // gossipsub graylists at -80: each rejection costs the signer 10 in application score, and the swarm
  // topics' score counts invalid deliveries (squared, weight -10: three put a peer at -90)
  await waitFor(() => target.network.score(raw.peerId) < -80, { message: () => `the attacker's score below -80 (is ${target.network.score(raw.peerId)} after ${rejected.count} rejections)` })
  t.diagnostic(`${rejected.count} of ${messages.length} messages reached the validator before the attacker was graylisted`)
  assert.ok(rejected.count >= 1 && rejected.count <= messages.length)
  assert.ok(target.network.score(honest.peerId) >= 0)

  const file = await fileOf('scored')
  const heard = once(target, 'file:announced', { filter: d => d.entry.cid === file.cid, signal: AbortSignal.timeout(10_000) })
  await honest.protocol.announce(file)
  assert.equal((await heard).peer, honest.peerId)
})
