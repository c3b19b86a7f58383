import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import fc from 'fast-check'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  createStore, exportPath, safeFileName, parseCid, MAX_FILE_NAME_BYTES,
  InvalidCidError, BlockNotFoundError, CorruptBlockError, BlockHashMismatchError, InvalidBlockError, RecordNotFoundError,
  NotAFileError, InvalidRangeError, ImportSourceError, ExportError, DestinationExistsError, NoSpaceError, StoreIOError,
  StoreClosedError, StoreVersionError, type Store, type StoreFs, type StoreProgressEvent
} from '../src/storage/index.js'
import { MiB, pattern } from './fixtures/storage-pattern.js'

/** CIDs of pattern(n) (test/fixtures/storage-pattern.ts), computed once with this store and checked in. */
const VECTORS: Array<[string, number, string]> = [
  ['0 B', 0, 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'],
  ['1 B', 1, 'bafkreif3oielzg25pqcpci3kqkqasos6gp2aii6vxkguezxxbewdxjb3mi'],
  ['1 MiB', MiB, 'bafkreiaozocq7ts3mwqefava7kslwrvzqxexe3n4ubbobo6ihiy7cdyd74'],
  ['1 MiB + 1 B', MiB + 1, 'bafybeidfbiurqtjtmpjgyhxpbhmfaqukyozky4xvzw7cjkzj3yzthoz7xi'],
  ['10 MiB', 10 * MiB, 'bafybeibymez7qygpsnf2xipdx7ypnukef756p3nxxmm7bhhipe5bd5jxoq']
]

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-storage-'))
  t.after(async () => { await fsp.rm(dir, { recursive: true, force: true }) })
  return dir
}

async function openStore (t: { after: (fn: () => Promise<void>) => void }, dir?: string, fs?: Partial<StoreFs>): Promise<{ store: Store, dir: string }> {
  dir ??= await tempDir(t)
  const store = await createStore({ path: join(dir, 'store'), fs })
  t.after(async () => { await store.close() })
  return { store, dir }
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return Buffer.concat(parts)
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

async function * chunked (bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

function blockPath (store: Store, cid: string): string {
  return join(store.path, 'blocks', cid.slice(-3, -1), cid)
}

async function flipByte (path: string, at = 0): Promise<void> {
  const bytes = await fsp.readFile(path)
  bytes[at] = bytes[at]! ^ 0xff
  await fsp.writeFile(path, bytes)
}

/** Leaf CIDs of a file's root (one level is enough for files < 1 GiB). */
async function leavesOf (store: Store, root: string): Promise<string[]> {
  const node = dagPb.decode(await store.getBlock(root))
  return node.Links.map(l => l.Hash.toString())
}

function enospc (): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
}

/** A disk with `budget.bytes` free: writes past it are cut short, then fail with ENOSPC. `match` limits it to some paths. */
function diskWithBudget (budget: { bytes: number, match?: (path: string) => boolean }): Partial<StoreFs> {
  const open = (async (path: any, flags?: any, mode?: any) => {
    const fh = await fsp.open(path, flags, mode)
    if (budget.match != null && !budget.match(String(path))) return fh
    const write = fh.write.bind(fh) as (...args: any[]) => Promise<{ bytesWritten: number, buffer: Uint8Array }>
    ;(fh as any).write = async (buf: Uint8Array, off = 0, len = buf.byteLength - off, pos?: number | null) => {
      if (budget.bytes <= 0) throw enospc()
      const n = Math.min(len, budget.bytes)
      budget.bytes -= n
      return write(buf, off, n, pos)
    }
    return fh
  }) as StoreFs['open']
  return { open }
}

test('CIDs of the fixed inputs equal the checked-in literals, and import → export is byte-identical', async (t) => {
  const { store, dir } = await openStore(t)
  for (const [label, size, want] of VECTORS) {
    const bytes = pattern(size)
    const rec = await store.import(bytes, { name: `${label}.bin` })
    assert.equal(rec.cid, want, `CID of ${label}`)
    assert.equal(rec.size, size)
    assert.equal(rec.complete, true)
    const out = join(dir, `${size}.out`)
    await store.export(rec.cid, out)
    const back = await fsp.readFile(out)
    assert.equal(back.byteLength, size)
    assert.equal(sha256(back), sha256(bytes), `export of ${label} is byte-identical`)
    assert.equal(sha256(await collect(store.cat(rec.cid, { verify: true }))), sha256(bytes), `cat of ${label}`)
  }
  // the same CID from a file path and from a stream cut in odd pieces
  const ten = pattern(10 * MiB)
  await fsp.writeFile(join(dir, 'ten.bin'), ten)
  assert.equal((await store.import(join(dir, 'ten.bin'))).cid, VECTORS[4]![2])
  assert.equal((await store.import(chunked(ten, 65_537))).cid, VECTORS[4]![2])
  assert.equal((await store.import(chunked(pattern(MiB + 1), 3 * MiB))).cid, VECTORS[3]![2])
})

test('the profile cross-checks: Helia addBytes vector, raw leaf = sha2-256 of the bytes, 1 MiB + 1 B root built by hand', async (t) => {
  const { store } = await openStore(t)
  // @helia/unixfs test/addBytes: Uint8Array.from([0, 1, 2, 3, 4]) → bafkreiaixnpf23vkyecj5xqispjq5ubcwgsntnnurw2bjby7khe4wnjihu
  assert.equal((await store.import(Uint8Array.from([0, 1, 2, 3, 4]))).cid, 'bafkreiaixnpf23vkyecj5xqispjq5ubcwgsntnnurw2bjby7khe4wnjihu')
  const rawCid = (bytes: Uint8Array): CID => CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(bytes).digest()))
  assert.equal(rawCid(pattern(1)).toString(), VECTORS[1]![2])
  assert.equal(rawCid(pattern(MiB)).toString(), VECTORS[2]![2])
  assert.equal(rawCid(new Uint8Array(0)).toString(), VECTORS[0]![2])
  // 1 MiB + 1 B: two raw leaves under one dag-pb UnixFS file node
  const bytes = pattern(MiB + 1)
  const leaves = [bytes.subarray(0, MiB), bytes.subarray(MiB)]
  const file = new UnixFS({ type: 'file' })
  for (const l of leaves) file.addBlockSize(BigInt(l.byteLength))
  const root = dagPb.encode(dagPb.prepare({
    Data: file.marshal(),
    Links: leaves.map(l => ({ Name: '', Tsize: l.byteLength, Hash: rawCid(l) }))
  }))
  const rootCid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(root).digest()))
  assert.equal(rootCid.toString(), VECTORS[3]![2])
  // and the stored root has exactly those bytes
  assert.equal((await store.import(bytes)).cid, VECTORS[3]![2])
  assert.deepEqual(Buffer.from(await store.getBlock(VECTORS[3]![2])), Buffer.from(root))
  // 10 MiB: one root with 10 leaves of 1 MiB (balanced, width ≤ 1024)
  await store.import(pattern(10 * MiB))
  const ten = dagPb.decode(await store.getBlock(VECTORS[4]![2]))
  assert.equal(ten.Links.length, 10)
  assert.ok(ten.Links.every(l => l.Hash.code === 0x55 && l.Tsize === MiB))
})

test('records: name, media type, pin, counts; they survive a reopen', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'notes.txt')
  await fsp.writeFile(file, pattern(3 * MiB + 5))
  let store = await createStore({ path: join(dir, 'store') })
  const before = Date.now()
  const rec = await store.import(file)
  assert.equal(rec.name, 'notes.txt')
  assert.equal(rec.mediaType, 'text/plain')
  assert.equal(rec.size, 3 * MiB + 5)
  assert.equal(rec.pinned, true)
  assert.equal(rec.complete, true)
  assert.deepEqual(rec.blocks, { total: 5, present: 5 })
  assert.ok(rec.added >= before && rec.added <= Date.now())
  const other = await store.import(pattern(10, 7), { name: 'x.weird', mediaType: 'application/x-test', pin: false, encrypted: true })
  assert.equal(other.pinned, false)
  assert.equal(other.mediaType, 'application/x-test')
  assert.equal(other.encrypted, true)
  await store.unpin(rec.cid)
  await store.pin(other.cid)
  await assert.rejects(store.pin('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'), { name: 'RecordNotFoundError' })
  await store.close()
  await assert.rejects(store.list(), { name: 'StoreClosedError' })

  store = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await store.close() })
  const list = await store.list()
  assert.deepEqual(list.map(r => r.cid), [rec.cid, other.cid])
  assert.deepEqual(await store.get(rec.cid), { ...rec, pinned: false })
  assert.equal((await store.get(other.cid))?.pinned, true)
  assert.equal(await store.get(VECTORS[0]![2]), undefined)
  // importing again keeps added and the pin, updates the name when one is given
  const again = await store.import(file, { name: 'renamed.txt', pin: false })
  assert.equal(again.added, rec.added)
  assert.equal(again.name, 'renamed.txt')
  assert.equal(again.pinned, false)
  assert.deepEqual(await store.stat(), { blocks: 6, bytes: 3 * MiB + 5 + 10 + (await store.getBlock(rec.cid)).byteLength, files: 2, refs: 0, refBytes: 0, referenced: 0 })
  // the layout: owner-only folders, one JSON file per record
  assert.equal((await fsp.stat(store.path)).mode & 0o777, 0o700)
  assert.deepEqual((await fsp.readdir(join(store.path, 'records'))).sort(), [`${other.cid}.json`, `${rec.cid}.json`].sort())
})

test('progress events are typed, counted, and abort stops an import without a record', async (t) => {
  const { store } = await openStore(t)
  const events: StoreProgressEvent[] = []
  const rec = await store.import(pattern(4 * MiB + 1), { onProgress: e => events.push(e) })
  const blocks = events.filter(e => e.type === 'store:import:block')
  assert.equal(blocks.length, 6)
  assert.ok(blocks.every(e => e.type === 'store:import:block' && e.detail.written))
  const done = events.find(e => e.type === 'store:import:done')
  assert.deepEqual(done?.detail, { cid: rec.cid, size: 4 * MiB + 1, blocks: 6 })
  const reads = events.filter(e => e.type === 'store:import:read')
  assert.deepEqual(reads.at(-1)?.detail, { read: 4 * MiB + 1, total: 4 * MiB + 1 })

  // aborted before it starts
  await assert.rejects(store.import(pattern(10), { signal: AbortSignal.abort() }), { name: 'AbortError' })
  // aborted after the first block is on disk
  const ac = new AbortController()
  const before = await store.stat()
  await assert.rejects(store.import(pattern(8 * MiB, 3), {
    signal: ac.signal,
    onProgress: e => { if (e.type === 'store:import:block') ac.abort() }
  }), { name: 'AbortError' })
  assert.equal((await store.list()).length, 1)
  assert.deepEqual(await store.stat(), before, 'the aborted import left no block behind')
  const exported: StoreProgressEvent[] = []
  await store.export(rec.cid, join(dirname(store.path), 'out.bin'), { onProgress: e => exported.push(e) })
  assert.equal(exported.filter(e => e.type === 'store:export:block').length, 6)
  assert.deepEqual(exported.at(-1)?.detail, { cid: rec.cid, path: join(dirname(store.path), 'out.bin'), size: 4 * MiB + 1 })
})

test('cat reads any byte range, across block boundaries', async (t) => {
  const { store } = await openStore(t)
  const bytes = pattern(3 * MiB + 100)
  const { cid } = await store.import(bytes)
  for (const [offset, length] of [[0, 10], [MiB - 3, 7], [MiB, MiB], [2 * MiB + 50, undefined], [3 * MiB + 100, undefined], [10, 0], [3 * MiB, 1_000_000]] as Array<[number, number | undefined]>) {
    const got = await collect(store.cat(cid, { offset, length }))
    const end = length == null ? bytes.byteLength : Math.min(bytes.byteLength, offset + length)
    assert.deepEqual(got, Buffer.from(bytes.subarray(offset, end)), `offset ${offset} length ${length}`)
  }
  const small = await store.import(pattern(100))
  assert.deepEqual(await collect(store.cat(small.cid, { offset: 90 })), Buffer.from(pattern(100).subarray(90)))
  await assert.rejects(collect(store.cat(cid, { offset: -1 })), { name: 'InvalidRangeError' })
  await assert.rejects(collect(store.cat(cid, { offset: 3 * MiB + 101 })), { name: 'InvalidRangeError' })
  await assert.rejects(collect(store.cat(cid, { length: 1.5 })), { name: 'InvalidRangeError' })
  await assert.rejects(collect(store.cat('nope')), { name: 'InvalidCidError' })
  await assert.rejects(collect(store.cat(VECTORS[3]![2])), { name: 'BlockNotFoundError' })
})

test('CIDs: strings parse, CIDv0 becomes v1, bad input is a named error', async (t) => {
  const { store } = await openStore(t)
  const v0 = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'
  assert.equal(parseCid(v0).toString(), CID.parse(v0).toV1().toString())
  // the last is a valid dag-json CID: not a codec of UnixFS files
  for (const bad of ['', 'nope', 'bafy', 'x'.repeat(500), 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea']) {
    assert.throws(() => parseCid(bad), { name: 'InvalidCidError' }, bad)
    await assert.rejects(store.has(bad), { name: 'InvalidCidError' })
    await assert.rejects(store.getBlock(bad), { name: 'InvalidCidError' })
    await assert.rejects(store.track(bad, { name: 'x' }), { name: 'InvalidCidError' })
    await assert.rejects(store.export(bad, join(dirname(store.path), 'x')), { name: 'InvalidCidError' })
  }
  // a blake2b CID is valid in IPFS but this store cannot verify it
  assert.throws(() => parseCid('bafk2bzacecnbsv6dbjwd5qbv2h6zamvx3nvldnqzp3jrndjeskwu6dghm3ua2'), { name: 'InvalidCidError' })
})

test('putBlock verifies: wrong bytes, oversize and undecodable dag-pb are refused and nothing is stored', async (t) => {
  const { store } = await openStore(t)
  const cid = VECTORS[1]![2]
  await assert.rejects(store.putBlock(cid, pattern(1, 2)), { name: 'BlockHashMismatchError' })
  assert.equal(await store.has(cid), false)
  await assert.rejects(store.getBlock(cid), { name: 'BlockNotFoundError' })
  const big = new Uint8Array(2 * MiB + 1)
  const bigCid = CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(big).digest())).toString()
  await assert.rejects(store.putBlock(bigCid, big), { name: 'InvalidBlockError' })
  const junk = Uint8Array.from([0xff, 0xff, 0xff])
  const junkCid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(junk).digest())).toString()
  await assert.rejects(store.putBlock(junkCid, junk), { name: 'InvalidBlockError' })
  assert.deepEqual(await store.stat(), { blocks: 0, bytes: 0, files: 0, refs: 0, refBytes: 0, referenced: 0 })
  assert.deepEqual(await fsp.readdir(join(store.path, 'tmp')), [])
  await store.putBlock(cid, pattern(1))
  await store.putBlock(cid, pattern(1)) // twice is fine
  assert.deepEqual(await store.getBlock(cid), Buffer.from(pattern(1)))
})

test('partial files: track → missing → putBlock resumes across a restart until complete', async (t) => {
  const { store: source, dir } = await openStore(t)
  const bytes = pattern(5 * MiB + 7, 9)
  const rec = await source.import(bytes, { name: 'big.iso' })
  const leaves = await leavesOf(source, rec.cid)
  assert.equal(leaves.length, 6)

  const path = join(dir, 'dest')
  let store = await createStore({ path })
  let tracked = await store.track(rec.cid, { name: 'big.iso', size: 123 })
  assert.equal(tracked.complete, false)
  assert.equal(tracked.pinned, true)
  assert.equal(tracked.mediaType, 'application/x-iso9660-image')
  assert.deepEqual(tracked.blocks, { present: 0 })
  assert.equal(tracked.size, 123, 'the announced size until the root is here')
  assert.deepEqual(await store.missing(rec.cid), [rec.cid])

  await store.putBlock(rec.cid, await source.getBlock(rec.cid))
  assert.deepEqual(await store.missing(rec.cid), leaves)
  tracked = (await store.get(rec.cid))!
  assert.deepEqual(tracked.blocks, { total: 7, present: 1 })
  assert.equal(tracked.size, 5 * MiB + 7, 'the size from the root block')
  for (const l of leaves.slice(0, 3)) await store.putBlock(l, await source.getBlock(l))
  await assert.rejects(store.export(rec.cid, join(dir, 'early.iso')), { name: 'BlockNotFoundError' })
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['dest', 'store'], 'a failed export leaves nothing')

  // restart: the partial state is on disk
  await store.close()
  store = await createStore({ path })
  t.after(async () => { await store.close() })
  assert.deepEqual(await store.missing(rec.cid), leaves.slice(3))
  assert.deepEqual((await store.get(rec.cid))?.blocks, { total: 7, present: 4 })
  for (const l of leaves.slice(3)) await store.putBlock(l, await source.getBlock(l))
  assert.deepEqual(await store.missing(rec.cid), [])
  const done = (await store.get(rec.cid))!
  assert.equal(done.complete, true)
  assert.deepEqual(done.blocks, { total: 7, present: 7 })
  await store.export(rec.cid, join(dir, 'big.iso'))
  assert.equal(sha256(await fsp.readFile(join(dir, 'big.iso'))), sha256(bytes))
  // tracking a file already present makes it complete at once
  const other = await createStore({ path: join(dir, 'third') })
  t.after(async () => { await other.close() })
  await other.import(bytes)
  const again = await other.track(rec.cid, { name: 'ignored' })
  assert.equal(again.complete, true)
  // a directory is kept (a shared folder), but it is not a file to cat; a UnixFS symlink is neither
  const dirNode = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [] }))
  const dirCid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(dirNode).digest())).toString()
  await other.putBlock(dirCid, dirNode)
  assert.equal((await other.track(dirCid, { name: 'd' })).complete, true)
  await assert.rejects(collect(other.cat(dirCid)), { name: 'NotAFileError' })
  const linkNode = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'symlink', data: new TextEncoder().encode('/etc/passwd') }).marshal(), Links: [] }))
  const linkCid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(linkNode).digest())).toString()
  await other.putBlock(linkCid, linkNode)
  await assert.rejects(other.track(linkCid, { name: 'l' }), { name: 'NotAFileError' })
})

test('a corrupt block is caught by cat with verify and by fsck, reported by CID, and repaired by fetching it again', async (t) => {
  const { store, dir } = await openStore(t)
  const bytes = pattern(3 * MiB + 1, 5)
  const { cid } = await store.import(bytes)
  const leaves = await leavesOf(store, cid)
  const original = await store.getBlock(leaves[1]!)

  await flipByte(blockPath(store, leaves[1]!), 12345)
  // without verification the bad bytes come back (cat's default); with it, a named error
  assert.notEqual(sha256(await collect(store.cat(cid))), sha256(bytes))
  await assert.rejects(collect(store.cat(cid, { verify: true })), (err: any) => err.name === 'CorruptBlockError' && err.cid === leaves[1])
  // it was moved aside: never served again, and the file is known incomplete
  assert.equal(await store.has(leaves[1]!), false)
  assert.equal((await store.get(cid))?.complete, false)
  assert.deepEqual(await store.missing(cid), [leaves[1]])
  await store.putBlock(leaves[1]!, original)
  assert.deepEqual(await store.missing(cid), [])
  assert.equal((await store.get(cid))?.complete, true)
  assert.equal(sha256(await collect(store.cat(cid, { verify: true }))), sha256(bytes))

  // fsck finds a flipped leaf and a flipped root
  await flipByte(blockPath(store, leaves[3]!), 0)
  await flipByte(blockPath(store, cid), 20)
  const report = await store.fsck()
  assert.equal(report.checked, 5)
  assert.deepEqual(report.corrupt, [cid, leaves[3]!].sort())
  assert.deepEqual(report.missing, [cid])
  assert.deepEqual(report.incomplete, [cid])
  assert.deepEqual((await store.get(cid))?.blocks, { present: 0 })
  // getBlock verifies by default: what a peer would be served
  await flipByte(blockPath(store, leaves[0]!), 1)
  await assert.rejects(store.getBlock(leaves[0]!), { name: 'CorruptBlockError' })
  // repair from a clean copy, as the transfer layer would
  const { store: clean } = await openStore(t, await fsp.mkdtemp(join(dir, 'clean-')))
  await clean.import(bytes)
  for (const m of await store.missing(cid)) await store.putBlock(m, await clean.getBlock(m))
  for (const m of await store.missing(cid)) await store.putBlock(m, await clean.getBlock(m))
  assert.deepEqual(await store.missing(cid), [])
  const after = await store.fsck()
  assert.deepEqual(after, { checked: 5, corrupt: [], missing: [], incomplete: [], badRecords: [] })
  await store.export(cid, join(dir, 'fixed.bin'))
  assert.equal(sha256(await fsp.readFile(join(dir, 'fixed.bin'))), sha256(bytes))
  // gc clears the quarantine
  assert.equal((await fsp.readdir(join(store.path, 'corrupt'))).length, 4)
  await store.gc()
  assert.equal(await fsp.stat(join(store.path, 'corrupt')).catch(() => undefined), undefined)
})

test('export: a missing or unwritable folder, a folder as target, no-overwrite: named errors and nothing partial', async (t) => {
  const { store, dir } = await openStore(t)
  const { cid } = await store.import(pattern(2 * MiB + 3))
  const before = (await fsp.readdir(dir)).sort()
  const e1 = await store.export(cid, join(dir, 'no', 'such', 'file.bin')).catch(e => e)
  assert.equal(e1.name, 'ExportError')
  assert.equal(e1.code, 'ENOENT')
  await assert.rejects(store.export(cid, join(dir, 'store')), (e: any) => e.name === 'ExportError' && e.code === 'EISDIR')
  await fsp.writeFile(join(dir, 'afile'), 'x')
  await assert.rejects(store.export(cid, join(dir, 'afile', 'x.bin')), { name: 'ExportError' })
  await store.export(cid, join(dir, 'afile'))
  assert.equal((await fsp.stat(join(dir, 'afile'))).size, 2 * MiB + 3, 'overwrites by default, atomically')
  await assert.rejects(store.export(cid, join(dir, 'afile'), { overwrite: false }), { name: 'DestinationExistsError' })
  await store.export(cid, join(dir, 'fresh'), { overwrite: false })
  assert.deepEqual((await fsp.readdir(dir)).sort(), [...before, 'afile', 'fresh'].sort(), 'no temp file left anywhere')

  // an unwritable folder: a real one when not root (root ignores modes), an injected EACCES always
  const ro = join(dir, 'ro')
  await fsp.mkdir(ro, { mode: 0o500 })
  if (process.getuid?.() !== 0) {
    await assert.rejects(store.export(cid, join(ro, 'x.bin')), (e: any) => e.name === 'ExportError' && e.code === 'EACCES')
    assert.deepEqual(await fsp.readdir(ro), [])
  }
  const denied = await createStore({
    path: store.path.replace(/store$/, 'store2'),
    fs: {
      open: (async (path: any, flags?: any, mode?: any) => {
        if (String(path).startsWith(ro)) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
        return fsp.open(path, flags, mode)
      }) as StoreFs['open']
    }
  })
  t.after(async () => { await denied.close() })
  const { cid: c2 } = await denied.import(pattern(100))
  await assert.rejects(denied.export(c2, join(ro, 'x.bin')), (e: any) => e.name === 'ExportError' && e.code === 'EACCES')
  assert.deepEqual(await fsp.readdir(ro), [])
})

test('ENOSPC during import, record write and export: NoSpaceError, nothing partial, store consistent', async (t) => {
  const dir = await tempDir(t)
  const budget: { bytes: number, match?: (p: string) => boolean } = { bytes: Infinity }
  const { store } = await openStore(t, dir, diskWithBudget(budget))
  const kept = await store.import(pattern(MiB + 1, 4), { name: 'kept' })
  const stat0 = await store.stat()

  // the disk fills in the middle of the third block
  budget.bytes = 2.5 * MiB
  const err = await store.import(pattern(5 * MiB, 6), { name: 'big' }).catch(e => e)
  assert.equal(err.name, 'NoSpaceError')
  assert.deepEqual(await store.stat(), stat0, 'the blocks of the failed import were removed')
  assert.deepEqual((await store.list()).map(r => r.cid), [kept.cid])
  assert.deepEqual(await fsp.readdir(join(store.path, 'tmp')), [])

  // blocks fit, the record does not
  budget.bytes = Infinity
  budget.match = p => p.includes('record-')
  budget.bytes = 0
  await assert.rejects(store.import(pattern(2 * MiB, 6), { name: 'big' }), { name: 'NoSpaceError' })
  assert.deepEqual(await store.stat(), stat0)
  assert.deepEqual(await fsp.readdir(join(store.path, 'tmp')), [])

  // export: the temp file is removed, the target never appears
  budget.match = p => !p.startsWith(store.path)
  budget.bytes = MiB / 2
  await assert.rejects(store.export(kept.cid, join(dir, 'out.bin')), { name: 'NoSpaceError' })
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['store'])

  // the store is consistent and works once there is room again
  budget.bytes = Infinity
  assert.deepEqual(await store.fsck(), { checked: stat0.blocks, corrupt: [], missing: [], incomplete: [], badRecords: [] })
  const big = await store.import(pattern(5 * MiB, 6), { name: 'big' })
  const reference = await createStore({ path: join(dir, 'ref') })
  t.after(async () => { await reference.close() })
  assert.equal(big.cid, (await reference.import(pattern(5 * MiB, 6))).cid)
  await store.export(kept.cid, join(dir, 'out.bin'))
  assert.equal(sha256(await fsp.readFile(join(dir, 'out.bin'))), sha256(pattern(MiB + 1, 4)))
})

const HOSTILE_NAMES = [
  '../../x', '../../../../../../etc/passwd', '..', '.', '', ' ', '...', '/etc/passwd', '/abs/path/file.txt',
  'C:\\Windows\\system32\\evil.dll', '..\\..\\x', '\\\\server\\share\\x', 'a\0b', '\0', 'a/b/c', 'x'.repeat(4096),
  'é'.repeat(3000), '😀'.repeat(1200) + '.txt', 'CON', 'con.txt', 'NUL', 'Com1', 'LPT9.tar.gz', 'AUX.', 'trailing.',
  'trailing...   ', '\u202Etxt.exe', '.hidden', '~', 'name\nwith\nnewlines', 'tab\there', 'a:b*c?d"e<f>g|h'
]

test('hostile names never escape the output folder when exported with the record name', async (t) => {
  const { store, dir } = await openStore(t)
  const out = join(dir, 'out')
  await fsp.mkdir(out)
  const expected = new Map<string, string>()
  for (const [i, name] of HOSTILE_NAMES.entries()) {
    const content = Buffer.from(`content ${i}`)
    const rec = await store.import(content, { name })
    assert.ok(Buffer.byteLength(rec.name) <= 4096)
    const dest = exportPath(out, rec.name)
    assert.equal(dirname(dest), resolve(out), `${JSON.stringify(name)} → ${dest}`)
    await store.export(rec.cid, dest)
    expected.set(dest.slice(out.length + 1), content.toString())
  }
  const files = (await fsp.readdir(out)).sort()
  assert.deepEqual(files, [...expected.keys()].sort())
  for (const f of files) assert.equal(await fsp.readFile(join(out, f), 'utf8'), expected.get(f))
  assert.deepEqual((await fsp.readdir(dir)).sort(), ['out', 'store'], 'nothing written beside the output folder')
  assert.equal(await fsp.stat('/x').catch(() => undefined), undefined)
  // and the names themselves
  assert.equal(safeFileName('../../x'), '___.._x')
  assert.equal(safeFileName('/etc/passwd'), '_etc_passwd')
  assert.equal(safeFileName('..'), 'file')
  assert.equal(safeFileName(''), 'file')
  assert.equal(safeFileName('CON'), '_CON')
  assert.equal(safeFileName('con.txt'), '_con.txt')
  assert.equal(safeFileName('trailing...   '), 'trailing')
  assert.equal(safeFileName('a\0b'), 'a_b')
  assert.equal(safeFileName('photo.jpg'), 'photo.jpg')
  assert.equal(safeFileName('Ünïcödé name (1).tar.gz'), 'Ünïcödé name (1).tar.gz')
  const long = safeFileName('😀'.repeat(1200) + '.txt')
  assert.ok(long.endsWith('.txt') && Buffer.byteLength(long) <= MAX_FILE_NAME_BYTES)
  assert.equal(safeFileName('x'.repeat(4096)).length, 255)
})

test('safeFileName: for any string, one plain name that stays in the folder', () => {
  const reserved = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\..*)?$/i
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('.', '/', '\\', '\0', ' ', ':', 'a', 'C', 'O', 'N', '\u202e', 'é', '😀', '\n'), maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), (a, b) => {
    for (const name of [a, b, a + b]) {
      const s = safeFileName(name)
      assert.ok(s.length > 0)
      assert.ok(Buffer.byteLength(s, 'utf8') <= MAX_FILE_NAME_BYTES)
      assert.ok(!/[/\\\0]/.test(s), JSON.stringify(s))
      assert.ok(s !== '.' && s !== '..' && !s.startsWith('.'))
      assert.ok(!/[. ]$/.test(s))
      assert.ok(!reserved.test(s))
      assert.equal(safeFileName(s), s, 'idempotent')
      assert.equal(dirname(exportPath('/srv/out', name)), '/srv/out')
    }
  }), { numRuns: 300 })
})

test('gc keeps pinned and complete files, drops orphans and unpinned partials; remove keeps shared blocks', async (t) => {
  const { store } = await openStore(t)
  const a = await store.import(pattern(3 * MiB, 11), { name: 'a' })
  const b = await store.import(pattern(2 * MiB, 12), { name: 'b', pin: false })
  // d shares a's first leaf
  const d = await store.import(Buffer.concat([pattern(3 * MiB, 11).subarray(0, MiB), pattern(10, 13)]), { name: 'd' })
  const shared = (await leavesOf(store, a.cid))[0]!
  assert.equal((await leavesOf(store, d.cid))[0], shared)
  // an orphan block (a crashed import) and an unpinned partial download
  const orphan = pattern(1000, 14)
  const orphanCid = CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(orphan).digest())).toString()
  await store.putBlock(orphanCid, orphan)
  const { store: src } = await openStore(t, await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-storage-src-')))
  t.after(async () => { await fsp.rm(dirname(src.path), { recursive: true, force: true }) })
  const c = await src.import(pattern(2 * MiB, 15))
  await store.track(c.cid, { name: 'c', pin: false })
  await store.putBlock(c.cid, await src.getBlock(c.cid))
  const cLeaf = (await leavesOf(src, c.cid))[0]!
  await store.putBlock(cLeaf, await src.getBlock(cLeaf))
  assert.deepEqual((await store.get(c.cid))?.blocks, { present: 0 }, 'putBlock does not touch records')
  await store.missing(c.cid)
  assert.deepEqual((await store.get(c.cid))?.blocks, { total: 3, present: 2 })

  const before = await store.stat()
  const gcEvents: StoreProgressEvent[] = []
  const res = await store.gc({ onProgress: e => gcEvents.push(e) })
  assert.equal(res.removedBlocks, 3)
  assert.equal(res.removedBytes, 1000 + MiB + (await src.getBlock(c.cid)).byteLength)
  assert.equal(gcEvents.length, 3)
  assert.equal((await store.stat()).blocks, before.blocks - 3)
  assert.equal(await store.has(orphanCid), false)
  assert.deepEqual((await store.get(c.cid))?.blocks, { present: 0 }, 'the partial is recounted')
  for (const r of [a, b, d]) assert.equal((await store.get(r.cid))?.complete, true)

  // unpinned complete files go with { unpinned: true }
  const res2 = await store.gc({ unpinned: true })
  assert.equal(res2.removedBlocks, 3)
  assert.deepEqual((await store.list()).map(r => r.name).sort(), ['a', 'd'])

  // remove a: its blocks go, except the leaf d needs
  await store.remove(a.cid)
  assert.equal(await store.get(a.cid), undefined)
  assert.equal(await store.has(a.cid), false)
  assert.equal(await store.has(shared), true)
  assert.equal((await store.stat()).blocks, 3)
  assert.equal(sha256(await collect(store.cat(d.cid, { verify: true }))), sha256(Buffer.concat([pattern(3 * MiB, 11).subarray(0, MiB), pattern(10, 13)])))
  await assert.rejects(store.remove(a.cid), { name: 'RecordNotFoundError' })
  assert.deepEqual((await store.fsck()).corrupt, [])
})

test('gc waits for running imports: concurrent import, putBlock and gc lose nothing', async (t) => {
  const { store } = await openStore(t)
  const inputs = [pattern(3 * MiB, 21), pattern(2 * MiB + 5, 22), pattern(MiB, 23)]
  const results = await Promise.all([
    ...inputs.map(async (b, i) => store.import(b, { name: `f${i}` })),
    store.gc(), store.gc(), store.fsck()
  ])
  for (const [i, b] of inputs.entries()) {
    const rec = results[i] as { cid: string }
    assert.equal(sha256(await collect(store.cat(rec.cid, { verify: true }))), sha256(b))
  }
  await store.gc()
  assert.deepEqual(await store.missing((results[0] as { cid: string }).cid), [])
})

test('import sources: a missing file, or a folder holding a name that is not a plain file name, is ImportSourceError; a closed store refuses everything', async (t) => {
  const { store, dir } = await openStore(t)
  await assert.rejects(store.import(join(dir, 'nope.bin')), (e: any) => e.name === 'ImportSourceError' && /does not exist/.test(e.message))
  await fsp.mkdir(join(dir, 'shared', 'sub'), { recursive: true })
  await fsp.writeFile(join(dir, 'shared', 'sub', 'bad\nname.txt'), 'x')
  await assert.rejects(store.import(join(dir, 'shared')), (e: any) => e.name === 'ImportSourceError' && e.path === join(dir, 'shared', 'sub', 'bad\nname.txt') && /control character/.test(e.message))
  await assert.rejects(store.import(42 as any), { name: 'TypeError' })
  assert.deepEqual(await store.stat(), { blocks: 0, bytes: 0, files: 0, refs: 0, refBytes: 0, referenced: 0 })
  await store.close()
  await store.close()
  await assert.rejects(store.import(pattern(1)), { name: 'StoreClosedError' })
  await assert.rejects(store.getBlock(VECTORS[1]![2]), { name: 'StoreClosedError' })
  await assert.rejects(collect(store.cat(VECTORS[1]![2])), { name: 'StoreClosedError' })
})

test('opening: temp files left by a crash are removed, an unknown layout version is refused, bad records reported', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  let store = await createStore({ path })
  const { cid } = await store.import(pattern(10))
  await store.close()
  // a temp file of a dead process goes, one of a live process (it may still rename it) stays
  const gone = spawn(process.execPath, ['-e', ''])
  await once(gone, 'exit')
  await fsp.writeFile(join(path, 'tmp', `block-${gone.pid}-2-3.tmp`), 'half')
  await fsp.writeFile(join(path, 'tmp', 'junk.tmp'), 'half')
  await fsp.writeFile(join(path, 'tmp', `record-${process.ppid}-2-3.tmp`), 'live')
  await fsp.writeFile(join(path, 'records', 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku.json'), '{"v":1,"cid":')
  store = await createStore({ path })
  assert.deepEqual(await fsp.readdir(join(path, 'tmp')), [`record-${process.ppid}-2-3.tmp`])
  await fsp.rm(join(path, 'tmp', `record-${process.ppid}-2-3.tmp`))
  assert.deepEqual((await store.list()).map(r => r.cid), [cid])
  assert.deepEqual((await store.fsck()).badRecords, ['bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku.json'])
  await store.close()
  await fsp.writeFile(join(path, 'VERSION'), '99\n')
  await assert.rejects(createStore({ path }), { name: 'StoreVersionError' })
})

test('every storage error class carries its name', () => {
  const made: Error[] = [
    new InvalidCidError('x', 'r'), new BlockNotFoundError('c'), new CorruptBlockError('c'), new BlockHashMismatchError('c'),
    new InvalidBlockError('c', 'r'), new RecordNotFoundError('c'), new NotAFileError('c', 'directory'), new InvalidRangeError('r'),
    new ImportSourceError('p', 'r'), new ExportError('p', 'r'), new DestinationExistsError('p'), new NoSpaceError('p'),
    new StoreIOError('p', 'read', new Error('x')), new StoreClosedError(), new StoreVersionError('p', '9')
  ]
  for (const err of made) {
    assert.equal(err.name, err.constructor.name)
    assert.equal((err.constructor as { name: string }).name, err.name)
    assert.ok(err instanceof Error)
    assert.ok(err.message.length > 0)
  }
})

test('verifiedHere: blocks this process wrote or hashed, at their length; not after a reopen, not a changed length, not a block found corrupt', async (t) => {
  const { store, dir } = await openStore(t)
  const rec = await store.import(pattern(3 * MiB + 5))
  const root = await store.getBlock(rec.cid)
  const leaves = dagPb.decode(root).Links.map(l => l.Hash.toString())
  assert.equal(leaves.length, 4)
  const lengths = await Promise.all(leaves.map(async l => (await store.getBlock(l, { verify: false })).byteLength))
  // the import wrote (and hashed) every block
  for (const [i, l] of leaves.entries()) assert.equal(store.verifiedHere(l, lengths[i]!), true, `leaf ${i} written by the import`)
  assert.equal(store.verifiedHere(rec.cid, root.byteLength), true, 'the root too')
  assert.equal(store.verifiedHere(leaves[0]!, lengths[0]! - 1), false, 'another length is not known')
  assert.equal(store.verifiedHere('not a cid', 1), false)

  // a new process (a reopened store) knows nothing until it hashes a block itself
  await store.close()
  const reopened = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await reopened.close() })
  assert.equal(reopened.verifiedHere(leaves[0]!, lengths[0]!), false)
  await reopened.getBlock(leaves[0]!, { verify: false })
  assert.equal(reopened.verifiedHere(leaves[0]!, lengths[0]!), false, 'an unverified read proves nothing')
  await reopened.getBlock(leaves[0]!)
  assert.equal(reopened.verifiedHere(leaves[0]!, lengths[0]!), true, 'a verified read does')

  // a block found corrupt is forgotten with the quarantine
  await reopened.getBlock(leaves[1]!)
  assert.equal(reopened.verifiedHere(leaves[1]!, lengths[1]!), true)
  await fsp.writeFile(blockPath(reopened, leaves[1]!), new Uint8Array(lengths[1]!))
  await assert.rejects(reopened.getBlock(leaves[1]!), CorruptBlockError)
  assert.equal(reopened.verifiedHere(leaves[1]!, lengths[1]!), false)
})
