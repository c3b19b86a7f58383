/**
 * Protocol defects an independent peer found (issue 13, part 2), each replayed
 * against a swarm: names from Hello, CIDv0 in announcements, the penalty across
 * both topics.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import type { SwarmNode } from '../src/node/index.js'
import { decodeWire, encodeWire, type WireMessage } from '../src/pubsub/codec.js'
import { createLocalSwarm, type LocalSwarm } from '../src/testing/index.js'
import type { TopicMessage } from '../src/net/network.js'
import { once } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { fileOf, pb, rawPeer } from './helpers/pubsub.js'

async function localSwarm (t: { after: (fn: () => Promise<void>) => void }, init: Parameters<typeof createLocalSwarm>[0]): Promise<LocalSwarm> {
  const swarm = await createLocalSwarm(init)
  t.after(async () => { await swarm.stop() })
  return swarm
}

/**
 * A swarm of two that has met (its join-time Hellos long gone), and an independent raw peer
 * subscribed to its topics; `hellos`: the Hellos of the target (the first node) the raw peer got.
 */
async function helloScene (t: { after: (fn: () => Promise<void>) => void }): Promise<{ target: SwarmNode, raw: Awaited<ReturnType<typeof rawPeer>>, hellos: WireMessage[] }> {
  const swarm = await localSwarm(t, { size: 2 })
  const [target] = swarm.nodes as [SwarmNode, SwarmNode]
  const { announce, request } = target.topics
  await waitFor(() => target.peerName(swarm.nodes[1]!.peerId) != null, { message: 'the swarm\'s own names' })
  const hellos: WireMessage[] = []
  const onMessage = (msg: TopicMessage): void => {
    const r = decodeWire('announce', msg.data)
    if (msg.from === target.peerId && r.ok && r.message.type === 'hello') hellos.push(r.message)
  }
  const raw = await rawPeer(t, swarm.dir, target, [announce, request], { subscribe: true, onMessage })
  return { target, raw, hellos }
}

test('Hello names a peer: an independent peer that sends only Hello (no swarmdrop agent string) gets its name, and a new subscriber gets ours', async (t) => {
  const { target, raw, hellos } = await helloScene(t)
  const { announce } = target.topics

  const named = once(target, 'peer:name', { filter: d => d.id === raw.peerId, signal: AbortSignal.timeout(10_000) })
  await raw.publish(announce, encodeWire({ type: 'hello', name: 'indie ☕' }))
  assert.equal((await named).name, 'indie ☕')
  assert.equal(target.peerName(raw.peerId), 'indie ☕')
  assert.equal((await target.peers()).find(p => p.id === raw.peerId)?.name, 'indie ☕')

  // the target greets the newcomer: its subscription (and its Hello) make the target say Hello again
  await waitFor(() => hellos.length >= 1, { message: 'the target\'s Hello at the new subscriber' })
  assert.deepEqual(hellos[0], { type: 'hello', name: target.name })
})

test('Hello: a stranger\'s first Hello is answered even right after our own Hello (gossipsub may not have delivered ours to it)', async (t) => {
  const { target, raw, hellos } = await helloScene(t)
  const { announce } = target.topics
  // the newcomer's subscription makes the target say Hello; the newcomer's own Hello follows at once
  await waitFor(() => hellos.length >= 1, { message: 'the target\'s Hello at the new subscriber' })
  await raw.publish(announce, encodeWire({ type: 'hello', name: 'newcomer' }))
  // a stranger's first Hello: the target cannot know that its own reached it, so it says Hello again
  await waitFor(() => hellos.length >= 2, { message: 'the target\'s Hello answering the stranger' })
  assert.equal(target.peerName(raw.peerId), 'newcomer')
})

test('Hello: a late joiner and the swarm learn each other\'s names without identify', async (t) => {
  const swarm = await localSwarm(t, { size: 3 })
  await waitFor(() => swarm.nodes.every(a => swarm.nodes.every(b => a === b || a.peerName(b.peerId) === b.name)), { message: 'names within the swarm' })
  const late = await swarm.addNode()
  await waitFor(() => swarm.nodes.every(n => n === late || (late.peerName(n.peerId) === n.name && n.peerName(late.peerId) === late.name)), {
    message: () => `names between the late joiner and the swarm: ${swarm.nodes.map(n => `${n.name}→${late.peerName(n.peerId) ?? '?'}`).join(', ')}`
  })
})

test('CIDv0: an announcement by CIDv0 is listed, found and keyed by its CIDv1 everywhere', async (t) => {
  const swarm = await localSwarm(t, { size: 2 })
  const [a, b] = swarm.nodes as [SwarmNode, SwarmNode]
  const file = await fileOf('v0 file')
  const v1 = CID.createV1(0x70, CID.parse(file.cid).multihash)
  const v0 = CID.createV0(v1.multihash as any).toString()
  assert.ok(v0.startsWith('Qm'))

  const heard = once(b, 'file:announced', { filter: d => d.peer === a.peerId, signal: AbortSignal.timeout(10_000) })
  await a.protocol.announce({ ...file, cid: v0 })
  assert.equal((await heard).entry.cid, v1.toString())
  for (const n of [a, b]) {
    assert.equal(n.protocol.entry(v0)?.cid, v1.toString(), 'found by either form')
    assert.equal(n.protocol.entry(v1.toString())?.cid, v1.toString())
  }
  assert.deepEqual(b.protocol.providers(v0), [a.peerId])

  // a raw peer's announcement carrying the v0 bytes on the wire: the same
  const raw = await rawPeer(t, swarm.dir, b, [b.topics.announce])
  const heardRaw = once(b, 'file:announced', { filter: d => d.peer === raw.peerId, signal: AbortSignal.timeout(10_000) })
  await raw.publish(b.topics.announce, pb.announce({ cid: CID.parse(v0).bytes, name: 'raw-v0.bin', size: 1n, mediaType: 'text/plain' }))
  assert.equal((await heardRaw).entry.cid, v1.toString())
  assert.deepEqual(new Set(b.protocol.providers(v0)), new Set([a.peerId, raw.peerId]))
})

test('penalty: three rejected messages graylist their deliverer on any mix of the two topics (2 on announce + 1 on request)', async (t) => {
  const swarm = await localSwarm(t, { size: 2 })
  const [target] = swarm.nodes as [SwarmNode, SwarmNode]
  const raw = await rawPeer(t, swarm.dir, target, [target.topics.announce, target.topics.request])
  const rejected: string[] = []
  const onRejected = (evt: CustomEvent<{ via?: string, topic: string }>): void => { if (evt.detail.via === raw.peerId) rejected.push(evt.detail.topic) }
  target.protocol.addEventListener('message:rejected', onRejected)
  t.after(() => { target.protocol.removeEventListener('message:rejected', onRejected) })

  const bad = (i: number): Uint8Array => new Uint8Array([...pb.int(1, 1), ...pb.bytes(2, pb.bytes(1, '')), i])
  await raw.publish(target.topics.announce, bad(1))
  await raw.publish(target.topics.announce, bad(2))
  await waitFor(() => rejected.length === 2, { message: () => `2 rejections on announce (got ${rejected.length})` })
  await raw.publish(target.topics.request, bad(3))
  await waitFor(() => rejected.length === 3, { message: () => `3 rejections (got ${rejected.length})` })
  assert.deepEqual(rejected, [target.topics.announce, target.topics.announce, target.topics.request])
  // gossipsub caches scores until its next refresh: wait for it (a deadline that only catches a hang)
  await waitFor(() => target.network.score(raw.peerId) < -80, { message: () => `the deliverer graylisted (score ${target.network.score(raw.peerId)} < -80)` })
  t.diagnostic(`deliverer's score after 2 + 1 rejected messages: ${target.network.score(raw.peerId)}`)
  assert.ok(target.network.score(swarm.nodes[1]!.peerId) >= 0, 'the honest peer is untouched')
})
