/**
 * Replay after the seen-cache (issue 18), end to end on the wire: a signer announces a file to a
 * victim node and withdraws it; an attacker that captured the signed gossipsub message of the
 * Announce sends it again, byte for byte, once the victim's gossipsub seen-cache has forgotten its
 * message id. The victim must not list the file again: the Announce's issued_ms is not newer than
 * the signer's Withdraw (catalog.ts tombstones). It is a valid signed message, so it is not
 * rejected (nor its deliverer penalised) but ignored: gossipsub neither delivers it nor relays it,
 * which a second node (the watcher), meshed with the victim only, shows.
 *
 * Both nodes' seen-caches are shortened to SEEN_TTL_MS with the node's gossipsub overrides
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

test('replay after the seen-cache: a withdrawn file\'s signed Announce, sent again byte for byte once the victim\'s seen-cache forgot it, is ignored (not listed, not relayed); a fresh Announce after the Withdraw is listed and relayed', async (t) => {
  const fast = { gossipsub: { seenTTL: SEEN_TTL_MS } }
  const swarm = await createLocalSwarm({ size: 2, nodes: { 0: fast, 1: fast } }, t)
  const victim = swarm.nodes[0] as SwarmNode
  const watcher = swarm.nodes[1] as SwarmNode
  const topic = victim.topics.announce
  const atVictim = deliveries(victim.network, topic)
  const atWatcher = deliveries(watcher.network, topic)

  // the attacker listens on the topic; the signer publishes to both (flood publish), so the attacker captures the Announce off the wire
  const attacker: RawPeer = await rawPeer(t, swarm.dir, victim, [topic], { subscribe: true, agent: 'attacker/1.0' })
  const atAttacker = deliveries(attacker, topic)
  const signer: RawPeer = await rawPeer(t, swarm.dir, victim, [topic])
  await signer.dial(attacker.getMultiaddrs()[0]!)
  await waitFor(() => signer.getSubscribers(topic).includes(attacker.peerId), { message: 'the attacker\'s subscription at the signer' })
  assert.ok(!signer.connections().some(c => c.peer === watcher.peerId), 'the signer is not connected to the watcher: what the watcher gets, the victim relayed')

  const meta: FileMeta = { cid: await cidOf('replayed'), name: 'replayed.txt', size: 8, mediaType: 'text/plain', encrypted: false }
  const listedAt = (node: SwarmNode) => async (): Promise<boolean> => node.protocol.entry(meta.cid) != null && (await node.ls()).some(f => f.cid === meta.cid)
  const listed = listedAt(victim)
  // the signer's own clock, strictly increasing: Announce < Withdraw < fresh Announce
  const issued = Date.now()

  // 1. the Announce: listed by the victim and (relayed) by the watcher, captured by the attacker
  await signer.publish(topic, encodeWire({ type: 'announce', files: [{ meta, complete: true }], issued }))
  await waitFor(listed, { message: 'the announced file listed at the victim' })
  await waitFor(listedAt(watcher), { message: 'the announced file listed at the watcher (relayed by the victim)' })
  await waitFor(() => atAttacker.some(d => d.from === signer.peerId), { message: 'the Announce captured by the attacker' })
  const captured = atAttacker.find(d => d.from === signer.peerId)!
  const original = atVictim.find(d => d.msgId === captured.msgId)
  assert.ok(original != null, 'the victim took in the message the attacker captured (same message id)')
  assert.ok(captured.raw != null && original.raw != null, 'both raw messages kept')
  const rawBytes = RPC.Message.encode(captured.raw)
  assert.deepEqual(RPC.Message.encode(original.raw), rawBytes, 'the attacker holds the signed message byte for byte as the victim received it')
  assert.equal(atWatcher.filter(d => d.msgId === captured.msgId).length, 1, 'the watcher got the original once, through the victim')
  t.diagnostic(`captured Announce: ${rawBytes.byteLength} B signed message, id ${captured.msgId}, seqno ${captured.seqno}`)

  // 2. the Withdraw: unlisted at both
  await signer.publish(topic, encodeWire({ type: 'withdraw', cids: [meta.cid], issued: issued + 1 }))
  await waitFor(async () => !await listed(), { message: 'the withdrawn file unlisted at the victim' })
  await waitFor(async () => !await listedAt(watcher)(), { message: 'the withdrawn file unlisted at the watcher' })

  // 3. the replay, once neither node's gossipsub knows the message id (else it would drop it as a duplicate, and so would the watcher a relayed copy)
  const victimSub = gossipsubOf(victim.network)
  const watcherSub = gossipsubOf(watcher.network)
  await waitFor(() => !victimSub.seenCache.has(captured.msgId) && !watcherSub.seenCache.has(captured.msgId), { timeout: 30_000, message: 'the seen-caches to forget the Announce' })
  const before = victim.protocol.stats()
  const sent = gossipsubOf(attacker).sendRpc(victim.peerId, { subscriptions: [], messages: [captured.raw] })
  assert.equal(sent, true, 'the attacker sent the replay to the victim')
  // the validator counts it as stale when it ignores it
  await waitFor(() => victim.protocol.stats().stale > before.stale, {
    timeout: 30_000, message: () => `the replay at the victim's validator (stats ${JSON.stringify(victim.protocol.stats())})`
  })
  const after = victim.protocol.stats()
  assert.equal(after.stale - before.stale, 1, 'its one file counted as a replay')
  assert.equal(after.rejected, before.rejected, 'not rejected as invalid (it is a valid signed message)')
  assert.equal(after.receivedByType.announce ?? 0, before.receivedByType.announce ?? 0, 'not delivered to the protocol')
  assert.equal(victim.protocol.entry(meta.cid), undefined, 'not in the catalog again')
  assert.ok(!(await victim.ls()).some(f => f.cid === meta.cid), 'not listed by ls again')
  assert.equal(atVictim.filter(d => d.msgId === captured.msgId).length, 1, 'gossipsub did not deliver the replay (ignored)')

  // 4. a fresh Announce of the same CID by the same signer, issued after the Withdraw: listed at the victim, and relayed to the watcher
  // after the replay on the victim's one stream to the watcher: had the victim relayed the replay, it would have reached the watcher first
  await signer.publish(topic, encodeWire({ type: 'announce', files: [{ meta, complete: true }], issued: issued + 2 }))
  await waitFor(listed, { message: 'the freshly announced file listed at the victim' })
  await waitFor(listedAt(watcher), { message: 'the freshly announced file listed at the watcher (relayed by the victim)' })
  assert.deepEqual(victim.protocol.providers(meta.cid), [signer.peerId])
  assert.equal(victim.protocol.stats().stale, after.stale, 'the fresh Announce is not counted as stale')
  assert.equal(atWatcher.filter(d => d.msgId === captured.msgId).length, 1, 'the replay was not relayed to the watcher')
  assert.equal(watcher.protocol.stats().stale, 0, 'nothing stale reached the watcher')
  t.diagnostic(`victim stats: ${after.receivedByType.announce ?? 0} announces, ${after.receivedByType.withdraw ?? 0} withdraws taken in, ${after.stale} stale, ${after.rejected} rejected; seen-cache ${SEEN_TTL_MS} ms`)
})
