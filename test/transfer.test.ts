import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { contiguous } from '../src/content/index.js'
import { ByteBudget } from '../src/transfer/budget.js'
import * as errors from '../src/transfer/errors.js'
import { decodeFrame, encodeBlock, encodeList, FrameType } from '../src/transfer/messages.js'
import { bestOf } from '../src/transfer/fetch/scheduler.js'
import { BLOCKS_PROTOCOL, createMemoryBlockStore, type BlockStore, type FetchProgress, type TransferFetchEvents } from '../src/transfer/index.js'
import { waitFor } from '../src/util/wait.js'
import { randomContent, readFile, startPeers } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024

test('frames round-trip: CID lists and blocks', () => {
  const a = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  const b = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
  const list = decodeFrame(encodeList(FrameType.WANT_BLOCK, [a, b]))
  assert.equal(list.type, FrameType.WANT_BLOCK)
  assert.ok('cids' in list)
  assert.deepEqual(list.cids.map(c => c.toString()), [a.toString(), b.toString()])
  const data = randomContent(1000)
  const framed = encodeBlock(a, data)
  // as the decoder gets it: split into several chunks
  const whole = framed.subarray()
  const split = new Uint8ArrayList(whole.subarray(0, 5), whole.subarray(5, 600), whole.subarray(600))
  const block = decodeFrame(split)
  assert.equal(block.type, FrameType.BLOCK)
  assert.ok('data' in block)
  assert.equal(block.cid.toString(), a.toString())
  assert.deepEqual(contiguous(block.data), data, 'a received block comes as the chunks it arrived in')
  assert.deepEqual(decodeFrame(new Uint8Array([0x7f, 1, 2])), { type: 'unknown', code: 0x7f })
  assert.throws(() => decodeFrame(new Uint8Array([FrameType.HAVE, 40, 1, 2])), { name: 'BlockProtocolError' })
  assert.throws(() => decodeFrame(new Uint8Array(0)), { name: 'BlockProtocolError' })
})

test('every error class carries its name', () => {
  const made: Error[] = [
    new errors.NotFoundInSwarmError('bafy', 10, 0),
    new errors.TransferTimeoutError('bafy', 10, 3),
    new errors.UnsupportedCidError('bafy', 'x'),
    new errors.BlockProtocolError('x'),
    new errors.TransferNotStartedError(),
    new errors.ProviderLeftError('bafy', ['alice'], 3),
    new errors.ProviderStalledError('bafy', 'alice', 30_000, 3, 0)
  ]
  for (const err of made) {
    assert.equal(err.name, (err.constructor as { name: string }).name)
    assert.ok(err.name.endsWith('Error'))
    assert.ok(err.message.length > 0)
  }
})

test('2 peers: a 32 MiB file arrives byte-identical and progress reaches 100%', async (t) => {
  const [sharer, fetcher] = await startPeers(t, 2)
  assert.ok(sharer != null && fetcher != null)
  const content = randomContent(32 * MiB)
  const cid = await sharer.store.add(content)
  let last: FetchProgress | undefined
  let blockEvents = 0
  const result = await fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 3000,
    onProgress: (evt: TransferFetchEvents) => {
      if (evt.type === 'transfer:fetch:block') blockEvents++
      if (evt.type === 'transfer:fetch:block' || evt.type === 'transfer:fetch:complete') last = evt.detail
    }
  })
  assert.equal(result.size, content.byteLength)
  assert.equal(result.blocks, 33)
  assert.equal(blockEvents, 33)
  assert.equal(last?.bytes, content.byteLength)
  assert.equal(last?.total, content.byteLength)
  assert.equal(last?.totalBlocks, 33)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.equal(sharer.transfer.stats().served.byPeer[fetcher.id]?.blocks, 33)
})

test('4 providers + 1 fetcher: every provider serves more than 10% of the blocks', async (t) => {
  const peers = await startPeers(t, 5)
  const fetcher = peers[4]
  const providers = peers.slice(0, 4)
  assert.ok(fetcher != null)
  const content = randomContent(32 * MiB)
  const cids = await Promise.all(providers.map(async p => p.store.add(content)))
  const cid = cids[0] ?? ''
  assert.ok(cids.every(c => c === cid))
  const result = await fetcher.transfer.fetch(cid, { providers: providers.map(p => p.id) })
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  for (const p of providers) {
    const served = p.transfer.stats().served.byPeer[fetcher.id]?.blocks ?? 0
    assert.ok(served > 0.1 * result.blocks, `provider ${p.id} served ${served} of ${result.blocks} blocks`)
    // what it sent = what the fetcher kept from it + endgame duplicates it lost the race for
    assert.ok((result.providers[p.id]?.blocks ?? 0) <= served)
  }
  const kept = Object.values(result.providers).reduce((sum, c) => sum + c.blocks, 0)
  assert.equal(kept, result.blocks)
})

test('a provider stopped midway: the fetch completes from the two replicas', async (t) => {
  const peers = await startPeers(t, 4)
  const [sharer, r1, r2, fetcher] = peers
  assert.ok(sharer != null && r1 != null && r2 != null && fetcher != null)
  const content = randomContent(24 * MiB)
  const cid = await sharer.store.add(content)
  await r1.store.add(content)
  await r2.store.add(content)
  let stopping: Promise<void> | undefined
  let failed = false
  const result = await fetcher.transfer.fetch(cid, {
    providers: [sharer.id, r1.id, r2.id],
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:block' && evt.detail.blocks >= 12 && stopping == null) stopping = sharer.stop()
      if (evt.type === 'transfer:fetch:provider' && evt.detail.peer === sharer.id && evt.detail.status === 'failed') failed = true
    }
  })
  await stopping
  assert.ok(stopping != null)
  // whether the fetch notices the sharer's streams closing before the replicas deliver the last
  // blocks is a race on a busy machine (a loaded run lost it once); noticing a provider that left
  // is what the "sharer leaves mid-fetch" tests of transfer-health.test.ts check, where nobody else has the blocks
  t.diagnostic(failed ? 'the fetch saw the sharer go' : 'the fetch completed before it saw the sharer go')
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.ok((result.providers[sharer.id]?.blocks ?? 0) > 0, 'the sharer served blocks before it stopped')
  assert.ok((result.providers[r1.id]?.blocks ?? 0) + (result.providers[r2.id]?.blocks ?? 0) >= result.blocks - 12)
})

test('a lying provider: its wrong blocks are rejected and refetched, it is penalized and not used again', async (t) => {
  const lies: string[] = []
  const peers = await startPeers(t, 3, { liars: { 0: { honestBlocks: 2, lies } } })
  const [liar, honest, fetcher] = peers
  assert.ok(liar != null && honest != null && fetcher != null)
  const content = randomContent(16 * MiB)
  const cid = await liar.store.add(content)
  await honest.store.add(content)
  let bannedAt = -1
  const result = await fetcher.transfer.fetch(cid, {
    providers: [liar.id, honest.id],
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:provider' && evt.detail.status === 'banned') {
        assert.equal(evt.detail.peer, liar.id)
        bannedAt = Date.now()
      }
    }
  })
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.notEqual(bannedAt, -1, 'the liar was banned')
  assert.deepEqual(result.banned, [liar.id])
  assert.ok(result.invalid >= 1 && result.invalid <= lies.length, `${result.invalid} rejected, ${lies.length} lies sent`)
  // kept from the liar: at most the root and its two honest leaves; its stream closed at the first lie, so it was asked nothing more
  assert.ok((result.providers[liar.id]?.blocks ?? 0) <= 3)
  assert.ok((fetcher.penalties.get(liar.id) ?? 0) > 0, 'the liar was penalized on the network')
  assert.equal(fetcher.penalties.get(honest.id), undefined)
  assert.equal(fetcher.transfer.stats().received.invalid, result.invalid)
})

test('a CID nobody has: NotFoundInSwarmError after the timeout, with and without providers', async (t) => {
  const [a, b] = await startPeers(t, 2)
  assert.ok(a != null && b != null)
  const other = createMemoryBlockStore()
  const cid = await other.add(randomContent(3 * MiB))
  const started = Date.now()
  await assert.rejects(a.transfer.fetch(cid, { providers: [], timeout: 300 }), { name: 'NotFoundInSwarmError' })
  assert.ok(Date.now() - started >= 290)
  await assert.rejects(a.transfer.fetch(cid, { providers: [b.id], timeout: 300 }), { name: 'NotFoundInSwarmError' })
  assert.equal(a.store.size, 0, 'nothing stored')
  await assert.rejects(a.transfer.fetch('not-a-cid'), { name: 'InvalidCidError' })
  // a provider that shows up later (findProviders) is used
  const late = await b.store.add(randomContent(2 * MiB))
  const result = await a.transfer.fetch(late, {
    timeout: 5000,
    findProviders: async function * () { yield b.id }
  })
  assert.equal(result.blocks, 3)
})

test('resume: with half the blocks already stored, only the missing half is transferred', async (t) => {
  const [sharer, fetcher] = await startPeers(t, 2)
  assert.ok(sharer != null && fetcher != null)
  const content = randomContent(16 * MiB)
  const cid = await sharer.store.add(content)
  const leaves = sharer.store.keys().filter(k => k.startsWith('bafk'))
  for (const k of leaves.slice(0, 8)) await fetcher.store.putBlock(k, (await sharer.store.getBlock(k)) ?? new Uint8Array())
  const first: FetchProgress[] = []
  const result = await fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:root') first.push(evt.detail) }
  })
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.equal(result.blocksReceived, 1 + 8) // root + the 8 missing leaves
  assert.ok(result.bytesReceived < 8.1 * MiB)
  assert.equal(first.at(-1)?.total, 16 * MiB)
  // everything here now: a second fetch needs no provider and moves nothing
  const again = await fetcher.transfer.fetch(cid, { providers: [] })
  assert.equal(again.blocksReceived, 0)
  assert.equal(again.size, 16 * MiB)
})

test('serving limits: BUSY beyond the active-stream and queue caps, bytes in flight stay bounded, fetches still complete', async (t) => {
  const cap = 2 * MiB
  const peers = await startPeers(t, 3, {
    transfer: { maxActiveStreams: 1, maxQueuedPerStream: 2, maxBytesInFlight: cap, maxBytesInFlightPerPeer: cap, initialWindow: 8, minWindow: 8 }
  })
  const [provider, f1, f2] = peers
  assert.ok(provider != null && f1 != null && f2 != null)
  const content = randomContent(12 * MiB)
  const cid = await provider.store.add(content)
  let peak = 0
  const sample = (): void => { peak = Math.max(peak, provider.transfer.stats().served.bytesInFlight) }
  const [a, b] = await Promise.all([f1, f2].map(async f => f.transfer.fetch(cid, { providers: [provider.id], onProgress: sample })))
  assert.equal(a?.blocks, 13)
  assert.equal(b?.blocks, 13)
  assert.deepEqual(await readFile(f1.store, cid), content)
  assert.deepEqual(await readFile(f2.store, cid), content)
  const served = provider.transfer.stats().served
  assert.ok(served.busy > 0, 'some requests were answered BUSY')
  assert.ok(peak <= cap + MiB, `bytes in flight peaked at ${peak}`)
  await waitFor(() => provider.transfer.stats().served.streams === 0, { message: 'serving streams to close' })
})

test('abort: the fetch rejects with the signal\'s reason and the provider\'s streams close', async (t) => {
  const [provider, fetcher] = await startPeers(t, 2)
  assert.ok(provider != null && fetcher != null)
  const cid = await provider.store.add(randomContent(16 * MiB))
  const controller = new AbortController()
  await assert.rejects(fetcher.transfer.fetch(cid, {
    providers: [provider.id],
    signal: controller.signal,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:block' && evt.detail.blocks === 4) controller.abort() }
  }), { name: 'AbortError' })
  assert.equal(fetcher.transfer.stats().fetches, 0)
  await waitFor(() => provider.transfer.stats().served.streams === 0, { message: 'serving streams to close' })
  await assert.rejects(fetcher.transfer.fetch(cid, { signal: AbortSignal.abort() }), { name: 'AbortError' })
})

test('peer link: two downloads from one peer share one block stream; after both, a new download opens one more', async (t) => {
  const [provider, fetcher] = await startPeers(t, 2)
  assert.ok(provider != null && fetcher != null)
  const big = randomContent(16 * MiB)
  const small = randomContent(2 * MiB + 5)
  const bigCid = await provider.store.add(big)
  const smallCid = await provider.store.add(small)
  const third = randomContent(MiB + 3)
  const thirdCid = await provider.store.add(third)
  // the second download starts when the first has its first block (its stream is open, 15 blocks to go):
  // starting takes only in-memory steps, so it attaches before the first can finish
  let second: Promise<unknown> | undefined
  const first = fetcher.transfer.fetch(bigCid, {
    providers: [provider.id],
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:block' && second == null) second = fetcher.transfer.fetch(smallCid, { providers: [provider.id] })
    }
  })
  const a = await first
  assert.ok(second != null)
  const b = await second as Awaited<typeof first>
  assert.equal(fetcher.opened.get(BLOCKS_PROTOCOL), 1, 'one block stream for both downloads')
  assert.ok((a.providers[provider.id]?.blocks ?? 0) > 0 && (b.providers[provider.id]?.blocks ?? 0) > 0, 'both got their blocks from it')
  assert.deepEqual(await readFile(fetcher.store, bigCid), big)
  assert.deepEqual(await readFile(fetcher.store, smallCid), small)
  // the last download to leave drained the stream; the next opens a new one
  await waitFor(() => provider.transfer.stats().served.streams === 0, { message: 'the shared stream to close' })
  await fetcher.transfer.fetch(thirdCid, { providers: [provider.id] })
  assert.equal(fetcher.opened.get(BLOCKS_PROTOCOL), 2)
  assert.deepEqual(await readFile(fetcher.store, thirdCid), third)
})

/**
 * `store` as a disk where the first raw leaf read has changed since it was written (its first
 * byte flipped on every read); `changed()` names that leaf. `verifiedHere` is handed on as given.
 */
function changingStore (store: BlockStore, verifiedHere?: () => boolean): { store: BlockStore, changed: () => string | undefined } {
  let changed: string | undefined
  return {
    changed: () => changed,
    store: {
      has: store.has,
      putBlock: store.putBlock,
      ...(verifiedHere != null ? { verifiedHere } : {}),
      getBlock: async (cid) => {
        const bytes = await store.getBlock(cid)
        if (bytes == null || !cid.startsWith('bafk')) return bytes
        changed ??= cid
        if (cid !== changed) return bytes
        const flipped = new Uint8Array(bytes)
        flipped[0] = (flipped[0] ?? 0) ^ 1
        return flipped
      }
    }
  }
}

test('a provider whose store holds a corrupt block does not serve it: DONT_HAVE, fetched elsewhere, nobody banned', async (t) => {
  let disk: ReturnType<typeof changingStore> | undefined
  const peers = await startPeers(t, 3, { wrapStore: (i, store) => i !== 0 ? store : (disk = changingStore(store)).store })
  const corrupted = (): string | undefined => disk?.changed()
  const [bad, good, fetcher] = peers
  assert.ok(bad != null && good != null && fetcher != null)
  const content = randomContent(8 * MiB)
  const cid = await bad.store.add(content)
  await good.store.add(content)
  // ask the bad one alone first: it answers DONT_HAVE for the corrupt block, so this times out
  // (an idle timeout long enough for the other blocks to arrive on a loaded machine)
  await assert.rejects(fetcher.transfer.fetch(cid, { providers: [bad.id], timeout: 5_000 }), { name: 'TransferTimeoutError' })
  const bad1 = corrupted()
  assert.ok(bad1 != null)
  assert.equal(await fetcher.store.has(bad1), false)
  const result = await fetcher.transfer.fetch(cid, { providers: [bad.id, good.id] })
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.deepEqual(result.banned, [])
  assert.equal(result.providers[good.id]?.blocks, 1)
  assert.equal(fetcher.transfer.stats().received.invalid, 0)
})

test('a block its store verified in this process is sent without hashing it again; bytes changed since are caught by the receiver, whose download bans the sender', async (t) => {
  let trusted = 0
  let disk: ReturnType<typeof changingStore> | undefined
  // as a store that wrote these blocks itself (src/storage's Store.verifiedHere after an import), one of them changed on disk since
  const peers = await startPeers(t, 3, { wrapStore: (i, store) => i !== 0 ? store : (disk = changingStore(store, () => { trusted++; return true })).store })
  const [sharer, good, fetcher] = peers
  assert.ok(sharer != null && good != null && fetcher != null)
  const content = randomContent(4 * MiB)
  const cid = await sharer.store.add(content)
  await good.store.add(content)
  // from the sharer alone: the changed block is sent (not hashed there), refused here, and the sharer banned
  const failed = await fetcher.transfer.fetch(cid, { providers: [sharer.id], timeout: 5_000 }).then(() => undefined, (err: Error) => err)
  assert.ok(failed != null, 'the download cannot complete from the sharer alone')
  assert.ok(trusted > 0, 'the server asked its store')
  const changed = disk?.changed()
  assert.ok(changed != null)
  assert.equal(fetcher.transfer.stats().received.invalid, 1, 'the changed block was sent, and refused by the receiver')
  assert.equal(await fetcher.store.has(changed), false)
  // the rest is kept; the block comes from another provider
  await fetcher.transfer.fetch(cid, { providers: [good.id] })
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

test('ByteBudget: waiters are served in order, one holder may exceed the cap, abort removes a waiter', async () => {
  const budget = new ByteBudget(10)
  await budget.acquire(25) // alone: allowed past the cap
  const order: number[] = []
  const a = budget.acquire(6).then(() => { order.push(1) })
  const b = budget.acquire(4).then(() => { order.push(2) })
  const controller = new AbortController()
  const c = budget.acquire(8, controller.signal)
  controller.abort(new Error('gone'))
  await assert.rejects(c, { message: 'gone' })
  assert.deepEqual(order, [])
  budget.release(25)
  await Promise.all([a, b])
  assert.deepEqual(order, [1, 2])
  assert.equal(budget.inUse, 10)
  budget.adjust(-4)
  assert.equal(budget.inUse, 6)
})

test('stop() during a fetch: the fetch rejects with TransferNotStartedError and later fetches are refused', async (t) => {
  const [provider, fetcher] = await startPeers(t, 2)
  assert.ok(provider != null && fetcher != null)
  const cid = await provider.store.add(randomContent(12 * MiB))
  let stopping: Promise<void> | undefined
  await assert.rejects(fetcher.transfer.fetch(cid, {
    providers: [provider.id],
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:block' && evt.detail.blocks === 3) stopping = fetcher.transfer.stop() }
  }), { name: 'TransferNotStartedError' })
  await stopping
  assert.equal(fetcher.transfer.isStarted(), false)
  await assert.rejects(fetcher.transfer.fetch(cid, { providers: [provider.id] }), { name: 'TransferNotStartedError' })
  await waitFor(() => provider.transfer.stats().served.streams === 0, { message: 'serving streams to close' })
})

test('a DAG whose 600 leaves are one block: fetched once, counted 600 times in progress', async (t) => {
  const [provider, fetcher] = await startPeers(t, 2)
  assert.ok(provider != null && fetcher != null)
  const cid = await provider.store.add((async function * () {
    const chunk = new Uint8Array(MiB).fill(7)
    for (let i = 0; i < 600; i++) yield chunk
  })())
  let last: FetchProgress | undefined
  const result = await fetcher.transfer.fetch(cid, {
    providers: [provider.id],
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:complete') last = evt.detail }
  })
  assert.equal(result.size, 600 * MiB)
  assert.equal(result.blocks, 2) // the root and the one distinct leaf
  assert.equal(result.blocksReceived, 2)
  assert.equal(last?.bytes, 600 * MiB)
  assert.equal(last?.total, 600 * MiB)
})

test('bestOf picks the n best in order without sorting everything', () => {
  const asc = (a: number, b: number): number => a - b
  assert.deepEqual(bestOf([5, 3, 9, 1, 7, 3], 3, asc), [1, 3, 3])
  assert.deepEqual(bestOf([2, 1], 5, asc), [1, 2])
  const many = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 5000)
  assert.deepEqual(bestOf(many, 4, asc), [0, 1, 2, 3])
})
