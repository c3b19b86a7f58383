/**
 * The WAN parts on 127.0.0.1, no namespaces needed: a relay node, two nodes that reserve on it
 * and know only the relay; one reaches the other through the relay when it hears of it on the
 * swarm topic and fetches over the relayed connection. Named errors of the WAN options.
 * (Direct upgrades, NAT and the relay's byte counts: test/wan.test.ts, in namespaces.)
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSwarmNode, type SwarmNode, type SwarmNodeInit } from '../src/node/index.js'
import { RelayLimitError } from '../src/net/errors.js'
import { waitFor } from '../src/util/wait.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']

async function node (t: any, dir: string, name: string, init: Partial<SwarmNodeInit>): Promise<SwarmNode> {
  const n = await createSwarmNode({ repo: join(dir, name), name, mdns: false, listen: LOCAL, ...init })
  t.after(async () => { await n.stop() })
  return n
}

test('two nodes that know only a relay: reservations, circuit addresses, reached through the relay when heard of on the topic; the file is fetched over the relayed connection', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-wan-lo-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const relay = await node(t, dir, 'relay', { relayService: {} })
  const relayAddr = relay.getMultiaddrs().find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))!
  // no peer exchange: on loopback it would hand b a's direct 127.0.0.1 address (the shortcut a
  // real network takes when it can); this test is about the way through the relay
  const a = await node(t, dir, 'a', { relays: [relayAddr], peerExchange: false })
  const b = await node(t, dir, 'b', { relays: [relayAddr], peerExchange: false })
  for (const n of [a, b]) {
    assert.ok(n.getMultiaddrs().some(x => x === `${relayAddr}/p2p-circuit/p2p/${n.peerId}`), `${n.name} listens on the relay: ${n.getMultiaddrs().join(' ')}`)
  }
  const bytes = randomBytes(300_000)
  const rec = await a.share(bytes, { name: 'x.bin' })
  // b hears of a through the relay's gossip and dials it through the relay (127.0.0.1 addresses
  // of another peer are never tried for a direct upgrade: on a real network they are the peer's own host)
  await waitFor(async () => (await b.peers()).some(p => p.id === a.peerId && p.via === 'relayed'), { timeout: 30_000, message: 'a relayed connection from b to a' })
  const res = await b.fetch(rec.cid)
  assert.equal(res.size, bytes.length)
  assert.equal((await b.peers()).find(p => p.id === a.peerId)?.via, 'relayed')
  const peers = await relay.peers()
  assert.ok(peers.filter(p => p.connected).every(p => p.via === 'direct'), 'the relay sees both directly')
})

test('WAN options: a relay address without /p2p/ is an InvalidMultiaddrError; RelayLimitError names the limit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-wan-lo-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await assert.rejects(createSwarmNode({ repo: join(dir, 'x'), mdns: false, listen: LOCAL, relays: ['/ip4/127.0.0.1/tcp/1'] }), { name: 'InvalidMultiaddrError', message: /needs \/p2p\/<relay peer id>/ })
  const err = new RelayLimitError('PEER', 'RELAY', { bytes: 4 * 1024 * 1024, seconds: 600 })
  assert.equal(err.name, 'RelayLimitError')
  assert.equal(RelayLimitError.name, 'RelayLimitError')
  assert.match(err.message, /relay RELAY, which closed the relayed connection at its limit \(4\.0 MiB \/ 600 s per relayed connection\)/)
})
