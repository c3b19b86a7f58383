/**
 * Files kept by reference (issue 14, "No second copy"): the store keeps only
 * a file's inner DAG nodes and where its leaves lie, reads leaves from the
 * file and verifies them on every read; a changed or vanished file is
 * reported, never served wrong. And "Space that can be freed": unpin + gc,
 * gc's dry run, reference() of a fetched file's output.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import { waitFor } from '../src/util/wait.js'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStore, type Store } from '../src/storage/index.js'
import * as swarmdrop from '../src/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { parseSize } from '../src/cli/commands/start.js'
import { MiB, pattern } from './fixtures/storage-pattern.js'

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-filestore-'))
  t.after(async () => { await fsp.rm(dir, { recursive: true, force: true }) })
  return dir
}

async function openStore (t: { after: (fn: () => Promise<void>) => void }, dir: string): Promise<Store> {
  const store = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await store.close() })
  return store
}

/** Bytes of every file under `dir` (what the store takes on disk, folders aside). */
export async function treeBytes (dir: string): Promise<number> {
  let n = 0
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await fsp.stat(join(e.parentPath, e.name))).size
  }
  return n
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return Buffer.concat(parts)
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

test('byReference import: the store grows by < 1% of the file, reads come from the file and are verified', async (t) => {
  const dir = await tempDir(t)
  const store = await openStore(t, dir)
  const file = join(dir, 'big.bin')
  const bytes = pattern(5 * MiB + 123, 7)
  await fsp.writeFile(file, bytes)
  const copied = await (async () => {
    const other = await openStore(t, join(dir, 'other'))
    return (await other.import(file)).cid
  })()
  const before = await treeBytes(store.path)
  const rec = await store.import(file, { byReference: true })
  const grown = await treeBytes(store.path) - before
  assert.equal(rec.cid, copied, 'the same CID as a copying import')
  assert.ok(grown < bytes.byteLength / 100, `the store grew by ${grown} bytes`)
  assert.equal(rec.complete, true)
  assert.deepEqual((await store.get(rec.cid))?.reference, { path: file, state: 'ok' })
  assert.equal(sha256(await collect(store.cat(rec.cid))), sha256(bytes))
  const st = await store.stat()
  assert.equal(st.refs, 1)
  assert.equal(st.referenced, bytes.byteLength)

  // one byte changed in place (same size): never served, named error, flagged
  const fh = await fsp.open(file, 'r+')
  await fh.write(Buffer.from([bytes[3 * MiB]! ^ 0xff]), 0, 1, 3 * MiB)
  await fh.close()
  await assert.rejects(collect(store.cat(rec.cid)), (err: any) => err.name === 'ReferenceChangedError' && err.path === file && err.message.includes(file))
  assert.equal((await store.get(rec.cid))?.reference?.state, 'changed')
  // sharing it again imports what it holds now
  const again = await store.import(file, { byReference: true })
  assert.notEqual(again.cid, rec.cid)
  assert.equal((await store.get(again.cid))?.reference?.state, 'ok')
  assert.equal(sha256(await collect(store.cat(again.cid))), sha256(await fsp.readFile(file)))

  // gone: ReferenceMissingError, flagged missing
  await fsp.rm(file)
  await assert.rejects(collect(store.cat(again.cid)), { name: 'ReferenceMissingError' })
  assert.equal((await store.get(again.cid))?.reference?.state, 'missing')
  assert.deepEqual(await store.missing(again.cid) !== undefined, true)

  // rm drops the record, the reference and the inner blocks
  await store.remove(again.cid)
  await store.remove(rec.cid)
  const after = await store.stat()
  assert.deepEqual({ blocks: after.blocks, files: after.files, refs: after.refs }, { blocks: 0, files: 0, refs: 0 })
})

test('byReference import refuses bytes and streams; a copying import of a referenced file drops the reference', async (t) => {
  const dir = await tempDir(t)
  const store = await openStore(t, dir)
  await assert.rejects(store.import(pattern(10), { byReference: true }), { name: 'NotByReferenceError' })
  const file = join(dir, 'f.bin')
  await fsp.writeFile(file, pattern(2 * MiB, 3))
  const rec = await store.import(file, { byReference: true })
  const copy = await store.import(file)
  assert.equal(copy.cid, rec.cid)
  assert.equal((await store.get(rec.cid))?.reference, undefined)
  await fsp.rm(file)
  assert.equal(sha256(await collect(store.cat(rec.cid, { verify: true }))), sha256(pattern(2 * MiB, 3)))
})

test('reference(): a fetched file\'s output becomes its copy; unpin + gc then frees the rest (bytes counted, dry run agrees)', async (t) => {
  const dir = await tempDir(t)
  const store = await openStore(t, dir)
  const bytes = pattern(3 * MiB + 5, 9)
  const rec = await store.import(bytes)
  const out = join(dir, 'out.bin')
  await store.export(rec.cid, out)
  const full = (await store.stat()).bytes
  const freed = await store.reference(rec.cid, out)
  assert.equal(freed.removedBlocks, 4)
  assert.equal(freed.removedBytes, bytes.byteLength)
  assert.equal((await store.stat()).bytes, full - bytes.byteLength)
  assert.equal(sha256(await collect(store.cat(rec.cid))), sha256(bytes))
  // a file that does not hold the bytes is refused and nothing is deleted
  const rec2 = await store.import(pattern(MiB + 1, 10))
  await fsp.writeFile(join(dir, 'wrong.bin'), pattern(MiB + 1, 11))
  await assert.rejects(store.reference(rec2.cid, join(dir, 'wrong.bin')), { name: 'NotByReferenceError' })
  assert.equal((await store.missing(rec2.cid)).length, 0)

  // a copied file: unpin + gc frees its blocks
  const total = (await store.stat()).bytes
  await store.unpin(rec2.cid)
  const dry = await store.gc({ unpinned: true, dryRun: true })
  assert.equal((await store.stat()).bytes, total, 'a dry run deletes nothing')
  const res = await store.gc({ unpinned: true })
  assert.deepEqual(res, dry)
  assert.ok(res.removedBytes >= MiB + 1)
  assert.equal((await store.stat()).bytes, total - res.removedBytes)
  assert.equal(await store.get(rec2.cid), undefined)
})

test('acceptance 4: a share by reference grows the repository by < 1%; the file modified after sharing: the fetcher gets an error naming it, never wrong bytes, and the sharer\'s ls flags it', async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm({ size: 2, dir }, t)
  const file = join(dir, 'holiday video.bin')
  const bytes = pattern(6 * MiB + 77, 21)
  await fsp.writeFile(file, bytes)
  const before = await treeBytes(alice!.repo)
  const shared = await alice!.share(file)
  assert.equal(shared.byReference, true, 'a path is shared by reference by default')
  const grown = await treeBytes(alice!.repo) - before
  assert.ok(grown < bytes.byteLength / 100, `alice's repository grew by ${grown} bytes for a ${bytes.byteLength} byte file`)
  assert.deepEqual((await alice!.ls()).find(f => f.cid === shared.cid)?.reference, { path: file, state: 'ok' })

  // fetched: the output file is the copy, the store keeps a reference to it
  const bobBefore = await treeBytes(bob!.repo)
  const got = await bob!.get(shared.cid, { output: join(dir, 'got.bin') })
  assert.equal(sha256(await fsp.readFile(got.path)), sha256(bytes))
  assert.equal(got.byReference, true)
  assert.ok(await treeBytes(bob!.repo) - bobBefore < bytes.byteLength / 100, 'bob keeps no second copy')
  assert.equal((await bob!.ls()).find(f => f.cid === shared.cid)?.reference?.path, got.path)
  // bob forgets it, so the next get must come from alice
  await bob!.store.remove(shared.cid)
  await fsp.rm(got.path)

  // one byte of the shared file changes in place (same size)
  const fh = await fsp.open(file, 'r+')
  await fh.write(Buffer.from([bytes[4 * MiB + 10]! ^ 0x01]), 0, 1, 4 * MiB + 10)
  await fh.close()
  const out = join(dir, 'again.bin')
  await assert.rejects(bob!.get(shared.cid, { output: out, timeout: 2000 }), (err: any) => {
    assert.match(err.message, /holiday video\.bin/, `the error names the file: ${err.message}`)
    return true
  })
  await assert.rejects(fsp.stat(out), { code: 'ENOENT' }, 'nothing written, never wrong bytes')
  // what bob holds of it is only blocks that hash to their CIDs
  assert.deepEqual((await bob!.store.fsck()).corrupt, [])
  assert.equal((await alice!.ls()).find(f => f.cid === shared.cid)?.reference?.state, 'changed')
  // alice withdrew it when she found it changed: bob's catalog no longer names her as its provider
  await waitFor(() => !(bob!.protocol.entry(shared.cid)?.providers ?? []).some(p => p.peer === alice!.peerId), { timeout: 30_000, message: 'alice gone from the changed file\'s providers in bob\'s catalog' })
  // sharing it again serves what it holds now
  const again = await alice!.share(file)
  assert.notEqual(again.cid, shared.cid)
  const got2 = await bob!.get(again.cid, { output: out })
  assert.equal(sha256(await fsp.readFile(got2.path)), sha256(await fsp.readFile(file)))
})

test('the errors of references and of --max-store carry their own names', () => {
  const errors = [
    new swarmdrop.ReferenceChangedError('/f', 'bafy'), new swarmdrop.ReferenceMissingError('/f', 'bafy'),
    new swarmdrop.NotByReferenceError('why'), new swarmdrop.StoreLimitError('f', 'bafy', 10, 5, 12)
  ]
  assert.deepEqual(errors.map(e => e.name), ['ReferenceChangedError', 'ReferenceMissingError', 'NotByReferenceError', 'StoreLimitError'])
  for (const err of errors) assert.equal((err.constructor as { name: string }).name, err.name)
  assert.match(errors[0]!.message, /\/f changed since it was shared/)
})

test('--max-store: a replica does not fetch a file that would take its store over the limit; smaller ones still come', async (t) => {
  const { nodes: [alice, keeper] } = await createLocalSwarm({ size: 2, nodes: { 1: { replicate: true, maxStoreBytes: 2 * MiB } } }, t)
  const failed = new Promise<{ cid: string, error: Error }>(resolve => {
    keeper!.addEventListener('replicate:failed', (evt) => { resolve(evt.detail) }, { once: true })
  })
  const big = await alice!.share(pattern(3 * MiB, 41), { name: 'big.bin' })
  const { cid, error } = await failed
  assert.equal(cid, big.cid)
  assert.equal(error.name, 'StoreLimitError')
  assert.match(error.message, /big\.bin/)
  assert.equal(await keeper!.store.get(big.cid), undefined, 'nothing of it was fetched')
  const done = new Promise<string>(resolve => {
    keeper!.addEventListener('replicate:done', (evt) => { resolve(evt.detail.cid) }, { once: true })
  })
  const small = await alice!.share(pattern(MiB, 42), { name: 'small.bin' })
  assert.equal(await done, small.cid)
  assert.ok((await keeper!.store.stat()).bytes <= 2 * MiB)
  // the CLI's sizes
  assert.deepEqual(['500M', '2G', '1.5GiB', '4096'].map(parseSize), [500 * MiB, 2048 * MiB, 1536 * MiB, 4096])
  assert.throws(() => parseSize('lots'), { name: 'UsageError' })
})

test('a full disk while fetching names the file, not a block\'s path, and says what was kept', async (t) => {
  const dir = await tempDir(t)
  let blockWrites = 0
  const fs = {
    open: (async (path: string, flags?: string, mode?: number) => {
      if (String(path).includes(`${join('tmp', 'block-')}`) && ++blockWrites > 3) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
      return fsp.open(path, flags, mode)
    }) as typeof fsp.open
  }
  const store = await createStore({ path: join(dir, 'bob-store'), fs })
  t.after(async () => { await store.close() })
  const { nodes: [alice, bob] } = await createLocalSwarm({ size: 2, dir, components: (i) => (i === 1 ? { store } : {}) }, t)
  const shared = await alice!.share(pattern(6 * MiB, 51), { name: 'film.mkv' })
  await assert.rejects(bob!.get(shared.cid, { output: join(dir, 'film.mkv'), timeout: 5000 }), (err: any) => {
    assert.equal(err.name, 'NoSpaceError')
    assert.match(err.message, /film\.mkv/)
    assert.doesNotMatch(err.message, /blocks\//, 'no internal block path')
    assert.match(err.message, /kept/)
    return true
  })
  await assert.rejects(fsp.stat(join(dir, 'film.mkv')), { code: 'ENOENT' })
})
