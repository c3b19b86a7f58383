/**
 * The store's batched fsync (src/storage/journal.ts): blocks are fsynced in
 * batches before any record counts on them, a marker names a writer with
 * unsynced blocks, and the next open verifies what such a writer left.
 * Also putBlock's `verified` option.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as fss from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { Uint8ArrayList } from 'uint8arraylist'
import { verifyBytes } from '../src/content/index.js'
import { createStore, type InlineFs, type StoreFs } from '../src/storage/index.js'
import { MiB, pattern } from './fixtures/storage-pattern.js'
import { waitFor } from '../src/util/wait.js'

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-storage-sync-'))
  t.after(async () => { await fsp.rm(dir, { recursive: true, force: true }) })
  return dir
}

function rawCid (bytes: Uint8Array): string {
  return CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(bytes).digest())).toString()
}

function blockPath (storePath: string, cid: string): string {
  return join(storePath, 'blocks', cid.slice(-3, -1), cid)
}

/** A pid no process has (above Linux's pid_max): a writer that is gone. */
const DEAD_PID = 2147483646

/** The store's asynchronous open, `beforeSync(path)` awaited before each fsync of a file it opened. */
function openWatchingSync (beforeSync: (path: string) => void | Promise<void>): StoreFs['open'] {
  return (async (p: any, flags?: any, mode?: any) => {
    const fh = await fsp.open(p, flags, mode)
    const sync = fh.sync.bind(fh)
    return Object.assign(fh, { sync: async () => { await beforeSync(String(p)); await sync() } })
  }) as StoreFs['open']
}

/** The store's asynchronous open and rename, each fsync and rename noted in `events` (`sync PATH`, `rename FROM TO`). */
function recordingFs (events: string[]): Partial<StoreFs> {
  return {
    open: openWatchingSync(p => { events.push(`sync ${p}`) }),
    rename: (async (from: any, to: any) => { events.push(`rename ${String(from)} ${String(to)}`); await fsp.rename(from, to) }) as StoreFs['rename']
  }
}

test('an import fsyncs each new block file (in batches) before the record that counts on it is renamed into place', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const events: string[] = []
  const store = await createStore({ path, fs: recordingFs(events) })
  t.after(async () => { await store.close() })
  const rec = await store.import(pattern(5 * MiB + 3, 11), { name: 'five.bin' })
  const recordAt = events.findIndex(e => e.startsWith('rename ') && e.endsWith(join('records', `${rec.cid}.json`)))
  assert.ok(recordAt > 0, 'the record was renamed into place')
  const blockFiles: string[] = []
  for (const shard of await fsp.readdir(join(path, 'blocks'))) {
    for (const name of await fsp.readdir(join(path, 'blocks', shard))) blockFiles.push(join(path, 'blocks', shard, name))
  }
  assert.equal(blockFiles.length, 7, '6 leaves and the root')
  for (const f of blockFiles) {
    const at = events.indexOf(`sync ${f}`)
    assert.ok(at >= 0 && at < recordAt, `${f} fsynced before the record`)
  }
  assert.equal(events.filter(e => e.startsWith('sync ') && e.includes(`${join('tmp', 'block-')}`)).length, 0, 'no temp block file is fsynced on its own')
  assert.deepEqual(await fsp.readdir(join(path, 'dirty')), [], 'nothing unsynced is left, so no marker')
})

/** node's synchronous calls, each one counted by name, and a clock the test moves. */
function countedInline (): { inline: InlineFs, calls: Map<string, number>, clock: { ms: number } } {
  const calls = new Map<string, number>()
  const clock = { ms: 0 }
  const counted = <F extends (...args: any[]) => any>(name: string, fn: F): F => ((...args: any[]) => {
    calls.set(name, (calls.get(name) ?? 0) + 1)
    return fn(...args)
  }) as F
  const inline: InlineFs = {
    openSync: counted('openSync', fss.openSync),
    writevSync: counted('writevSync', fss.writevSync),
    writeSync: counted('writeSync', fss.writeSync),
    closeSync: counted('closeSync', fss.closeSync),
    renameSync: counted('renameSync', fss.renameSync),
    unlinkSync: counted('unlinkSync', fss.unlinkSync),
    statSync: counted('statSync', fss.statSync),
    mkdirSync: counted('mkdirSync', fss.mkdirSync),
    readFileSync: counted('readFileSync', fss.readFileSync),
    now: () => clock.ms
  }
  return { inline, calls, clock }
}

/** Makes `inline[name]` advance the fake clock by `ms` on each call while `on`. */
function slowDown (inline: InlineFs, name: 'writevSync' | 'readFileSync', clock: { ms: number }, ms: number): { on: boolean } {
  const state = { on: false }
  const fn = inline[name] as (...args: any[]) => any
  ;(inline as any)[name] = (...args: any[]) => {
    if (state.on) clock.ms += ms
    return fn(...args)
  }
  return state
}

test('blocks written inline (synchronous calls) are fsynced in batches before the record that counts on them, as through the pool', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const events: string[] = []
  const { inline, calls } = countedInline()
  const renameSync = inline.renameSync
  inline.renameSync = ((from: any, to: any) => { events.push(`rename ${String(from)} ${String(to)}`); renameSync(from, to) }) as InlineFs['renameSync']
  const store = await createStore({ path, fs: { ...recordingFs(events), inline } })
  t.after(async () => { await store.close() })
  const rec = await store.import(pattern(5 * MiB + 3, 11), { name: 'five.bin' })
  assert.equal(calls.get('writevSync'), 7, 'every block went through the inline writer')
  const recordAt = events.findIndex(e => e.startsWith('rename ') && e.endsWith(join('records', `${rec.cid}.json`)))
  assert.ok(recordAt > 0, 'the record was renamed into place')
  const blockFiles = events.filter(e => e.startsWith('rename ') && e.includes(join('tmp', 'block-'))).map(e => e.split(' ')[2]!)
  assert.equal(blockFiles.length, 7, '6 leaves and the root, each renamed into place')
  for (const f of blockFiles) {
    const at = events.indexOf(`sync ${f}`)
    assert.ok(at >= 0 && at < recordAt, `${f} fsynced before the record`)
  }
  assert.deepEqual(await fsp.readdir(join(path, 'tmp')), [], 'no temp file left')
  assert.deepEqual(await fsp.readdir(join(path, 'dirty')), [], 'nothing unsynced is left, so no marker')
})

/**
 * A store with `inline` whose block writes through the pool are counted (`poolWrites()`), and
 * `put()`, which stores the next of a series of distinct 100-byte blocks (`written()` so far).
 */
async function poolCountingStore (t: { after: (fn: () => Promise<void>) => void }, path: string, inline: InlineFs): Promise<{ store: Awaited<ReturnType<typeof createStore>>, put: () => Promise<void>, poolWrites: () => number, written: () => number }> {
  let pool = 0
  const fs: Partial<StoreFs> = {
    open: (async (p: any, flags?: any, mode?: any) => {
      if (String(p).includes(join('tmp', 'block-'))) pool++
      return await fsp.open(p, flags, mode)
    }) as StoreFs['open'],
    inline
  }
  const store = await createStore({ path, fs })
  t.after(async () => { await store.close() })
  let n = 0
  return {
    store,
    put: async () => {
      n++
      await store.putBlock(rawCid(pattern(100, n)), pattern(100, n))
    },
    poolWrites: () => pool,
    written: () => n
  }
}

test('block writes slow on average (not one slow write) go through the thread pool for 10 s, then inline again', async (t) => {
  const dir = await tempDir(t)
  const { inline, calls, clock } = countedInline()
  // when on, the kernel holds each write 25 ms: a disk slower than the page cache
  const slow = slowDown(inline, 'writevSync', clock, 25)
  const { store, put, poolWrites, written } = await poolCountingStore(t, join(dir, 'store'), inline)
  await put()
  // one write that waited (for the CPU, say) among fast ones
  slow.on = true
  await put()
  slow.on = false
  for (let i = 0; i < 5; i++) await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [7, 0], 'one slow write changes nothing')
  // a disk that is slow write after write: the moving average passes 20 ms at the sixth (25 × (1 − 0.75⁶) = 20.5)
  slow.on = true
  for (let i = 0; i < 6; i++) await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [13, 0], 'the six slow writes were inline')
  await put()
  await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [13, 2], 'the next writes went through the pool')
  clock.ms += 10_001
  slow.on = false
  await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [14, 2], 'inline again once the 10 s are over')
  for (let i = 1; i <= written(); i++) assert.deepEqual(await store.getBlock(rawCid(pattern(100, i)), { verify: true }), Buffer.from(pattern(100, i)))
})

test('block writes slow only because their thread waited for a core stay inline; slow because they held it, they go to the pool', async (t) => {
  const dir = await tempDir(t)
  const { inline, calls, clock } = countedInline()
  // the thread's time waiting for a core (util/thread-clock.ts)
  const waited = { ms: 0 }
  inline.waited = () => waited.ms
  const writev = inline.writevSync
  const state = { contended: true }
  inline.writevSync = ((...args: Parameters<InlineFs['writevSync']>) => {
    // every write takes 40 ms of wall time: waiting for a core (nine processes on two cores), or held by the disk
    clock.ms += 40
    if (state.contended) waited.ms += 40
    return writev(...args)
  }) as InlineFs['writevSync']
  const { put, poolWrites } = await poolCountingStore(t, join(dir, 'store'), inline)
  for (let i = 0; i < 12; i++) await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [12, 0], '40 ms each, all of it waiting for a core: all inline')
  // now the disk holds each write 40 ms: the average passes 20 ms at the third (40 × (1 − 0.75³) = 23.1)
  state.contended = false
  for (let i = 0; i < 3; i++) await put()
  await put()
  assert.deepEqual([calls.get('writevSync'), poolWrites()], [15, 1], 'held write after write: the next went through the pool')
})

/** node's readFile, counting the reads of files under a folder whose path contains `under`. */
function countingReadFile (under: string): { readFile: StoreFs['readFile'], reads: number } {
  const counter = {
    reads: 0,
    readFile: (async (...args: Parameters<StoreFs['readFile']>) => {
      if (String(args[0]).includes(under)) counter.reads++
      return await fsp.readFile(...args)
    }) as StoreFs['readFile']
  }
  return counter
}

test('block reads slow on average go through the thread pool for 10 s; `has` stats inline; a store given its own readFile reads through it', async (t) => {
  const dir = await tempDir(t)
  const { inline, calls, clock } = countedInline()
  // when on, each read takes 30 ms: not in the page cache, a slow disk answered
  const slow = slowDown(inline, 'readFileSync', clock, 30)
  const pool = countingReadFile(join('store', 'blocks'))
  const store = await createStore({ path: join(dir, 'store'), fs: { readFile: pool.readFile, inline } })
  t.after(async () => { await store.close() })
  const cids = [1, 2, 3, 4].map(i => rawCid(pattern(100, i)))
  for (let i = 1; i <= 4; i++) await store.putBlock(cids[i - 1]!, pattern(100, i))
  const stats = calls.get('statSync') ?? 0
  assert.equal(await store.has(cids[0]!), true)
  assert.equal(await store.has(rawCid(pattern(100, 99))), false)
  assert.equal(calls.get('statSync'), stats + 2, 'has() stats inline')
  const get = async (i: number): Promise<void> => { assert.deepEqual(await store.getBlock(cids[i - 1]!, { verify: true }), Buffer.from(pattern(100, i))) }
  await get(1)
  assert.deepEqual([calls.get('readFileSync'), pool.reads], [1, 0], 'from the page cache: inline')
  // the moving average passes 10 ms at the second 30 ms read (30 × (1 − 0.75²) = 13.1), not at the first (7.5)
  slow.on = true
  await get(2)
  await get(3)
  await get(4)
  assert.deepEqual([calls.get('readFileSync'), pool.reads], [3, 1], 'after two reads that went to the disk: the pool')
  clock.ms += 10_001
  slow.on = false
  await get(4)
  assert.deepEqual([calls.get('readFileSync'), pool.reads], [4, 1], 'inline again once the 10 s are over')

  // its own asynchronous readFile and no inline calls: every read goes through it
  const ownCalls = countingReadFile(join('own', 'blocks'))
  const own = await createStore({ path: join(dir, 'own'), fs: { readFile: ownCalls.readFile } })
  t.after(async () => { await own.close() })
  await own.putBlock(cids[0]!, pattern(100, 1))
  assert.deepEqual(await own.getBlock(cids[0]!), Buffer.from(pattern(100, 1)))
  assert.equal(ownCalls.reads, 1)
})

test('a block that came in thousands of pieces is written inline with one writev, not one write per piece', async (t) => {
  const dir = await tempDir(t)
  const { inline, calls } = countedInline()
  const store = await createStore({ path: join(dir, 'store'), fs: { inline } })
  t.after(async () => { await store.close() })
  const block = pattern(5000 * 20, 31)
  const pieces = new Uint8ArrayList()
  for (let off = 0; off < block.byteLength; off += 20) pieces.append(block.subarray(off, off + 20))
  await store.putBlock(rawCid(block), pieces)
  assert.deepEqual([calls.get('writevSync'), calls.get('writeSync') ?? 0], [1, 0])
  assert.deepEqual(await store.getBlock(rawCid(block), { verify: true }), Buffer.from(block))
})

test('a full disk during an inline block write: NoSpaceError, no temp file, no block; the store writes again once there is room', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const { inline } = countedInline()
  let room = Infinity
  const writevSync = inline.writevSync
  const writeSync = inline.writeSync
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  // a disk with `room` bytes free: a write past it is cut short, the next one fails
  inline.writevSync = ((fd: number, bufs: Uint8Array[]) => {
    if (room <= 0) throw enospc()
    const total = bufs.reduce((n, b) => n + b.byteLength, 0)
    if (total <= room) {
      room -= total
      return writevSync(fd, bufs)
    }
    const n = writeSync(fd, bufs[0]!, 0, Math.min(room, bufs[0]!.byteLength))
    room -= n
    return n
  }) as InlineFs['writevSync']
  inline.writeSync = ((fd: number, buf: Uint8Array, off?: number, len?: number) => {
    if (room <= 0) throw enospc()
    const n = writeSync(fd, buf, off, Math.min(len ?? buf.byteLength, room))
    room -= n
    return n
  }) as InlineFs['writeSync']
  const store = await createStore({ path, fs: { inline } })
  t.after(async () => { await store.close() })
  const block = pattern(MiB, 21)
  const chunks = new Uint8ArrayList(block.subarray(0, 300_000), block.subarray(300_000, 700_000), block.subarray(700_000))
  room = 500_000
  await assert.rejects(store.putBlock(rawCid(block), chunks), { name: 'NoSpaceError' })
  assert.deepEqual(await fsp.readdir(join(path, 'tmp')), [], 'the partial temp file was removed')
  assert.equal(await store.has(rawCid(block)), false)
  room = Infinity
  await store.putBlock(rawCid(block), chunks)
  assert.deepEqual(await store.getBlock(rawCid(block), { verify: true }), Buffer.from(block))
})

/** The store's asynchronous open, whose fsyncs of block files are counted and wait while `state.closed` (the marker's and folders' do not). */
function gatedSyncFs (): { fs: Partial<StoreFs>, state: { syncs: number, closed?: Promise<void>, open: () => void } } {
  const state: { syncs: number, closed?: Promise<void>, open: () => void } = { syncs: 0, open: () => {} }
  const open = openWatchingSync(async (p) => {
    // a block file: blocks/<shard>/<CID> (not the marker, records or the shard folders)
    if (!/[/\\]blocks[/\\][^/\\]+[/\\]baf[^/\\]+$/.test(p)) return
    await state.closed
    state.syncs++
  })
  return { fs: { open }, state }
}

/** Lets every callback and promise that is ready run (several turns of the event loop). */
async function settleLoop (): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
}

test('blocks are fsynced in the background from 16 unsynced on; a marker exists while any is unsynced; a writer waits only at 64', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const { fs, state } = gatedSyncFs()
  const { inline, calls } = countedInline()
  const store = await createStore({ path, fs: { ...fs, inline } })
  t.after(async () => { state.open(); await store.close() })
  const put = async (i: number): Promise<unknown> => await store.putBlock(rawCid(pattern(10, i)), pattern(10, i))
  const markers = async (): Promise<string[]> => await fsp.readdir(join(path, 'dirty'))
  assert.deepEqual(await markers(), [])
  for (let i = 1; i <= 15; i++) await put(i)
  await settleLoop()
  assert.equal(state.syncs, 0, 'fewer than 16 unsynced blocks: no fsync yet')
  assert.equal((await markers()).length, 1)
  assert.match((await markers())[0]!, new RegExp(`^dirty-${process.pid}-`))
  await put(16)
  // no flush() was called: the 16th write started one that it did not wait for
  await waitFor(async () => (await markers()).length === 0, { timeout: 20_000, message: 'the background fsync of 16 blocks' })
  assert.equal(state.syncs, 16, 'the 16 block files were fsynced')
  assert.equal(calls.get('writevSync'), 16, 'the blocks themselves were written inline')

  // a disk that does not answer: the batch the 32nd write starts hangs; writes go on until 64
  // blocks are not yet durable, those of the hanging batch included
  state.closed = new Promise(resolve => { state.open = resolve })
  for (let i = 17; i <= 79; i++) await put(i)
  let done = false
  const capped = put(80).then(() => { done = true })
  await settleLoop()
  assert.equal(done, false, 'the write that makes 64 blocks not yet durable waits for their fsync')
  assert.equal((await markers()).length, 1)
  state.open()
  await capped
  await waitFor(async () => (await markers()).length === 0, { timeout: 20_000, message: 'every block fsynced' })
  assert.equal(state.syncs, 80, 'every block file was fsynced, once')

  await put(81)
  assert.equal((await markers()).length, 1)
  await store.missing(rawCid(pattern(10, 81)))
  assert.equal((await markers()).length, 1, 'missing() of a file with no record writes no record, so it need not flush')
  await store.close()
  assert.deepEqual(await markers(), [], 'close flushes')
})

/**
 * The store's asynchronous open, its fsyncs of block files counted by path; the first of them,
 * or the first open of one for its fsync, fails with `code` (`at`: 'sync' or 'open').
 */
function failingSyncFs (code: string, at: 'sync' | 'open'): { fs: Partial<StoreFs>, attempts: Map<string, number> } {
  const attempts = new Map<string, number>()
  let failed = false
  const isBlock = (p: string): boolean => /[/\\]blocks[/\\][^/\\]+[/\\]baf[^/\\]+$/.test(p)
  const fail = (syscall: string): Error => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall })
  const watched = openWatchingSync(p => {
    if (!isBlock(p)) return
    attempts.set(p, (attempts.get(p) ?? 0) + 1)
    if (at === 'sync' && !failed) { failed = true; throw fail('fsync') }
  })
  const open = (async (p: any, flags?: any, mode?: any) => {
    if (at === 'open' && !failed && flags === 'r' && isBlock(String(p))) { failed = true; throw fail('open') }
    return await watched(p, flags, mode)
  }) as StoreFs['open']
  return { fs: { open }, attempts }
}

test('a block fsync that failed is never tried again: records and new blocks fail with SyncFailedError, the marker stays for the next open to check', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const { fs, attempts } = failingSyncFs('EIO', 'sync')
  const store = await createStore({ path, fs: { ...fs, inline: countedInline().inline } })
  t.after(async () => { await store.close() })
  const blocks = Array.from({ length: 16 }, (_, i) => pattern(10, 300 + i))
  // the 16th write starts a batch in the background, whose first block fsync fails
  for (const b of blocks) await store.putBlock(rawCid(b), b)
  // a record that counts on those blocks: Linux would let a second fsync of them succeed with
  // their bytes maybe not on the disk, so none is tried and the record is not written
  const err = await store.track(rawCid(blocks[0]!), { name: 'x' }).then(() => undefined, (e: Error) => e)
  assert.equal(err?.name, 'SyncFailedError', `track: ${String(err)}`)
  assert.match(err.message, /EIO.*no more blocks until it is opened again/)
  assert.equal(await store.get(rawCid(blocks[0]!)), undefined, 'no record')
  assert.ok([...attempts.values()].every(n => n === 1), `each block file was fsynced at most once: ${[...attempts.values()].join(',')}`)
  const fresh = pattern(10, 399)
  await assert.rejects(store.putBlock(rawCid(fresh), fresh), { name: 'SyncFailedError' })
  assert.equal(await store.has(rawCid(fresh)), false, 'no block is written after the failure')
  await store.putBlock(rawCid(blocks[1]!), blocks[1]!)
  assert.ok([...attempts.values()].every(n => n === 1), 'nor fsynced again by close')
  await store.close()
  assert.equal((await fsp.readdir(join(path, 'dirty'))).length, 1, 'the marker stays: the next open checks the blocks written since')

  // opened again (as after a restart): the marker's blocks are checked, the store writes again
  const again = await createStore({ path })
  t.after(async () => { await again.close() })
  assert.deepEqual(await fsp.readdir(join(path, 'dirty')), [])
  for (const b of blocks) assert.equal(await again.has(rawCid(b)), true)
  await again.putBlock(rawCid(fresh), fresh)
  assert.equal((await again.track(rawCid(fresh), { name: 'fresh' })).complete, true)
})

test('a batch that could not open a block file for its fsync (EMFILE) is tried again by the next flush', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const { fs, attempts } = failingSyncFs('EMFILE', 'open')
  const store = await createStore({ path, fs: { ...fs, inline: countedInline().inline } })
  t.after(async () => { await store.close() })
  const b = pattern(10, 7)
  await store.putBlock(rawCid(b), b)
  await assert.rejects(store.track(rawCid(b), { name: 'x' }), { name: 'StoreIOError', code: 'EMFILE' })
  assert.equal((await store.track(rawCid(b), { name: 'x' })).complete, true, 'the next flush fsynced it')
  assert.deepEqual([...attempts.values()], [1])
  const other = pattern(10, 8)
  await store.putBlock(rawCid(other), other)
})

test('a new shard folder is made durable in blocks/ by the batch after it, once', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  const events: string[] = []
  const store = await createStore({ path, fs: recordingFs(events) })
  t.after(async () => { await store.close() })
  const first = pattern(10, 1)
  const shard = rawCid(first).slice(-3, -1)
  let i = 2
  while (rawCid(pattern(10, i)).slice(-3, -1) !== shard) i++
  const sameShard = pattern(10, i)
  const blocksSynced = (): number => events.filter(e => e === `sync ${join(path, 'blocks')}`).length
  await store.putBlock(rawCid(first), first)
  await store.track(rawCid(first), { name: 'first' })
  assert.equal(blocksSynced(), 1, 'blocks/ fsynced after its new shard folder')
  await store.putBlock(rawCid(sameShard), sameShard)
  await store.track(rawCid(sameShard), { name: 'same shard' })
  assert.equal(blocksSynced(), 1, 'no new shard folder: blocks/ not fsynced again')
})

test('after an unclean stop, the next open verifies the blocks written since the marker and moves a partial one aside', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  let store = await createStore({ path })
  const good = await store.import(pattern(3 * MiB, 2), { name: 'good.bin' })
  const oldBad = pattern(100, 3)
  const newBad = pattern(100, 4)
  const newGood = pattern(100, 5)
  await store.close()

  // a block from long before the marker, made wrong (bit rot is fsck's job, not open's)
  await fsp.mkdir(join(path, 'blocks', rawCid(oldBad).slice(-3, -1)), { recursive: true })
  await fsp.writeFile(blockPath(path, rawCid(oldBad)), new Uint8Array(0))
  const hourAgo = new Date(Date.now() - 3600_000)
  await fsp.utimes(blockPath(path, rawCid(oldBad)), hourAgo, hourAgo)
  // a dead writer's marker, then what a power cut leaves: a block file under its name, empty, and a whole one
  await fsp.writeFile(join(path, 'dirty', `dirty-${DEAD_PID}-1-abc.json`), '{}\n')
  for (const [bytes, content] of [[newBad, new Uint8Array(0)], [newGood, newGood]] as const) {
    await fsp.mkdir(join(path, 'blocks', rawCid(bytes).slice(-3, -1)), { recursive: true })
    await fsp.writeFile(blockPath(path, rawCid(bytes)), content)
  }
  store = await createStore({ path })
  t.after(async () => { await store.close() })
  assert.deepEqual(await fsp.readdir(join(path, 'dirty')), [], 'the marker is removed once checked')
  assert.equal(await store.has(rawCid(newBad)), false, 'the partial block was moved aside')
  assert.equal((await fsp.readdir(join(path, 'corrupt'))).filter(n => n.startsWith(rawCid(newBad))).length, 1)
  assert.equal(await store.has(rawCid(newGood)), true, 'a whole block is kept')
  assert.equal(await store.has(rawCid(oldBad)), true, 'blocks older than the marker are not read at open')
  const report = await store.fsck()
  assert.deepEqual(report.corrupt, [rawCid(oldBad)], 'fsck still finds the old one')
  assert.deepEqual(report.missing, [])
  assert.equal((await store.get(good.cid))?.complete, true)
})

test('putBlock { verified: true } skips the hash the caller already did; other checks still run, and a lie is caught on read', async (t) => {
  const dir = await tempDir(t)
  const store = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await store.close() })
  const bytes = pattern(1000, 6)
  const cid = rawCid(bytes)
  await store.putBlock(cid, bytes, { verified: true })
  assert.deepEqual(await store.getBlock(cid), Buffer.from(bytes))

  // the option is a promise by the caller: bytes it did not verify are stored, and the next verified read catches them
  const lie = rawCid(pattern(1000, 7))
  await assert.rejects(store.putBlock(lie, pattern(1000, 8)), { name: 'BlockHashMismatchError' })
  await store.putBlock(lie, pattern(1000, 8), { verified: true })
  await assert.rejects(store.getBlock(lie), { name: 'CorruptBlockError' })
  assert.equal(await store.has(lie), false, 'moved aside')

  // size and dag-pb checks are not skipped
  const big = new Uint8Array(2 * MiB + 1)
  await assert.rejects(store.putBlock(rawCid(big), big, { verified: true }), { name: 'InvalidBlockError' })
  const junk = Uint8Array.from([0xff, 0xff])
  const junkCid = CID.createV1(0x70, Digest.create(0x12, createHash('sha256').update(junk).digest())).toString()
  await assert.rejects(store.putBlock(junkCid, junk, { verified: true }), { name: 'InvalidBlockError' })
})

test('putBlock takes a block in the chunks it arrived in (a Uint8ArrayList): hashed and written without joining them, read back whole', async (t) => {
  const dir = await tempDir(t)
  const store = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await store.close() })
  const bytes = pattern(MiB, 9)
  const cid = rawCid(bytes)
  // uneven chunks, as a Noise/yamux stream delivers them
  const chunks = new Uint8ArrayList()
  for (let at = 0; at < bytes.byteLength; at += 65_519) chunks.append(bytes.subarray(at, Math.min(bytes.byteLength, at + 65_519)))
  assert.ok([...chunks].length > 1)
  assert.equal(verifyBytes(CID.parse(cid), chunks), true, 'the verifier hashes the chunks in place')
  await store.putBlock(cid, chunks)
  assert.deepEqual(await store.getBlock(cid, { verify: true }), Buffer.from(bytes))
  // wrong chunks are refused like wrong bytes
  const wrong = new Uint8ArrayList(bytes.subarray(0, 1000), pattern(1000, 10))
  await assert.rejects(store.putBlock(rawCid(pattern(2000, 11)), wrong), { name: 'BlockHashMismatchError' })
})

test('the store takes a component logger and CID objects; an aborted signal stops a method on entry', async (t) => {
  const dir = await tempDir(t)
  const components: string[] = []
  const lines: string[] = []
  const log = Object.assign((fmt: string) => { lines.push(fmt) }, { error: (fmt: string) => { lines.push(`error ${fmt}`) }, trace: () => {}, enabled: true })
  const store = await createStore({ path: join(dir, 'store') }, {
    logger: { forComponent: (c) => { components.push(c); return log as any } }
  })
  t.after(async () => { await store.close() })
  assert.deepEqual(components, ['storage'])
  const rec = await store.import(pattern(10, 9))
  assert.ok(lines.some(l => l.startsWith('imported ')), 'the store logs through the logger it was given')
  const cid = CID.parse(rec.cid)
  assert.equal((await store.get(cid as any))?.cid, rec.cid)
  assert.equal(await store.has(cid as any), true)
  assert.deepEqual(await store.getBlock(cid.toV1() as any), Buffer.from(pattern(10, 9)))
  const aborted = AbortSignal.abort()
  for (const call of [
    async () => store.has(rec.cid, { signal: aborted }),
    async () => store.get(rec.cid, { signal: aborted }),
    async () => store.list({ signal: aborted }),
    async () => store.pin(rec.cid, { signal: aborted }),
    async () => store.track(rec.cid, { name: 'x' }, { signal: aborted }),
    async () => store.missing(rec.cid, { signal: aborted }),
    async () => store.stat({ signal: aborted })
  ]) {
    await assert.rejects(call(), { name: 'AbortError' })
  }
})
