import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { sha512 } from 'multiformats/hashes/sha2'
import { Catalog, type CatalogEvents } from '../src/pubsub/catalog.js'
import { decodeWire, encodeWire, peerToBytes, type FileMeta, type WireMessage } from '../src/pubsub/codec.js'
import { MAX_MESSAGE_BYTES } from '../src/pubsub/constants.js'
import { InvalidFileError, InvalidProtocolOptionError, InvalidSwarmNameError, ProtocolNotStartedError } from '../src/pubsub/errors.js'
import { createSwarmProtocol, swarmTopics } from '../src/pubsub/index.js'
import { PeerRateLimiter } from '../src/pubsub/limits.js'
import { Envelope, type FileMeta as PbFileMeta } from '../src/pubsub/pb/messages.js'
import type { Network } from '../src/net/network.js'
import { cidOf, pb } from './helpers/pubsub.js'

const PEER_A = '12D3KooWSa5uzdyrFTDZioDRZ7BYdcMx8N13Le8V8TrWJM1F4n73'
const PEER_B = '12D3KooWS9ka9oUeJpQBcu4n858vZpv4jEwxqf5igoJB5bF3Kde8'
const RSA_PEER = 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N'
const REQ = '0011223344556677'

async function meta (seed: string, extra: Partial<FileMeta> = {}): Promise<FileMeta> {
  return { cid: await cidOf(seed), name: `${seed}.bin`, size: 1024, mediaType: 'application/octet-stream', encrypted: false, ...extra }
}

async function pbMeta (seed: string, extra: Partial<PbFileMeta> = {}): Promise<PbFileMeta> {
  return { cid: CID.parse(await cidOf(seed)).bytes as Uint8Array<ArrayBuffer>, name: 'a.txt', size: 1, mediaType: 'text/plain', encrypted: false, ...extra }
}

function rejects (kind: 'announce' | 'request', env: Partial<Envelope>): string {
  const result = decodeWire(kind, Envelope.encode({ version: 1, ...env }))
  assert.equal(result.ok, false, `expected a rejection of ${JSON.stringify(env, (_k, v) => v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v)}`)
  return result.ok ? '' : result.reason
}

test('every message type survives encode and decode, on its own topic only', async () => {
  const m = await meta('x', { encrypted: true, mediaType: 'text/plain; charset=utf-8' })
  const messages: WireMessage[] = [
    { type: 'hello', name: 'laptop 💻' },
    { type: 'announce', files: [{ meta: m, complete: true }, { meta: await meta('y', { size: 0 }), complete: false }] },
    { type: 'withdraw', cids: [m.cid] },
    { type: 'have', cid: m.cid, complete: false },
    { type: 'have', cid: m.cid, complete: true, requestId: REQ },
    { type: 'catalog-answer', requestId: REQ, records: [{ meta: m, providers: [{ peer: PEER_A, complete: true, ageMs: 0 }, { peer: RSA_PEER, complete: false, ageMs: 1234 }] }] },
    { type: 'want', requestId: REQ, cid: m.cid },
    { type: 'catalog-request', requestId: REQ },
    { type: 'catalog-request', requestId: REQ, responder: PEER_B }
  ]
  for (const msg of messages) {
    const kind = msg.type === 'want' || msg.type === 'catalog-request' ? 'request' : 'announce'
    const other = kind === 'request' ? 'announce' : 'request'
    const bytes = encodeWire(msg)
    assert.deepEqual(decodeWire(kind, bytes), { ok: true, message: msg })
    assert.deepEqual(decodeWire(other, bytes), { ok: false, reason: 'wrong-topic' })
  }
  // a CIDv0 on the wire is accepted and turned into its CIDv1 (the one form every layer keys on)
  const dagPb = CID.createV1(0x70, CID.parse(m.cid).multihash)
  const v0 = CID.createV0(dagPb.multihash as any)
  const v0bytes = pb.announce({ cid: v0.bytes, name: 'v0.bin', size: 1n, mediaType: 'text/plain' })
  assert.deepEqual(decodeWire('announce', v0bytes), {
    ok: true, message: { type: 'announce', files: [{ meta: { cid: dagPb.toString(), name: 'v0.bin', size: 1, mediaType: 'text/plain', encrypted: false }, complete: true }] }
  })
  assert.ok(dagPb.toString().startsWith('bafy'))
})

test('validators reject oversized, undecodable, wrong-version and malformed envelopes', async () => {
  const hello = encodeWire({ type: 'hello', name: 'a' })
  assert.deepEqual(decodeWire('announce', new Uint8Array(MAX_MESSAGE_BYTES + 1)), { ok: false, reason: 'oversized' })
  assert.deepEqual(decodeWire('announce', new Uint8Array([0xff, 0xff, 0xff])), { ok: false, reason: 'undecodable' })
  assert.deepEqual(decodeWire('announce', hello.subarray(0, hello.byteLength - 1)), { ok: false, reason: 'undecodable' })
  assert.deepEqual(decodeWire('announce', new Uint8Array(0)), { ok: false, reason: 'version' })
  assert.equal(rejects('announce', { version: 2, hello: { name: 'a' } }), 'version')
  assert.equal(rejects('announce', { version: 0, hello: { name: 'a' } }), 'version')
  assert.equal(rejects('announce', {}), 'no-body')
  assert.equal(rejects('announce', { hello: { name: 'a' }, withdraw: { cids: [CID.parse(await cidOf('a')).bytes as Uint8Array<ArrayBuffer>] } }), 'several-bodies')
  assert.equal(rejects('request', { hello: { name: 'a' } }), 'wrong-topic')
  assert.equal(rejects('announce', { want: { requestId: new Uint8Array(8), cid: CID.parse(await cidOf('a')).bytes as Uint8Array<ArrayBuffer> } }), 'wrong-topic')
})

test('validators reject semantically invalid fields', async () => {
  const good = CID.parse(await cidOf('a'))
  const file = async (extra: Partial<PbFileMeta>): Promise<Partial<Envelope>> => ({ announce: { files: [{ meta: await pbMeta('a', extra), complete: true }] } })
  const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b)

  // CIDs: garbage, trailing bytes, codecs and hashes outside UnixFS, missing
  assert.equal(rejects('announce', await file({ cid: new Uint8Array([1, 2, 3]) })), 'bad-cid')
  assert.equal(rejects('announce', await file({ cid: bytes(new Uint8Array([...good.bytes, 0])) })), 'bad-cid')
  assert.equal(rejects('announce', await file({ cid: bytes(CID.createV1(0x71, good.multihash).bytes) })), 'bad-cid')
  assert.equal(rejects('announce', await file({ cid: bytes(CID.createV1(0x55, await sha512.digest(new Uint8Array(1))).bytes) })), 'bad-cid')
  assert.equal(rejects('announce', { announce: { files: [{ complete: true }] } }), 'bad-cid')
  assert.equal(rejects('request', { want: { requestId: new Uint8Array(8), cid: new Uint8Array(0) } }), 'bad-cid')

  // names: empty, over 255 bytes, control characters; 255 bytes of multi-byte text pass
  assert.equal(rejects('announce', await file({ name: '' })), 'bad-name')
  assert.equal(rejects('announce', await file({ name: 'x'.repeat(256) })), 'bad-name')
  assert.equal(rejects('announce', await file({ name: 'é'.repeat(128) })), 'bad-name')
  assert.equal(rejects('announce', await file({ name: 'a\nb' })), 'bad-name')
  // C1 controls (U+0085 next line) and bidirectional overrides (U+202E shows "gpj.sh" as "hs.jpg") too
  for (const c of ['\u0085', '\u009b', '\u202e', '\u202a', '\u2066', '\u200f', '\u2028']) {
    assert.equal(rejects('announce', await file({ name: `report${c}gpj.sh` })), 'bad-name', `U+${c.charCodeAt(0).toString(16)} in a file name`)
    assert.equal(rejects('announce', { hello: { name: `nick${c}` } }), 'bad-name', `U+${c.charCodeAt(0).toString(16)} in a nickname`)
  }
  // joiners (emoji sequences) and other scripts stay allowed
  assert.equal(decodeWire('announce', Envelope.encode({ version: 1, hello: { name: 'family 👨‍👩‍👧 مرحبا' } })).ok, true)
  assert.equal(decodeWire('announce', Envelope.encode({ version: 1, ...await file({ name: 'é'.repeat(127) + 'x' }) })).ok, true)
  assert.equal(rejects('announce', { hello: { name: '' } }), 'bad-name')
  assert.equal(rejects('announce', { hello: { name: 'n'.repeat(65) } }), 'bad-name')

  // sizes and media types
  const negative = pb.announce({ cid: good.bytes, name: 'a', size: -1n, mediaType: 'text/plain' })
  assert.deepEqual(decodeWire('announce', negative), { ok: false, reason: 'bad-size' })
  assert.equal(decodeWire('announce', pb.announce({ cid: good.bytes, name: 'a', size: 1n, mediaType: 'text/plain' })).ok, true)
  assert.deepEqual(decodeWire('announce', pb.announce({ cid: good.bytes, name: 'a', size: 2n ** 60n, mediaType: 'text/plain' })), { ok: false, reason: 'bad-size' })
  assert.equal(rejects('announce', await file({ mediaType: '' })), 'bad-media-type')
  assert.equal(rejects('announce', await file({ mediaType: 'text' })), 'bad-media-type')
  assert.equal(rejects('announce', await file({ mediaType: 'text/plain; x=\u0001' })), 'bad-media-type')
  assert.equal(rejects('announce', await file({ mediaType: `a/${'b'.repeat(300)}` })), 'bad-media-type')

  // request ids and peers
  assert.equal(rejects('request', { catalogRequest: { requestId: new Uint8Array(7), responder: new Uint8Array(0) } }), 'bad-request-id')
  assert.equal(rejects('request', { catalogRequest: { requestId: new Uint8Array(33), responder: new Uint8Array(0) } }), 'bad-request-id')
  assert.equal(rejects('request', { catalogRequest: { requestId: new Uint8Array(8), responder: new Uint8Array([0, 0]) } }), 'bad-peer')
  assert.equal(rejects('announce', { have: { cid: bytes(good.bytes), complete: true, requestId: new Uint8Array(3) } }), 'bad-request-id')
  const record = async (peers: Uint8Array[]): Promise<Partial<Envelope>> => ({
    catalogAnswer: { requestId: new Uint8Array(8), records: [{ meta: await pbMeta('a'), providers: peers.map(p => ({ peer: bytes(p), complete: true, ageMs: 0 })) }] }
  })
  assert.equal(rejects('announce', await record([new Uint8Array([0x12, 3, 1, 2, 3])])), 'bad-peer')
  assert.equal(rejects('announce', await record([])), 'empty-list')
  assert.equal(rejects('announce', await record(Array.from({ length: 65 }, () => peerToBytes(PEER_A)))), 'too-many')
  assert.equal(rejects('announce', await record([peerToBytes(PEER_A), peerToBytes(PEER_A)])), 'duplicate')

  // lists
  assert.equal(rejects('announce', { withdraw: { cids: [] } }), 'empty-list')
  assert.equal(rejects('announce', { withdraw: { cids: [bytes(good.bytes), bytes(good.bytes)] } }), 'duplicate')
  assert.equal(rejects('announce', { withdraw: { cids: Array.from({ length: 1025 }, () => bytes(good.bytes)) } }), 'too-many')
})

test('error classes carry their names', () => {
  for (const [E, args] of [[InvalidSwarmNameError, ['x y']], [InvalidFileError, ['r']], [InvalidProtocolOptionError, ['o', 'r']], [ProtocolNotStartedError, []]] as const) {
    const err = new (E as any)(...args)
    assert.equal(err.name, E.name)
    assert.ok(err instanceof Error)
  }
  assert.throws(() => swarmTopics('no spaces'), { name: 'InvalidSwarmNameError' })
  assert.deepEqual(swarmTopics('home'), { announce: '/swarmdrop/1/home/announce', request: '/swarmdrop/1/home/request' })
})

test('options: a TTL shorter than the re-announce period is refused', () => {
  const network = { peerId: PEER_A } as unknown as Network
  assert.throws(() => createSwarmProtocol({ network, swarm: 's', name: 'n', providerTtl: 1000, reannounceInterval: 1000 }), { name: 'InvalidProtocolOptionError' })
  assert.throws(() => createSwarmProtocol({ network, swarm: 's', name: 'n', wantTimeout: -1 }), { name: 'InvalidProtocolOptionError' })
  assert.throws(() => createSwarmProtocol({ network, swarm: 'bad name', name: 'n' }), { name: 'InvalidSwarmNameError' })
})

test('catalog: events, metadata, expiry, and reports that cannot resurrect a withdrawn provider', async () => {
  const events: string[] = []
  const emit = <K extends keyof CatalogEvents>(type: K, detail: CatalogEvents[K]): void => {
    const d = detail as any
    events.push(`${type} ${d.peer.slice(-4)}`)
  }
  const self = PEER_B
  const catalog = new Catalog(self, emit)
  const m = await meta('c')

  // have without metadata: a provider, no visible entry
  catalog.add({ cid: m.cid, peer: PEER_A, complete: false, lastSeen: 1000, firstHand: true })
  assert.equal(catalog.get(m.cid), undefined)
  assert.deepEqual(catalog.providers(m.cid).map(p => p.peer), [PEER_A])
  // the announcement brings metadata: the file appears
  catalog.add({ cid: m.cid, peer: PEER_A, meta: m, complete: true, lastSeen: 2000, firstHand: true })
  assert.equal(catalog.get(m.cid, 2000)?.name, m.name)
  assert.deepEqual(catalog.get(m.cid, 2000)?.providers, [{ peer: PEER_A, complete: true, lastSeen: 2000 }])
  assert.deepEqual(events, [`provider:added ${PEER_A.slice(-4)}`, `file:announced ${PEER_A.slice(-4)}`])

  // this node as a provider never expires; PEER_A does after the TTL
  catalog.add({ cid: m.cid, peer: self, meta: m, complete: true, lastSeen: 2000, firstHand: true })
  catalog.expire(2500, 1000)
  assert.equal(catalog.providers(m.cid).length, 2)
  catalog.expire(3001, 1000)
  assert.deepEqual(catalog.providers(m.cid, 3001).map(p => p.peer), [self])
  assert.equal(events.at(-1), `provider:removed ${PEER_A.slice(-4)}`)

  // withdraw, then a stale report from another peer is refused; a fresh first-hand announce is not
  catalog.add({ cid: m.cid, peer: PEER_A, meta: m, complete: true, lastSeen: 4000, firstHand: true })
  catalog.remove(m.cid, PEER_A, 'withdrawn', 5000)
  assert.equal(catalog.add({ cid: m.cid, peer: PEER_A, meta: m, complete: true, lastSeen: 4500, firstHand: false }), 'refused')
  assert.equal(catalog.add({ cid: m.cid, peer: PEER_A, meta: m, complete: true, lastSeen: 5100, firstHand: true }), 'added')

  // the last provider leaves: the entry is gone
  catalog.remove(m.cid, PEER_A, 'withdrawn', 6000)
  catalog.remove(m.cid, self, 'withdrawn', 6000)
  assert.equal(catalog.get(m.cid), undefined)
  assert.equal(catalog.size, 0)
})

test('catalog: a report never overrides what a provider announced itself', async () => {
  const catalog = new Catalog(PEER_B, () => {})
  const m = await meta('m')
  const reported = { ...m, name: 'reported.bin' }
  const own = { ...m, name: 'own.bin' }
  catalog.add({ cid: m.cid, peer: PEER_A, meta: reported, complete: true, lastSeen: 1, firstHand: false })
  assert.equal(catalog.get(m.cid)?.name, 'reported.bin')
  catalog.add({ cid: m.cid, peer: RSA_PEER, meta: own, complete: true, lastSeen: 2, firstHand: true })
  assert.equal(catalog.get(m.cid)?.name, 'own.bin', 'a first-hand announcement replaces a report')
  catalog.add({ cid: m.cid, peer: RSA_PEER, meta: reported, complete: true, lastSeen: 3, firstHand: false })
  catalog.add({ cid: m.cid, peer: PEER_A, meta: reported, complete: true, lastSeen: 3, firstHand: false })
  assert.equal(catalog.get(m.cid)?.name, 'own.bin', 'reports do not replace it')
  catalog.add({ cid: m.cid, peer: RSA_PEER, meta: { ...own, name: 'renamed.bin' }, complete: true, lastSeen: 4, firstHand: true })
  assert.equal(catalog.get(m.cid)?.name, 'renamed.bin', 'its announcer may change it')
})

test('rate limiter: a burst, then the refill rate', () => {
  const limiter = new PeerRateLimiter({ rate: 2, burst: 3, maxPeers: 2 })
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a', 0)), [true, true, true, false])
  assert.equal(limiter.take('a', 499), false)
  assert.equal(limiter.take('a', 500), true)
  assert.equal(limiter.take('b', 0), true)
  // a third peer evicts the least recently used bucket, never growing past maxPeers
  assert.equal(limiter.take('c', 0), true)
  assert.equal(limiter.take('a', 500), true, 'a starts over with a full bucket')
})
