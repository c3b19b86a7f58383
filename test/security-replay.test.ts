/**
 * Replay after the seen-cache (issue 18), end to end on the wire: a signer announces a file to a
 * victim node and withdraws it; an attacker that captured the signed gossipsub message of the
 * Announce sends it again, byte for byte, once the victim's gossipsub seen-cache has forgotten its
 * message id. The victim must take it in (it is a valid signed message) and still not list the
 * file: the Announce's issued_ms is not newer than the signer's Withdraw (catalog.ts tombstones).
 *
 * The victim's seen-cache is shortened to SEEN_TTL_MS with the node's gossipsub overrides
 * (`gossipsub: { seenTTL }`), so the test does not wait gossipsub's default 2 minutes.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { RPC } from '@chainsafe/libp2p-gossipsub/message'
import { encodeWire, type FileMeta } from '../src/pubsub/codec.js'
import type { SwarmNode } from '../src/node/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import { cidOf, rawPeer, type RawPeer } from './helpers/pubsub.js'

/** The victim's gossipsub seen-cache lifetime (default 120 s); pruned every heartbeat (200 ms). */
const SEEN_TTL_MS = 1_000

/** Gossipsub itself, under the network adapter: its seen-cache, message cache and raw RPC sending. */
function gossipsubOf (network: unknown): any {
  return (network as any).libp2p.services.pubsub
}

/** Message ids the gossipsub of `network` delivered (validated and accepted), with the message and the raw RPC message as received. */
function deliveries (network: unknown, topic: string): Array<{ msgId: string, from: string, seqno: bigint, data: Uint8Array, raw: any }> {
  const pubsub = gossipsubOf(network)
  const out: Array<{ msgId: string, from: string, seqno: bigint, data: Uint8Array, raw: any }> = []
  pubsub.addEventListener('gossipsub:message', (evt: CustomEvent) => {
    const { msgId, msg } = evt.detail
    if (msg.type !== 'signed' || msg.topic !== topic) return
    // the message cache holds the RPC message exactly as it arrived (put just before this event)
    out.push({ msgId, from: msg.from.toString(), seqno: msg.sequenceNumber, data: msg.data, raw: pubsub.mcache.msgs.get(msgId)?.message })
  })
  return out
}

test('replay after the seen-cache: a withdrawn file\'s signed Announce, sent again byte for byte once the victim\'s seen-cache forgot it, reaches the victim and is not listed; a fresh Announce after the Withdraw is', async (t) => {
  const swarm = await createLocalSwarm({ size: 1, nodes: { 0: { gossipsub: { seenTTL: SEEN_TTL_MS } } } }, t)
  const victim = swarm.nodes[0] as SwarmNode
  const topic = victim.topics.announce
  const atVictim = deliveries(victim.network, topic)

  // the attacker listens on the topic; the signer publishes to both (flood publish), so the attacker captures the Announce off the wire
  const attacker: RawPeer = await rawPeer(t, swarm.dir, victim, [topic], { subscribe: true, agent: 'attacker/1.0' })
  const atAttacker = deliveries(attacker, topic)
  const signer: RawPeer = await rawPeer(t, swarm.dir, victim, [topic])
  await signer.dial(attacker.getMultiaddrs()[0]!)
  await waitFor(() => signer.getSubscribers(topic).includes(attacker.peerId), { message: 'the attacker\'s subscription at the signer' })

  const meta: FileMeta = { cid: await cidOf('replayed'), name: 'replayed.txt', size: 8, mediaType: 'text/plain', encrypted: false }
  const listed = async (): Promise<boolean> => victim.protocol.entry(meta.cid) != null && (await victim.ls()).some(f => f.cid === meta.cid)
  // the signer's own clock, strictly increasing: Announce < Withdraw < fresh Announce
  const issued = Date.now()

  // 1. the Announce: listed by the victim, captured by the attacker
  await signer.publish(topic, encodeWire({ type: 'announce', files: [{ meta, complete: true }], issued }))
  await waitFor(listed, { message: 'the announced file listed at the victim' })
  await waitFor(() => atAttacker.some(d => d.from === signer.peerId), { message: 'the Announce captured by the attacker' })
  const captured = atAttacker.find(d => d.from === signer.peerId)!
  const original = atVictim.find(d => d.msgId === captured.msgId)
  assert.ok(original != null, 'the victim took in the message the attacker captured (same message id)')
  assert.ok(captured.raw != null && original.raw != null, 'both raw messages kept')
  const rawBytes = RPC.Message.encode(captured.raw)
  assert.deepEqual(RPC.Message.encode(original.raw), rawBytes, 'the attacker holds the signed message byte for byte as the victim received it')
  t.diagnostic(`captured Announce: ${rawBytes.byteLength} B signed message, id ${captured.msgId}, seqno ${captured.seqno}`)

  // 2. the Withdraw: unlisted
  await signer.publish(topic, encodeWire({ type: 'withdraw', cids: [meta.cid], issued: issued + 1 }))
  await waitFor(async () => !await listed(), { message: 'the withdrawn file unlisted at the victim' })

  // 3. the replay, once the victim's gossipsub no longer knows the message id (else it would drop it as a duplicate)
  const victimSub = gossipsubOf(victim.network)
  await waitFor(() => !victimSub.seenCache.has(captured.msgId), { timeout: 30_000, message: 'the victim\'s seen-cache to forget the Announce' })
  const before = victim.protocol.stats()
  const sent = gossipsubOf(attacker).sendRpc(victim.peerId, { subscriptions: [], messages: [captured.raw] })
  assert.equal(sent, true, 'the attacker sent the replay to the victim')
  // the protocol counts a message as received before the catalog decides on it, in the same turn
  await waitFor(() => (victim.protocol.stats().receivedByType.announce ?? 0) > (before.receivedByType.announce ?? 0), {
    timeout: 30_000, message: () => `the replay at the victim's protocol (stats ${JSON.stringify(victim.protocol.stats())})`
  })
  const after = victim.protocol.stats()
  assert.equal(victim.protocol.entry(meta.cid), undefined, 'not in the catalog again')
  assert.ok(!(await victim.ls()).some(f => f.cid === meta.cid), 'not listed by ls again')
  const replays = atVictim.filter(d => d.msgId === captured.msgId)
  assert.equal(replays.length, 2, 'gossipsub delivered the same message id twice: the original and the replay')
  assert.equal(replays[1]!.from, signer.peerId, 'the replay is signed by the signer')
  assert.equal(replays[1]!.seqno, captured.seqno)
  assert.deepEqual(replays[1]!.data, captured.data)
  assert.equal((after.receivedByType.announce ?? 0) - (before.receivedByType.announce ?? 0), 1, 'the replay passed the validator and reached the protocol')
  assert.equal(after.stale - before.stale, 1, 'its one file refused as a replay')
  assert.equal(after.rejected, before.rejected, 'not rejected as invalid (it is a valid signed message)')

  // 4. a fresh Announce of the same CID by the same signer, issued after the Withdraw: listed (the victim does not refuse everything)
  await signer.publish(topic, encodeWire({ type: 'announce', files: [{ meta, complete: true }], issued: issued + 2 }))
  await waitFor(listed, { message: 'the freshly announced file listed at the victim' })
  assert.deepEqual(victim.protocol.providers(meta.cid), [signer.peerId])
  assert.equal(victim.protocol.stats().stale, after.stale, 'the fresh Announce is not counted as stale')
  t.diagnostic(`victim stats: ${after.receivedByType.announce ?? 0} announces, ${after.receivedByType.withdraw ?? 0} withdraws taken in, ${after.stale} stale, ${after.rejected} rejected; seen-cache ${SEEN_TTL_MS} ms`)
})
