/**
 * The fetch side against peers that misbehave at the edges, and downloads that share a peer
 * link (found by a review of the transfer engine, 2026-12-07):
 *
 * - a provider whose block stream speaks first, resets or ends as it opens: no unhandled
 *   rejection (the process would exit), the provider is asked again on a new stream;
 * - a fetch aborted while it walks what is stored leaves no timer behind;
 * - two downloads of one file from one peer: each block is asked and sent once, and counted
 *   once in the transfer's totals;
 * - the only provider sends wrong blocks: the error names it (ProviderBannedError);
 * - a dag-pb node linked twice: progress reaches the file's size.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import * as lp from 'it-length-prefixed'
import { pushable } from 'it-pushable'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { parseCid } from '../src/content/index.js'
import { BLOCKS_PROTOCOL, createMemoryBlockStore, createTransfer, type FetchProgress, type TransferNetwork } from '../src/transfer/index.js'
import { encodeBlock, encodeList, FrameType } from '../src/transfer/messages.js'
import type { ByteStream } from '../src/transfer/types.js'
import { TypedEventEmitter } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { MemoryNet, startMemoryPeers } from './fixtures/transfer-memnet.js'
import { randomContent, seededContent, startPeers, type TestContext } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024

/** A sink that reads and drops what the download writes. */
async function drain (source: AsyncIterable<unknown>): Promise<void> {
  for await (const chunk of source) if (chunk == null) break
}

/** Unhandled rejections while the test runs (each would end the process). */
function watchUnhandled (t: TestContext): unknown[] {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.after(() => { process.off('unhandledRejection', onUnhandled) })
  return unhandled
}

/** A network whose every block stream is as `make` builds it (one provider, 'mallory'). */
function fakeNetwork (make: (peer: string, n: number) => ByteStream): TransferNetwork & { opens: number } {
  const net = Object.assign(new TypedEventEmitter<any>(), {
    peerId: 'me',
    opens: 0,
    handle: async () => {},
    unhandle: async () => {},
    penalize: () => {},
    openStream: async (peer: string): Promise<ByteStream> => make(peer, ++net.opens)
  })
  return net as unknown as TransferNetwork & { opens: number }
}

/** A stream of `source` that drops what is written to it; `aborted` collects the reasons it was aborted with. */
function fakeStream (peer: string, source: AsyncIterable<Uint8Array>, aborted: string[] = []): ByteStream {
  return {
    remotePeer: peer,
    protocol: BLOCKS_PROTOCOL,
    source,
    sink: drain,
    close: async () => {},
    abort: (err: Error) => { aborted.push(err.message) }
  } as unknown as ByteStream
}

/** A small file of a store no peer serves, and a started transfer on `network` fetching it from 'mallory'. */
async function fetchFromMallory (t: TestContext, network: TransferNetwork, fill: number): Promise<{ cid: string, statuses: string[], end: () => Promise<void> }> {
  const cid = await createMemoryBlockStore().add(new Uint8Array(1000).fill(fill))
  const transfer = createTransfer({ network, store: createMemoryBlockStore(), stallTimeout: 60_000 })
  await transfer.start()
  t.after(async () => { await transfer.stop() })
  const controller = new AbortController()
  const statuses: string[] = []
  const fetching = transfer.fetch(cid, {
    providers: ['mallory'],
    signal: controller.signal,
    timeout: 60_000,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:provider') statuses.push(evt.detail.status) }
  })
  fetching.catch(() => {})
  return {
    cid,
    statuses,
    end: async () => {
      // a few turns for the rejection detector, then the fetch is stopped
      for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
      controller.abort(new Error('test over'))
      await fetching.catch(() => {})
    }
  }
}

test('a provider that speaks first (HAVE buffered with the stream open) does not break the download or the process', async (t) => {
  const unhandled = watchUnhandled(t)
  const aborted: string[] = []
  const root = parseCid(await createMemoryBlockStore().add(new Uint8Array(1000).fill(1)))
  const network = fakeNetwork((peer) => {
    const incoming = pushable<Uint8Array>()
    // already buffered when the open resolves: the provider's HAVE for the root
    incoming.push(lp.encode.single(encodeList(FrameType.HAVE, [root])).subarray())
    return fakeStream(peer, incoming, aborted)
  })
  const fetch = await fetchFromMallory(t, network, 1)
  // the stream opened; the frame was read
  await waitFor(() => network.opens >= 1 && (fetch.statuses.length > 0 || unhandled.length > 0 || aborted.length > 0), { timeout: 20_000, message: 'the stream opened' })
  await fetch.end()
  assert.deepEqual(unhandled.map(e => String(e)), [], 'unhandled rejections (the process would exit)')
  assert.deepEqual(aborted, [], 'the stream was torn down')
})

test('a provider that resets the stream as soon as it opens: no unhandled rejection, the provider is retried', async (t) => {
  const unhandled = watchUnhandled(t)
  // the reset is already there when the open resolves (it came in the same read as the protocol ack)
  const network = fakeNetwork((peer) => fakeStream(peer, (async function * () { throw Object.assign(new Error('stream reset'), { name: 'StreamResetError' }) })()))
  const fetch = await fetchFromMallory(t, network, 2)
  // the first retry is immediate (backoffMs(1) = 0): a second open, or an unhandled rejection, comes first
  await waitFor(() => network.opens >= 2 || unhandled.length > 0, { timeout: 20_000, message: () => `a second open (opens ${network.opens})` }).catch(() => {})
  await fetch.end()
  assert.deepEqual(unhandled.map(e => String(e)), [], 'unhandled rejections (the process would exit)')
  assert.ok(network.opens >= 2, `the provider was retried after its stream ended (opens ${network.opens})`)
})

test('a provider that ends the stream as soon as it opens is retried, not kept as an open provider that is never asked', async (t) => {
  const network = fakeNetwork((peer) => fakeStream(peer, (async function * () {})()))
  const fetch = await fetchFromMallory(t, network, 3)
  await waitFor(() => network.opens >= 2, { timeout: 20_000, message: () => `a second open (opens ${network.opens}, statuses ${fetch.statuses.join(',')})` }).catch(() => {})
  await fetch.end()
  assert.ok(network.opens >= 2, `the provider was retried after its stream ended (opens ${network.opens}, statuses ${fetch.statuses.join(',')})`)
})

test('a provider that sends a block nobody asked for, whose bytes do not match its CID, is banned', async (t) => {
  const other = parseCid(await createMemoryBlockStore().add(new Uint8Array(1000).fill(9)))
  const incoming = pushable<Uint8Array>()
  const network = fakeNetwork((peer) => fakeStream(peer, incoming))
  const fetch = await fetchFromMallory(t, network, 4)
  await waitFor(() => fetch.statuses.includes('added'), { timeout: 20_000, message: 'the stream open' })
  incoming.push(lp.encode.single(encodeBlock(other, new Uint8Array(1000).fill(8))).subarray())
  await waitFor(() => fetch.statuses.includes('banned'), { timeout: 20_000, message: () => `the provider banned (statuses ${fetch.statuses.join(',')})` })
  await fetch.end()
})

test('over TCP: a provider that aborts every block stream at once: no unhandled rejection', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.after(() => { process.off('unhandledRejection', onUnhandled) })
  const [provider, fetcher] = await startPeers(t, 2)
  assert.ok(provider != null && fetcher != null)
  await provider.transfer.stop()
  let served = 0
  await provider.network.handle(BLOCKS_PROTOCOL, (stream: ByteStream) => {
    served++
    stream.abort(new Error('go away'))
  })
  const source = createMemoryBlockStore()
  for (let i = 0; i < 10; i++) {
    const cid = await source.add(new Uint8Array(100).fill(i))
    const controller = new AbortController()
    const fetching = fetcher.transfer.fetch(cid, { providers: [provider.id], signal: controller.signal, timeout: 60_000 })
    fetching.catch(() => {})
    const before = served
    // wait for a stream to be served, then a few turns
    await waitFor(() => served > before || unhandled.length > 0, { timeout: 20_000, message: 'a block stream served' })
    for (let k = 0; k < 20; k++) await new Promise(resolve => setImmediate(resolve))
    controller.abort(new Error('next'))
    await fetching.catch(() => {})
    if (unhandled.length > 0) break
  }
  assert.deepEqual(unhandled.map(e => String(e)), [], `unhandled rejections after ${served} streams`)
})

const IDLE = 987_654

test('abort during the local walk leaves no idle timer and no health interval armed', async (t) => {
  const net = new MemoryNet()
  const network = net.create()
  const inner = createMemoryBlockStore()
  // a store whose lookups take a turn of the event loop, as a disk store's do
  const store = Object.assign(Object.create(inner) as typeof inner, {
    has: async (key: string) => { await new Promise(resolve => setImmediate(resolve)); return await inner.has(key) }
  })
  const transfer = createTransfer({ network, store, stallTimeout: 2000 })
  await transfer.start()
  t.after(async () => { await transfer.stop() })

  // record the timers created from here on, and which were cleared
  const live = new Set<unknown>()
  const made: Array<{ handle: unknown, kind: string, ms: number }> = []
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = globalThis
  globalThis.setTimeout = ((fn: any, ms?: number, ...args: any[]) => {
    const h = st(fn, ms, ...args)
    if (ms === IDLE) { live.add(h); made.push({ handle: h, kind: 'idle timeout', ms }) }
    return h
  }) as typeof setTimeout
  globalThis.setInterval = ((fn: any, ms?: number, ...args: any[]) => {
    const h = si(fn, ms, ...args)
    live.add(h)
    made.push({ handle: h, kind: 'interval', ms: ms ?? 0 })
    return h
  }) as typeof setInterval
  globalThis.clearTimeout = ((h: any) => { live.delete(h); ct(h) }) as typeof clearTimeout
  globalThis.clearInterval = ((h: any) => { live.delete(h); ci(h) }) as typeof clearInterval
  const restore = (): void => {
    globalThis.setTimeout = st
    globalThis.setInterval = si
    globalThis.clearTimeout = ct
    globalThis.clearInterval = ci
  }
  try {
    const controller = new AbortController()
    const cid = CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update('nobody has this').digest())).toString()
    const fetching = transfer.fetch(cid, { providers: [], signal: controller.signal, timeout: IDLE })
    controller.abort(new Error('the client went away'))
    await assert.rejects(fetching, /the client went away/)
    const leaked = made.filter(m => live.has(m.handle))
    // clean up what leaked so the test process can exit
    for (const m of leaked) { ct(m.handle as any); ci(m.handle as any) }
    assert.deepEqual(leaked.map(m => `${m.kind} ${m.ms} ms`), [], 'timers still armed after the fetch rejected')
  } finally {
    restore()
  }
})

test('over TCP: two fetches of one file from one provider: received bytes are not more than the bytes served', async (t) => {
  const [sharer, fetcher] = await startPeers(t, 2)
  assert.ok(sharer != null && fetcher != null)
  const cid = await sharer.store.add(seededContent('shared', 16 * MiB))
  const [a, b] = await Promise.all([
    fetcher.transfer.fetch(cid, { providers: [sharer.id], timeout: 30_000 }),
    fetcher.transfer.fetch(cid, { providers: [sharer.id], timeout: 30_000 })
  ])
  const served = sharer.transfer.stats().served
  const received = fetcher.transfer.stats().received
  t.diagnostic(`served ${served.bytes} B in ${served.blocks} blocks; received ${received.bytes} B, ${received.blocks} blocks, ${received.duplicates} duplicates; fetch a got ${a.blocksReceived} blocks, b ${b.blocksReceived}`)
  assert.ok(received.bytes <= served.bytes, `received ${received.bytes} B but only ${served.bytes} B were sent`)
  assert.ok(received.blocks + received.duplicates <= served.blocks, `received ${received.blocks} + ${received.duplicates} blocks but only ${served.blocks} were sent`)
})

test('the only provider is banned: the error names the ban', async (t) => {
  const lies: string[] = []
  const [liar, fetcher] = await startPeers(t, 2, { liars: { 0: { honestBlocks: 0, lies } } })
  assert.ok(liar != null && fetcher != null)
  const cid = await liar.store.add(randomContent(4 * MiB))
  let banned = false
  const err: any = await fetcher.transfer.fetch(cid, {
    providers: [liar.id],
    timeout: 3000,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:provider' && evt.detail.status === 'banned') banned = true }
  }).then(() => undefined, (e: unknown) => e)
  assert.ok(banned, 'the liar was banned')
  t.diagnostic(`${String(err?.name)}: ${String(err?.message)}`)
  assert.equal(err?.name, 'ProviderBannedError')
  assert.match(String(err?.message), new RegExp(`^${liar.id} \\(the only provider\\) sent blocks that do not match their CIDs`))
})

const cidOf = (code: number, bytes: Uint8Array): CID => CID.createV1(code, Digest.create(0x12, new Uint8Array(createHash('sha256').update(bytes).digest())))

function fileNode (child: CID, childSize: number, copies: number): Uint8Array {
  const unixfs = new UnixFS({ type: 'file', blockSizes: Array(copies).fill(BigInt(childSize)) })
  return dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: Array(copies).fill({ Hash: child, Tsize: childSize }) }))
}

test('a dag-pb node linked twice: progress bytes reach the file size', async (t) => {
  const [sharer, fetcher] = await startMemoryPeers(t, 2)
  assert.ok(sharer != null && fetcher != null)
  const leaf = new TextEncoder().encode('hello world')
  const leafCid = cidOf(0x55, leaf)
  const mid = fileNode(leafCid, leaf.byteLength, 2)
  const midCid = cidOf(0x70, mid)
  const root = fileNode(midCid, 2 * leaf.byteLength, 2)
  const rootCid = cidOf(0x70, root)
  await sharer.store.putBlock(leafCid.toString(), leaf)
  await sharer.store.putBlock(midCid.toString(), mid)
  await sharer.store.putBlock(rootCid.toString(), root)
  let last: FetchProgress | undefined
  const result = await fetcher.transfer.fetch(rootCid.toString(), {
    providers: [sharer.id],
    timeout: 30_000,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:complete') last = evt.detail }
  })
  assert.equal(result.size, 4 * leaf.byteLength)
  assert.equal(last?.total, 4 * leaf.byteLength)
  assert.equal(last?.bytes, 4 * leaf.byteLength, 'bytes at completion')
})
