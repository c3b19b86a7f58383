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
import { pushable, type Pushable } from 'it-pushable'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { parseCid } from '../src/content/index.js'
import { BLOCKS_PROTOCOL, createMemoryBlockStore, createTransfer, type FetchProgress, type FetchResult, type TransferNetwork } from '../src/transfer/index.js'
import { INVALID_BLOCK_PENALTY } from '../src/transfer/constants.js'
import { decodeFrame, encodeBlock, encodeList, FrameType } from '../src/transfer/messages.js'
import type { ByteStream } from '../src/transfer/types.js'
import { TypedEventEmitter } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { MemoryNet, startMemoryPeers } from './fixtures/transfer-memnet.js'
import { randomContent, readFile, seededContent, startPeers, type TestContext } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024

/** Rejects if `p` has not settled after `ms` (catches hangs only). */
async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} did not settle within ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

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

/** A provider stream whose answers `onFrame` pushes to `out` as each request frame is read; `onEnd` when either side ends it. */
function scriptedStream (peer: string, onFrame: (frame: ReturnType<typeof decodeFrame>, out: Pushable<Uint8Array>) => void, onEnd?: () => void): ByteStream {
  const out = pushable<Uint8Array>()
  const end = (): void => { onEnd?.(); out.end() }
  return {
    remotePeer: peer,
    protocol: BLOCKS_PROTOCOL,
    source: out,
    sink: async (source: AsyncIterable<any>) => {
      for await (const buf of lp.decode(source)) onFrame(decodeFrame(buf), out)
      end()
    },
    close: async () => {},
    abort: end
  } as unknown as ByteStream
}

/** One frame, length-prefixed, as a provider writes it. */
const framed = (bytes: Parameters<typeof lp.encode.single>[0]): Uint8Array => lp.encode.single(bytes).subarray()

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

/** A file of `leaves` distinct 1000-byte leaves under one dag-pb root; its blocks go into `blocks`. */
function smallFile (blocks: Map<string, Uint8Array>, fill: number, leaves: number): { root: CID, leaves: CID[] } {
  const bytes = Array.from({ length: leaves }, (_, i) => new Uint8Array(1000).fill((fill * 37 + i) % 256))
  const cids = bytes.map(b => cidOf(0x55, b))
  bytes.forEach((b, i) => blocks.set(cids[i]?.toString() ?? '', b))
  const root = dagPb.encode(dagPb.prepare({
    Data: new UnixFS({ type: 'file', blockSizes: bytes.map(() => 1000n) }).marshal(),
    Links: cids.map(cid => ({ Hash: cid, Tsize: 1000 }))
  }))
  const rootCid = cidOf(0x70, root)
  blocks.set(rootCid.toString(), root)
  return { root: rootCid, leaves: cids }
}

test('a stream that ends a few microtasks after it opened: the provider is asked again on a new stream, whatever the moment', async (t) => {
  const cid = await createMemoryBlockStore().add(new Uint8Array(1000).fill(7))
  const stuck: number[] = []
  for (let ticks = 0; ticks < 8; ticks++) {
    // the first stream ends after `ticks` microtasks (around attach() returning); later ones stay open
    const network = fakeNetwork((peer, n) => fakeStream(peer, (async function * () {
      if (n === 1) {
        for (let i = 0; i < ticks; i++) await Promise.resolve()
        return
      }
      await new Promise(() => {})
    })()))
    const transfer = createTransfer({ network, store: createMemoryBlockStore(), stallTimeout: 60_000 })
    await transfer.start()
    const controller = new AbortController()
    const fetching = transfer.fetch(cid, { providers: ['mallory'], signal: controller.signal, timeout: 60_000 })
    fetching.catch(() => {})
    // the first retry is at once (backoffMs(1) = 0)
    await waitFor(() => network.opens >= 2, { timeout: 5_000 }).catch(() => { stuck.push(ticks) })
    controller.abort(new Error('test over'))
    await fetching.catch(() => {})
    await transfer.stop()
  }
  assert.deepEqual(stuck, [], 'the stream ended and the provider was kept "open" on a dead handle, never asked again')
})

test('a provider back on a new connection while a dial made during the outage hangs: the download goes on', async (t) => {
  const net = new MemoryNet()
  const [sharer, fetcher] = await startMemoryPeers(t, 2, {}, net)
  assert.ok(sharer != null && fetcher != null)
  const content = randomContent(8 * MiB)
  const cid = await sharer.store.add(content)
  // while the peer is away, a dial hangs until its signal gives up
  const outage = hangDuringOutage(fetcher.network)
  let cut = false
  const statuses: string[] = []
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 60_000,
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:provider') statuses.push(evt.detail.status)
      if (evt.type === 'transfer:fetch:block' && !cut) {
        // the first block is here: the connection drops
        cut = true
        outage.on = true
        net.freeze(fetcher.id, sharer.id)
        fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id } as any)
      }
    }
  })
  fetching.catch(() => {})
  // it left and a new dial is on its way (and hangs): the peer comes back on a new connection
  await waitFor(() => outage.hanging >= 1, { timeout: 20_000, message: () => `a dial during the outage (statuses ${statuses.join(',')})` })
  outage.on = false
  net.freeze(fetcher.id, sharer.id, false)
  fetcher.network.safeDispatchEvent('peer:connect', { peer: sharer.id } as any)
  const result = await fetching.catch((err: Error) => err)
  assert.ok(!(result instanceof Error), `${String((result as Error).name)}: ${String((result as Error).message)} (statuses ${statuses.join(',')})`)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

test('two downloads on one slow provider: blocks it sends for one show the other that it is not stalled', async (t) => {
  const blocks = new Map<string, Uint8Array>()
  const first = smallFile(blocks, 1, 30)
  const second = smallFile(blocks, 2, 4)
  const firstKeys = new Set([first.root, ...first.leaves].map(c => c.toString()))
  // one block every 50 ms, the first file's before anything else: the second waits ~1.5 s
  // behind it, longer than the stall timeout, while the stream never pauses for more than 50 ms
  const network = fakeNetwork((peer) => {
    const queue: CID[] = []
    let out: Pushable<Uint8Array> | undefined
    const timer = setInterval(() => {
      const i = queue.findIndex(c => firstKeys.has(c.toString()))
      const [cid] = queue.splice(i >= 0 ? i : 0, 1)
      if (cid != null) out?.push(framed(encodeBlock(cid, blocks.get(cid.toString()) ?? new Uint8Array())))
    }, 50)
    const stream = scriptedStream(peer, (frame, o) => {
      out = o
      if (frame.type === FrameType.WANT_HAVE) o.push(framed(encodeList(FrameType.HAVE, frame.cids.filter(c => blocks.has(c.toString())))))
      if (frame.type === FrameType.WANT_BLOCK) queue.push(...frame.cids)
      if (frame.type === FrameType.CANCEL) for (const c of frame.cids) { const i = queue.findIndex(q => q.equals(c)); if (i >= 0) queue.splice(i, 1) }
    }, () => { clearInterval(timer) })
    return stream
  })
  const transfer = createTransfer({ network, store: createMemoryBlockStore(), stallTimeout: 1_000 })
  await transfer.start()
  t.after(async () => { await transfer.stop() })
  const failed: string[] = []
  const fetch = async (root: CID): Promise<FetchResult> => await transfer.fetch(root.toString(), {
    providers: ['slow'],
    timeout: 30_000,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:provider' && evt.detail.status === 'failed') failed.push(String(evt.detail.reason)) }
  })
  const [a, b] = await Promise.all([fetch(first.root), fetch(second.root)])
  assert.equal(a.blocks, 31)
  assert.equal(b.blocks, 5)
  assert.deepEqual(failed, [], 'the provider was taken for stalled (and the stream reset under both downloads)')
  assert.equal(network.opens, 1)
})

test('one wrong block handed to two downloads sharing the peer link: both ban the peer, it is penalized once', async (t) => {
  const cid = await createMemoryBlockStore().add(new Uint8Array(1000).fill(5))
  const root = parseCid(cid)
  const penalties: number[] = []
  let wrongSent = 0
  const network = fakeNetwork((peer) => {
    let haves = 0
    let asked = false
    let sent = false
    // the liar: HAVE for everything asked about; one wrong copy, once both downloads are on the
    // stream (two WANT_HAVEs) and the block was asked; a second later, so that the second
    // download has asked too (its WANT_BLOCK is not sent again on the shared stream: the copy
    // is handed to both)
    return scriptedStream(peer, (frame, out) => {
      if (frame.type === FrameType.WANT_HAVE) {
        haves++
        out.push(framed(encodeList(FrameType.HAVE, frame.cids)))
      }
      if (frame.type === FrameType.WANT_BLOCK) asked = true
      if (sent || !asked || haves < 2) return
      sent = true
      setTimeout(() => {
        wrongSent++
        out.push(framed(encodeBlock(root, new Uint8Array(1000).fill(6))))
      }, 1000)
    })
  })
  network.penalize = (_peer: string, amount: number) => { penalties.push(amount) }
  const transfer = createTransfer({ network, store: createMemoryBlockStore(), stallTimeout: 60_000 })
  await transfer.start()
  t.after(async () => { await transfer.stop() })
  const controller = new AbortController()
  let banned = 0
  const fetches = [0, 1].map(async () => await transfer.fetch(cid, {
    providers: ['mallory'],
    signal: controller.signal,
    timeout: 60_000,
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:provider' && evt.detail.status === 'banned') banned++ }
  }).catch(() => {}))
  await waitFor(() => banned >= 2, { timeout: 20_000, message: () => `both downloads ban the liar (${banned})` })
  controller.abort(new Error('test over'))
  await Promise.all(fetches)
  assert.equal(wrongSent, 1)
  assert.deepEqual(penalties, [INVALID_BLOCK_PENALTY], 'one wrong block, one penalty (two would pass the graylist threshold)')
  assert.equal(transfer.stats().received.invalid, 1)
})

test('a block waiting beyond maxPendingBlocks that another download stores meanwhile is taken from the store', async (t) => {
  const net = new MemoryNet()
  const [p1, p2, me] = await startMemoryPeers(t, 3, { maxPendingBlocks: 1 }, net)
  assert.ok(p1 != null && p2 != null && me != null)
  const blocks = new Map<string, Uint8Array>()
  const file = smallFile(blocks, 3, 6)
  // the shared leaf: p2 lacks it, p1 has it
  const x = file.leaves[4]?.toString() ?? ''
  for (const [key, bytes] of blocks) if (key !== x) await p2.store.putBlock(key, bytes)
  await p1.store.putBlock(x, blocks.get(x) ?? new Uint8Array())
  // B: the file from p2; once its root landed (one leaf tracked, the others waiting) p2 is frozen
  let rootLanded = false
  const b = me.transfer.fetch(file.root.toString(), {
    providers: [p2.id],
    timeout: 60_000,
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:root' && evt.detail.total != null && !rootLanded) {
        rootLanded = true
        net.freeze(me.id, p2.id)
      }
    }
  })
  b.catch(() => {})
  await waitFor(() => rootLanded, { timeout: 20_000, message: 'the root landed' })
  // A: the shared leaf from p1, into the same store
  await me.transfer.fetch(x, { providers: [p1.id], timeout: 20_000 })
  net.freeze(me.id, p2.id, false)
  const result = await within(b.catch((err: Error) => err), 30_000, 'B')
  assert.ok(!(result instanceof Error), `B failed although the block it lacks is in the local store: ${String(result)}`)
  assert.equal(result.blocks, 7)
})

test('a block already here, linked from two nodes whose walks run at once, is counted once', async (t) => {
  const net = new MemoryNet()
  const [provider] = await startMemoryPeers(t, 1, {}, net)
  assert.ok(provider != null)
  const inner = createMemoryBlockStore()
  // lookups take a turn of the event loop, as a disk store's do
  const store = Object.assign(Object.create(inner) as typeof inner, {
    has: async (key: string) => { await new Promise(resolve => setImmediate(resolve)); return await inner.has(key) }
  })
  const me = createTransfer({ network: net.create(), store })
  await me.start()
  t.after(async () => { await me.stop() })
  const node = (children: Array<{ cid: CID, size: number }>): Uint8Array => dagPb.encode(dagPb.prepare({
    Data: new UnixFS({ type: 'file', blockSizes: children.map(c => BigInt(c.size)) }).marshal(),
    Links: children.map(c => ({ Hash: c.cid, Tsize: c.size }))
  }))
  const [c, l1, l2] = [1, 2, 3].map(n => new Uint8Array(1000).fill(n)) as [Uint8Array, Uint8Array, Uint8Array]
  const [cC, c1, c2] = [c, l1, l2].map(b => cidOf(0x55, b)) as [CID, CID, CID]
  const n1 = node([{ cid: cC, size: 1000 }, { cid: c1, size: 1000 }])
  const n2 = node([{ cid: cC, size: 1000 }, { cid: c2, size: 1000 }])
  const root = node([{ cid: cidOf(0x70, n1), size: 2000 }, { cid: cidOf(0x70, n2), size: 2000 }])
  const rootCid = cidOf(0x70, root)
  for (const [cid, bytes] of [[cC, c], [c1, l1], [c2, l2], [cidOf(0x70, n1), n1], [cidOf(0x70, n2), n2], [rootCid, root]] as Array<[CID, Uint8Array]>) {
    await provider.store.putBlock(cid.toString(), bytes)
  }
  // the shared leaf and the root are here from an earlier run
  await inner.putBlock(cC.toString(), c)
  await inner.putBlock(rootCid.toString(), root)
  const result = await me.fetch(rootCid.toString(), { providers: [provider.id], timeout: 20_000 })
  assert.equal(result.blocks, 6, 'root, 2 nodes, 3 distinct leaves')
  assert.equal(result.size, 4000)
})

/** Makes `network`'s dials hang (no RST on a dead Wi-Fi link) while `outage.on`, until their signal gives up. */
function hangDuringOutage (network: { openStream: TransferNetwork['openStream'] }): { on: boolean, hanging: number } {
  const outage = { on: false, hanging: 0 }
  const open = network.openStream.bind(network)
  network.openStream = async (peer, protocol, options) => {
    if (!outage.on) return await open(peer, protocol, options)
    outage.hanging++
    return await new Promise((_resolve, reject) => {
      options?.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
    })
  }
  return outage
}

test('two downloads from one peer, the dial made during the outage hangs, the peer comes back: both go on', async (t) => {
  const net = new MemoryNet()
  const [sharer, fetcher] = await startMemoryPeers(t, 2, {}, net)
  assert.ok(sharer != null && fetcher != null)
  const contents = [randomContent(8 * MiB), randomContent(8 * MiB)]
  const cids = [await sharer.store.add(contents[0] ?? new Uint8Array()), await sharer.store.add(contents[1] ?? new Uint8Array())]
  const outage = hangDuringOutage(fetcher.network)
  let cut = false
  const fetches = cids.map(async cid => await fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 60_000,
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:block' && !cut) {
        cut = true
        outage.on = true
        net.freeze(fetcher.id, sharer.id)
        fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id } as any)
      }
    }
  }).catch((err: Error) => err))
  // both downloads wait for the one open made during the outage; the peer comes back
  await waitFor(() => outage.hanging >= 1, { timeout: 20_000, message: 'a dial during the outage' })
  outage.on = false
  net.freeze(fetcher.id, sharer.id, false)
  fetcher.network.safeDispatchEvent('peer:connect', { peer: sharer.id } as any)
  for (const [i, result] of (await Promise.all(fetches)).entries()) {
    assert.ok(!(result instanceof Error), `download ${i}: ${String(result)}`)
    assert.deepEqual(await readFile(fetcher.store, cids[i] ?? ''), contents[i])
  }
})

test('a stall, then peer:disconnect while the new dial hangs, then the peer comes back: the download goes on', async (t) => {
  const net = new MemoryNet()
  // in-process streams have no flow control: a small window keeps most of the file unsent when the link fails
  const [sharer, fetcher] = await startMemoryPeers(t, 2, { stallTimeout: 1_000, initialWindow: 4, minWindow: 2, maxWindow: 4 }, net)
  assert.ok(sharer != null && fetcher != null)
  const content = randomContent(24 * MiB)
  const cid = await sharer.store.add(content)
  const outage = hangDuringOutage(fetcher.network)
  let blocks = 0
  const statuses: string[] = []
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 60_000,
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:provider') statuses.push(evt.detail.status)
      // the link dies with the TCP connection kept: a stall, then a new dial that hangs
      if (evt.type === 'transfer:fetch:block' && ++blocks === 4) {
        outage.on = true
        net.freeze(fetcher.id, sharer.id)
      }
    }
  })
  fetching.catch(() => {})
  await waitFor(() => statuses.includes('failed') && outage.hanging >= 1, { timeout: 30_000, message: () => `a stall and a hanging dial (${statuses.join(',')})` })
  // then the keep-alive gives up on the connection; the peer comes back on a new one
  fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id } as any)
  await waitFor(() => statuses.includes('left'), { timeout: 20_000, message: () => `left (${statuses.join(',')})` })
  outage.on = false
  net.freeze(fetcher.id, sharer.id, false)
  fetcher.network.safeDispatchEvent('peer:connect', { peer: sharer.id } as any)
  const result = await fetching.catch((err: Error) => err)
  assert.ok(!(result instanceof Error), `${String(result)} (statuses ${statuses.join(',')})`)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})
