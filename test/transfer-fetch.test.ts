/**
 * Unit tests of the fetch components that the simulation does not reach: the want list's bound
 * on tracked blocks, the backoff, the verdicts, and a fetch under a tiny pending-block bound.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { parseCid } from '../src/content/index.js'
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../src/transfer/constants.js'
import { backoffMs, FetchProvider, RateMeter } from '../src/transfer/fetch/provider.js'
import { explainTimeout, leftError } from '../src/transfer/fetch/verdict.js'
import { WantList } from '../src/transfer/fetch/want-list.js'
import { PeerLinks } from '../src/transfer/fetch/peer-link.js'
import { FrameType } from '../src/transfer/messages.js'
import { BLOCKS_PROTOCOL, type TransferNetwork } from '../src/transfer/index.js'
import type { ByteStream } from '../src/transfer/types.js'
import { waitFor } from '../src/util/wait.js'
import { pushable } from 'it-pushable'
import { MemoryNet, startMemoryPeers } from './fixtures/transfer-memnet.js'
import { createMemoryBlockStore, createTransfer } from '../src/transfer/index.js'
import { randomContent, readFile } from './fixtures/transfer-peers.js'

const cidOf = (i: number): ReturnType<typeof parseCid> =>
  parseCid(CID.createV1(0x55, Digest.create(0x12, new Uint8Array(createHash('sha256').update(`b${i}`).digest()))).bytes)

test('want list: at most maxTracked blocks are tracked, the rest wait and are tracked as blocks land', () => {
  const wants = new WantList(4)
  const cids = Array.from({ length: 10 }, (_, i) => cidOf(i))
  for (const cid of cids) wants.add(cid, 100)
  assert.equal(wants.tracked, 4)
  assert.equal(wants.size, 10)
  assert.deepEqual(wants.takeFresh().map(String), cids.slice(0, 4).map(String))
  // a block linked twice counts its bytes twice, tracked or waiting
  wants.add(cids[0] as any, 100)
  wants.add(cids[9] as any, 100)
  assert.equal(wants.get(String(cids[0]))?.fileBytes, 200)
  wants.remove(String(cids[0]))
  assert.equal(wants.tracked, 4)
  assert.equal(wants.size, 9)
  assert.deepEqual(wants.takeFresh().map(String), [String(cids[4])])
  for (let i = 1; i < 9; i++) wants.remove(String(cids[i]))
  assert.equal(wants.get(String(cids[9]))?.fileBytes, 200, 'the waiting block kept the bytes it was linked for')
  assert.equal(wants.size, 1)
})

test('backoff: the first retry at once, then doubling from BACKOFF_BASE_MS, never past BACKOFF_MAX_MS', () => {
  assert.equal(backoffMs(1), 0)
  assert.equal(backoffMs(2), BACKOFF_BASE_MS)
  assert.equal(backoffMs(3), BACKOFF_BASE_MS * 2)
  assert.equal(backoffMs(1000), BACKOFF_MAX_MS)
  const p = new FetchProvider('alice', 8, 0)
  p.state = 'down'
  p.failed(1000, 'x')
  p.failed(1000, 'x')
  assert.equal(p.due(1000), false)
  assert.equal(p.due(1000 + BACKOFF_BASE_MS), true)
})

test('rate meter: the rate over the last two seconds, 0 two seconds into a stall, not the last burst spread over the stall', () => {
  const MiB = 1 << 20
  const meter = new RateMeter()
  assert.equal(meter.rate(0), 0)
  // 10 MiB/s for 4 s: a MiB every 100 ms
  for (let t = 0; t <= 4000; t += 100) meter.record(t, MiB)
  assert.equal(Math.round(meter.rate(4000) / MiB), 10)
  // the stall: the rate falls with the window, and is 0 once the window holds no byte
  assert.equal(Math.round(meter.rate(5000) / MiB), 5)
  assert.equal(meter.rate(6000), 0)
  assert.equal(meter.rate(60_000), 0)
  // back, at 1 MiB/s: over the whole window, not over the time since its oldest sample
  meter.record(61_000, MiB)
  meter.record(62_000, MiB)
  assert.equal(meter.rate(62_500) / MiB, 1)
})

test('verdicts: left, stalled, timed out and not found are told apart', () => {
  const mk = (peer: string, state: FetchProvider['state'], everHad: boolean): FetchProvider => {
    const p = new FetchProvider(peer, 8, 0)
    p.state = state
    p.everHad = everHad
    return p
  }
  const alice = mk('alice', 'left', true)
  alice.leftAt = 1000
  assert.equal(leftError('bafy', [alice], 3, 2000, 2000), undefined, 'within the grace')
  const err = leftError('bafy', [alice, mk('bob', 'left', false)], 3, 3000, 2000)
  assert.equal(err?.name, 'ProviderLeftError')
  assert.match(err?.message ?? '', /alice \(the only provider\) left the swarm/)
  assert.equal(leftError('bafy', [alice, mk('carol', 'open', false)], 3, 3000, 2000), undefined, 'another provider is open')
  // found as a provider of the file (the catalog, a want), and gone before its first HAVE: it left with blocks of this download
  const eve = mk('eve', 'left', false)
  eve.leftAt = 1000
  assert.equal(leftError('bafy', [eve], 3, 3000, 2000), undefined, 'never said HAVE and not listed: not a provider that left')
  eve.listed = true
  assert.match(leftError('bafy', [eve], 3, 3000, 2000)?.message ?? '', /eve \(the only provider\) left the swarm/)
  // another downloader, connected: it holds the verdict while it has a missing block, or spoke lately
  const carol = mk('carol', 'open', true)
  carol.lastHeard = 1000
  const holds = (held: boolean) => (peer: string) => peer === 'carol' && held
  assert.equal(leftError('bafy', [alice, carol], 3, 5000, 2000, holds(true), 3200), undefined, 'carol has a missing block')
  assert.equal(leftError('bafy', [alice, carol], 3, 4000, 2000, holds(false), 3200), undefined, 'carol spoke 3 s ago (a copy between two reveals)')
  const others = leftError('bafy', [alice, carol], 3, 5000, 2000, holds(false), 3200)
  assert.equal(others?.name, 'ProviderLeftError')
  assert.match(others?.message ?? '', /alice \(the only provider of the missing blocks\) left the swarm .* the 1 peer\(s\) still connected have none of them/)
  const down = mk('dan', 'down', true)
  assert.equal(leftError('bafy', [alice, carol, down], 3, 5000, 2000, holds(false), 3200), undefined, 'a provider that is down may come back with anything')

  const ctx = { cid: 'bafy', timeout: 30_000, missing: 2, now: 40_000 }
  assert.equal(explainTimeout({ ...ctx, found: false, providers: [] }).name, 'NotFoundInSwarmError')
  const stalled = mk('dave', 'open', true)
  stalled.stalledSince = 20_000
  stalled.lastHeard = 10_000
  const e = explainTimeout({ ...ctx, found: true, providers: [stalled] })
  assert.equal(e.name, 'ProviderStalledError')
  assert.match(e.message, /dave stopped answering 30 s ago/)
  assert.equal(explainTimeout({ ...ctx, found: true, providers: [mk('erin', 'open', true)] }).name, 'TransferTimeoutError', 'open and owing nothing: not stalled')
  // the sharer down for good behind a dead link, a connected downloader that has none of the
  // missing blocks: the sharer is named, the downloader does not count as a live holder
  const sharer = mk('sam', 'down', true)
  sharer.lastHeard = 8_000
  const peerOpen = mk('fay', 'open', true)
  peerOpen.lastHeard = 39_000
  const holdsSam = (peer: string): boolean => peer === 'sam'
  const named = explainTimeout({ ...ctx, found: true, providers: [sharer, peerOpen], holds: holdsSam })
  assert.equal(named.name, 'ProviderStalledError')
  assert.match(named.message, /sam stopped answering 32 s ago/)
  assert.equal(explainTimeout({ ...ctx, found: true, providers: [sharer, peerOpen] }).name, 'TransferTimeoutError', 'without knowing who holds what, the open downloader counts')
  // every holder's dials found no route: this node is offline, and says so
  sharer.offline = true
  assert.match(explainTimeout({ ...ctx, found: true, providers: [sharer, peerOpen], holds: holdsSam }).message, /this node lost its network connection/)
  // a provider that left and is being dialled again is undecided until the dial ends
  const redialled = mk('gus', 'connecting', true)
  redialled.leftAt = 1000
  assert.equal(leftError('bafy', [redialled], 3, 5000, 2000), undefined, 'a redial in progress: neither left nor there')
})

test('a fetch with at most 3 pending blocks tracked still completes, byte-identical', async (t) => {
  const [sharer, fetcher] = await startMemoryPeers(t, 2, { maxPendingBlocks: 3 })
  if (sharer == null || fetcher == null) throw new Error('2 peers')
  const content = randomContent(12 * 1024 * 1024 + 5)
  const cid = await sharer.store.add(content)
  const result = await fetcher.transfer.fetch(cid, { providers: [sharer.id], timeout: 60_000 })
  assert.equal(result.blocks, sharer.store.size)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

/** A block stream that records the frames written to it and never answers (ended by abort). */
function silentStream (peer: string, written: Uint8Array[]): ByteStream {
  const incoming = pushable<Uint8Array>()
  return {
    remotePeer: peer,
    protocol: BLOCKS_PROTOCOL,
    source: incoming,
    sink: async (source) => { for await (const chunk of source) written.push(chunk instanceof Uint8Array ? chunk : chunk.subarray()) },
    close: async () => { incoming.end() },
    abort: () => { incoming.end() }
  }
}

test('peer links: downloads waiting for one open share it; one giving up does not stop the open for the others; a CANCEL goes out only for what nobody else wants', async () => {
  let release: (() => void) | undefined
  const written: Uint8Array[] = []
  let opens = 0
  const network = {
    peerId: 'me',
    openStream: async (peer: string, _protocol: string, options: { signal?: AbortSignal } = {}) => {
      opens++
      await new Promise<void>((resolve, reject) => {
        release = resolve
        options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
      })
      return silentStream(peer, written)
    }
  } as unknown as TransferNetwork
  const links = new PeerLinks(network)
  const client = { onFrame: () => {}, onEnd: () => {} }
  const first = new AbortController()
  const a = links.attach('alice', client, first.signal)
  const b = links.attach('alice', client, new AbortController().signal)
  first.abort(new Error('the first download stopped'))
  await assert.rejects(a, /the first download stopped/)
  release?.()
  const hb = await b
  assert.equal(opens, 1, 'one open for both')
  assert.equal(links.stats.opened, 1)
  const hc = await links.attach('alice', client, new AbortController().signal)
  assert.equal(opens, 1, 'a third download joins the open stream')
  // both want block 1: it is asked once (the block goes to both); c cancels it: nothing goes
  // out; b cancels it too: the CANCEL goes out
  hb.send(FrameType.WANT_BLOCK, [cidOf(1)])
  hc.send(FrameType.WANT_BLOCK, [cidOf(1)])
  hb.send(FrameType.WANT_BLOCK, [cidOf(2)])
  const frames = (): number[] => written.map(w => w[lpHeader(w)] ?? -1)
  await waitFor(() => frames().length === 2, { message: 'two WANT_BLOCK frames written' })
  hc.send(FrameType.CANCEL, [cidOf(1)])
  hb.send(FrameType.WANT_BLOCK, [cidOf(3)])
  await waitFor(() => frames().length === 3, { message: 'the next frame written' })
  assert.deepEqual(frames(), [FrameType.WANT_BLOCK, FrameType.WANT_BLOCK, FrameType.WANT_BLOCK], 'block 1 asked once, and no CANCEL while b still wants it')
  assert.ok(!written.slice(1).some(w => Buffer.from(w).includes(Buffer.from(cidOf(1).bytes))), 'block 1 was not asked a second time')
  hb.send(FrameType.CANCEL, [cidOf(1)])
  await waitFor(() => frames().length === 4, { message: 'the CANCEL written' })
  assert.equal(frames()[3], FrameType.CANCEL)
})

/** Length of the varint length prefix at the start of a frame. */
function lpHeader (frame: Uint8Array): number {
  let i = 0
  while (((frame[i] ?? 0) & 0x80) !== 0) i++
  return i + 1
}

test('a fetch aborted while it walks what is stored rejects with the reason, and nothing is left unhandled', async (t) => {
  // a store whose lookups take a turn of the event loop, as a disk store's do
  const net = new MemoryNet()
  const network = net.create()
  const inner = createMemoryBlockStore()
  const store = Object.assign(Object.create(inner) as typeof inner, {
    has: async (key: string) => { await new Promise(resolve => setImmediate(resolve)); return await inner.has(key) }
  })
  const transfer = createTransfer({ network, store })
  await transfer.start()
  t.after(async () => { await transfer.stop() })
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.after(() => { process.off('unhandledRejection', onUnhandled) })
  const controller = new AbortController()
  const cid = CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update('nobody has this').digest())).toString()
  const fetching = transfer.fetch(cid, { providers: [], signal: controller.signal, timeout: 60_000 })
  controller.abort(new Error('the client went away'))
  await assert.rejects(fetching, /the client went away/)
  // the rejection detector runs once the microtasks of a turn are done: give it two turns
  for (let i = 0; i < 2; i++) await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(unhandled, [])
})
