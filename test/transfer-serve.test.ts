/**
 * The serving side's parts without a network: the frame codec's CID rule (issue 18, "Huge
 * request frame", "Identity-CID retention"; issue 13, CIDv0 in frames), the byte budget's
 * turns by peer, a stream's answer queue, the LATER rule's notion of a reading holder, the
 * cache of hashed blocks; and, on 127.0.0.1, answers to a CIDv0 request carry the CIDv0.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { create as createDigest } from 'multiformats/hashes/digest'
import { ByteBudget } from '../src/transfer/budget.js'
import { HOLDER_IDLE_MS, MAX_CIDS_PER_FRAME, MAX_CONTROL_FRAMES_PER_STREAM, MAX_LIST_FRAME_SIZE, SEND_STALL_MS } from '../src/transfer/constants.js'
import { decodeFrame, encodeBlock, encodeList, FrameType } from '../src/transfer/messages.js'
import { isReading, Ledger } from '../src/transfer/serve/ledger.js'
import { ServeStream } from '../src/transfer/serve/stream.js'
import { VerifiedBlocks } from '../src/util/verified-blocks.js'
import { BLOCKS_PROTOCOL } from '../src/transfer/index.js'
import type { ByteStream } from '../src/transfer/types.js'
import * as lp from 'it-length-prefixed'
import { randomContent, startPeers } from './fixtures/transfer-peers.js'

const RAW = 0x55
const DAG_PB = 0x70

function cidOf (i: number, code = RAW): CID {
  return CID.createV1(code, createDigest(0x12, createHash('sha256').update(String(i)).digest()))
}

/** A list frame payload from raw CID byte strings (any bytes, as an attacker writes them). */
function rawList (type: number, cids: Uint8Array[]): Uint8Array {
  const parts: number[] = [type]
  for (const c of cids) {
    parts.push(c.byteLength) // < 128 in these tests
    parts.push(...c)
  }
  return new Uint8Array(parts)
}

test('codec: identity, other hashes and codecs, non-canonical CIDs abort with BlockProtocolError', () => {
  const id = CID.createV1(RAW, identity.digest(new Uint8Array(20).fill(1)))
  assert.throws(() => decodeFrame(encodeList(FrameType.WANT_HAVE, [id])), { name: 'BlockProtocolError' })
  assert.throws(() => decodeFrame(encodeBlock(id, new Uint8Array(20).fill(1))), { name: 'BlockProtocolError' }, 'a BLOCK under an identity CID')
  const sha512 = CID.createV1(RAW, createDigest(0x13, new Uint8Array(64)))
  assert.throws(() => decodeFrame(encodeList(FrameType.WANT_BLOCK, [sha512])), { name: 'BlockProtocolError' })
  const dagCbor = CID.createV1(0x71, cidOf(1).multihash)
  assert.throws(() => decodeFrame(encodeList(FrameType.WANT_BLOCK, [dagCbor])), { name: 'BlockProtocolError' })
  // the codec 0x55 as a two-byte varint (0xd5 0x00): the same CID spelt another way
  const good = cidOf(2).bytes
  const padded = new Uint8Array([good[0]!, 0xd5, 0x00, ...good.subarray(2)])
  assert.throws(() => decodeFrame(rawList(FrameType.WANT_HAVE, [padded])), { name: 'BlockProtocolError' })
  // a CID with bytes after it
  assert.throws(() => decodeFrame(rawList(FrameType.WANT_HAVE, [new Uint8Array([...good, 0])])), { name: 'BlockProtocolError' })
})

test('codec: at most MAX_CIDS_PER_FRAME CIDs per list; a longer frame is refused before it is parsed', () => {
  const full = Array.from({ length: MAX_CIDS_PER_FRAME }, (_, i) => cidOf(i))
  const ok = decodeFrame(encodeList(FrameType.WANT_BLOCK, full))
  assert.ok('cids' in ok)
  assert.equal(ok.cids.length, MAX_CIDS_PER_FRAME)
  assert.throws(() => decodeFrame(encodeList(FrameType.WANT_BLOCK, [...full, cidOf(-1)])), { name: 'BlockProtocolError' })
  // 56,000 CIDs (the attack of issue 18): refused by its length alone
  const huge = new Uint8Array(1 + 56_000 * 37)
  huge[0] = FrameType.WANT_HAVE
  assert.ok(huge.byteLength > MAX_LIST_FRAME_SIZE)
  assert.throws(() => decodeFrame(huge), { name: 'BlockProtocolError', message: /CID list frame of 2072001 bytes/ })
})

test('codec: CIDs are copies, not views into the frame', () => {
  const frame = encodeList(FrameType.WANT_HAVE, [cidOf(7)])
  const decoded = decodeFrame(frame)
  assert.ok('cids' in decoded)
  const cid = decoded.cids[0]!
  assert.notEqual(cid.bytes.buffer, frame.buffer)
  frame.fill(0)
  assert.equal(cid.toString(), cidOf(7).toString())
})

test('codec: a CIDv0 comes out as CIDv1 and is marked, so answers can use the form asked', () => {
  const v1 = cidOf(3, DAG_PB)
  const list = decodeFrame(encodeList(FrameType.WANT_BLOCK, [v1.toV0(), cidOf(4)]))
  assert.ok('cids' in list)
  assert.deepEqual(list.cids.map(c => c.version), [1, 1])
  assert.equal(list.cids[0]!.toString(), v1.toString())
  assert.deepEqual([...list.v0], [v1.toString()])
  const block = decodeFrame(encodeBlock(v1.toV0(), new Uint8Array(3)))
  assert.ok(block.type === FrameType.BLOCK)
  assert.equal(block.cid.toString(), v1.toString())
  assert.equal(block.v0, true)
})

function fakeStream (peer: string): ByteStream {
  return {
    remotePeer: peer,
    protocol: '/swarmdrop/blocks/1.0.0',
    source: (async function * () {})(),
    sink: async () => {},
    abort: () => {},
    close: async () => {}
  } as unknown as ByteStream
}

test('answer queue: lists merge into frames of MAX_CIDS_PER_FRAME; answers asked as CIDv0 go out as CIDv0', () => {
  const s = new ServeStream(fakeStream('a'), 100, 0)
  s.sendList(FrameType.BUSY, Array.from({ length: 1000 }, (_, i) => cidOf(i)))
  s.sendList(FrameType.BUSY, Array.from({ length: 1000 }, (_, i) => cidOf(1000 + i)))
  assert.equal(s.answerFrames, 2, '2,000 CIDs in two frames')
  s.sendList(FrameType.HAVE, [cidOf(1)])
  assert.equal(s.answerFrames, 3)
  for (let i = 0; i < MAX_CONTROL_FRAMES_PER_STREAM * 2; i++) s.ready.set(cidOf(5000 + i).toString(), false)
  s.ready.set(cidOf(9, DAG_PB).toString(), true)
  let frames = 0
  const haves: CID[] = []
  for (let f = s.nextAnswer(); f != null; f = s.nextAnswer()) {
    frames++
    const lenPrefix = f.subarray()
    const decoded = decodeFrame(lenPrefix.subarray(lenPrefix[0]! < 128 ? 1 : lenPrefix[1]! < 128 ? 2 : 3))
    assert.ok('cids' in decoded)
    if (decoded.type === FrameType.HAVE) haves.push(...decoded.cids.filter(c => decoded.v0.has(c.toString())))
  }
  assert.equal(frames, 4, 'the landed want-haves went out in one merged frame')
  assert.equal(s.ready.size, 0)
  assert.deepEqual(haves.map(String), [cidOf(9, DAG_PB).toString()], 'the one asked as CIDv0 is answered as CIDv0')
})

test('ByteBudget: waiters are served in turns by owner, in order within one', async () => {
  const budget = new ByteBudget(2)
  await budget.acquire(2, undefined, 'x')
  const order: string[] = []
  const waits = [
    budget.acquire(1, undefined, 'attacker').then(() => { order.push('a1') }),
    budget.acquire(1, undefined, 'attacker').then(() => { order.push('a2') }),
    budget.acquire(1, undefined, 'attacker').then(() => { order.push('a3') }),
    budget.acquire(1, undefined, 'honest').then(() => { order.push('h1') })
  ]
  assert.equal(budget.waiters, 4)
  budget.release(2)
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(order, ['a1', 'h1'], 'the honest peer got the second turn, not the fourth')
  budget.release(2)
  await Promise.all(waits)
  assert.deepEqual(order, ['a1', 'h1', 'a2', 'a3'])
})

test('LATER rule: only a holder of another peer that reads makes a block LATER', () => {
  const now = 1_000_000
  const ledger = new Ledger()
  const holder = new ServeStream(fakeStream('holder'), 100, now)
  const asker = new ServeStream(fakeStream('asker'), 100, now)
  const key = cidOf(1).toString()
  ledger.sent(holder, key, 10)
  // stalled: waited past SEND_STALL_MS for window
  holder.waitingSince = now - SEND_STALL_MS
  assert.equal(isReading(holder, now), false)
  assert.equal(ledger.defer(asker, key, now), false, 'a holder that does not read: served, not LATER')
  // idle for HOLDER_IDLE_MS with nothing to send
  holder.waitingSince = undefined
  holder.lastTaken = now - HOLDER_IDLE_MS
  assert.equal(ledger.defer(asker, key, now), false)
  // reading
  holder.lastTaken = now - 10
  assert.equal(isReading(holder, now), true)
  const sameAsker = new ServeStream(fakeStream('holder'), 100, now)
  assert.equal(ledger.defer(sameAsker, key, now), false, 'never LATER to the holder peer itself')
  assert.equal(ledger.defer(asker, key, now), true)
  assert.equal(ledger.defer(asker, key, now), false, 'once per block per stream')
  assert.equal(ledger.totals.later, 1)
  ledger.forget(holder)
  const other = new ServeStream(fakeStream('other'), 100, now)
  assert.equal(ledger.defer(other, key, now), false, 'a closed holder holds nothing')
})

test('ledger: counters are kept for the most recently served peers only; the totals keep everything', () => {
  const now = 1_000_000
  const ledger = new Ledger(3)
  const streams = ['a', 'b', 'c', 'd'].map(p => new ServeStream(fakeStream(p), 100, now))
  const [a, b, c, d] = streams as [ServeStream, ServeStream, ServeStream, ServeStream]
  ledger.sent(a, cidOf(1).toString(), 10)
  ledger.sent(b, cidOf(2).toString(), 20)
  ledger.sent(c, cidOf(3).toString(), 30)
  ledger.sent(a, cidOf(4).toString(), 40) // a is now the most recently served
  ledger.sent(d, cidOf(5).toString(), 50)
  const byPeer = ledger.byPeer()
  assert.deepEqual(Object.keys(byPeer).sort(), ['a', 'c', 'd'], 'b, served least recently, was dropped')
  assert.deepEqual(byPeer.a, { bytes: 50, blocks: 2 })
  assert.deepEqual(ledger.totals, { bytes: 150, blocks: 5, busy: 0, later: 0, again: 0, backlogResets: 0 })
  byPeer.a!.bytes = 0
  assert.equal(ledger.byPeer().a?.bytes, 50, 'byPeer() is a copy')
})

test('VerifiedBlocks: remembers key and length, forgets the least recently used beyond its capacity', () => {
  const v = new VerifiedBlocks(2)
  v.add('a', 10)
  v.add('b', 10)
  assert.equal(v.has('a', 10), true) // a is now the most recent
  assert.equal(v.has('a', 11), false, 'another length is hashed again')
  v.add('c', 10)
  assert.equal(v.has('b', 10), false, 'b was the least recently used')
  assert.equal(v.has('a', 10), true)
  assert.equal(v.has('c', 10), true)
  assert.equal(v.size, 2)
})

test('a request in CIDv0 form is answered in CIDv0 form (HAVE and BLOCK); the same request in CIDv1 form in CIDv1', async (t) => {
  const [sharer, asker] = await startPeers(t, 2)
  assert.ok(sharer != null && asker != null)
  const root = CID.parse(await sharer.store.add(randomContent(3 * 1024 * 1024)))
  assert.equal(root.code, DAG_PB)
  for (const asked of [root.toV0(), root]) {
    const stream = await asker.network.openStream(sharer.id, BLOCKS_PROTOCOL)
    await stream.sink([lp.encode.single(encodeList(FrameType.WANT_HAVE, [asked])), lp.encode.single(encodeList(FrameType.WANT_BLOCK, [asked]))])
    const seen: Array<[number, Uint8Array]> = []
    for await (const buf of lp.decode(stream.source, { maxDataLength: 3 * 1024 * 1024 })) {
      const type = buf.get(0)
      // the CID bytes as sent, after the type byte and the length byte
      seen.push([type, buf.subarray(2, 2 + buf.get(1))])
      if (type === FrameType.BLOCK) break
    }
    stream.abort(new Error('done'))
    assert.deepEqual(seen.map(([type]) => type), [FrameType.HAVE, FrameType.BLOCK])
    for (const [, bytes] of seen) assert.deepEqual([...bytes], [...asked.bytes], `answered as CIDv${asked.version}`)
  }
})
