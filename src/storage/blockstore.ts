/**
 * The on-disk blockstore: one file per block at
 * `blocks/<2 chars>/<base32 CIDv1>` (sharded on the next-to-last two
 * characters of the CID, as blockstore-fs does). It implements
 * interface-blockstore, so ipfs-unixfs-importer writes into it and
 * ipfs-unixfs-exporter reads from it.
 *
 * A write goes to a temp file in `tmp/` and is renamed into place whole.
 * The block files and shard folders are fsynced in batches by flush(),
 * which the store calls before it writes a record that counts on those
 * blocks, and at least every MAX_UNSYNCED_BLOCKS blocks; from
 * BACKGROUND_SYNC_BLOCKS on, a batch is started without the write waiting
 * for it. A failed fsync is never tried again (SyncFailedError says why): the store takes no
 * more blocks, and keeps its marker so that the next open checks them. journal.ts says how
 * the next open finds a block that a power cut left partial. A block found corrupt is
 * moved to `corrupt/` at once, so it is never served again.
 *
 * A block is written with synchronous calls (stat, open, writev, close, rename: ~1 ms for 1 MiB
 * here) and read with them (open, fstat, read, close: ~0.2 ms from the page cache), not through
 * libuv's thread pool. Through the pool each call is a round trip to a busy event loop: a
 * received block waited 5–40 ms for its six, while 2–11 more piled up behind it, and bytes held
 * that long outlive two scavenges, so V8 promotes them and frees them only in a full collection,
 * which their growing external memory then starts every ~0.4 s (docs/BENCHMARKS.md, "Blocks
 * written inline"). The fsyncs stay in the pool (flush()). When writes take longer than
 * INLINE_WRITE_SLOW_MS on average (the kernel throttling a slow disk), or reads longer than
 * INLINE_READ_SLOW_MS (they go to the disk: the page cache does not have them), the writes, or
 * the reads, of the next INLINE_BACKOFF_MS go through the pool (InlineTiming), so that the event
 * loop does not wait for a disk. A call does not count the time its thread waited for a core
 * (util/thread-clock.ts, on Linux): timed by the clock alone, the writes of eight fetchers and a
 * sharer on two cores averaged 20–23 ms and all went through the pool, which waits for the same
 * cores and costs more CPU per block (docs/BENCHMARKS.md, "Writes not timed by the waits for a
 * core"). `has` stats inline too.
 */
import { join } from 'node:path'
import type { Blockstore, InputPair, Pair } from 'interface-blockstore'
import { cidKey, parseCid, verifyBytes, type BlockBytes as ChunkedBytes, type CID } from '../content/cid.js'
import { BACKGROUND_SYNC_BLOCKS, BLOCKS_DIR, CORRUPT_DIR, INLINE_AVERAGE_WEIGHT, INLINE_BACKOFF_MS, INLINE_READ_SLOW_MS, INLINE_WRITE_SLOW_MS, MAX_UNSYNCED_BLOCKS, SYNC_CONCURRENCY, TMP_DIR, VERIFIED_BLOCKS_KEPT } from './constants.js'
import { BlockNotFoundError, CorruptBlockError, SyncFailedError, fsError } from './errors.js'
import { syncDir, syncFile, writeFileAtomic, writeFileAtomicSync } from '../util/atomic-write.js'
import type { Logger } from '../util/logger.js'
import type { InlineFs, StoreFs } from './fs.js'
import { SyncJournal } from './journal.js'
import type { RefStore } from './refs.js'
import { VerifiedBlocks } from '../util/verified-blocks.js'

/** Buffers one writev takes on Linux (IOV_MAX). */
const MAX_WRITEV_CHUNKS = 1024

/**
 * Failures of a batch that fsynced nothing yet (no descriptor, no memory): its files go back
 * and the next flush tries again. Any other failure is the fsync's own (SyncFailedError).
 */
const RETRIED_SYNC_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR'])
const retriedSync = (err: unknown): boolean => {
  const { code, syscall } = (err ?? {}) as { code?: string, syscall?: string }
  return (code != null && RETRIED_SYNC_ERRORS.has(code)) || syscall === 'open'
}

/**
 * How long inline calls of one kind (block writes, block reads) hold their thread, not counting
 * its waits for a core (Mark): a moving average, so that one slow call does not count as a slow
 * disk, while a disk that is slow call after call does. Over `limit` ms, the calls go through the
 * thread pool for INLINE_BACKOFF_MS, then inline again, the average started afresh.
 */
class InlineTiming {
  private average = 0
  private offUntil = -Infinity

  constructor (private readonly limit: number, readonly kind: string) {}

  on (now: number): boolean {
    return now >= this.offUntil
  }

  /** Counts one call; returns the average when it sends the next calls to the pool. */
  record (ms: number, now: number): number | undefined {
    this.average += (ms - this.average) * INLINE_AVERAGE_WEIGHT
    if (this.average <= this.limit) return undefined
    const average = this.average
    this.offUntil = now + INLINE_BACKOFF_MS
    this.average = 0
    return average
  }
}

/**
 * When an inline call started: elapsed time, and the thread's time waiting for a core where the
 * system gives it (InlineFs.waited). A call is timed by the first less the second when both ends
 * have it: time spent waiting for a core (many processes on few cores) is not the call's, and the
 * pool would wait for the same cores.
 */
interface Mark {
  wall: number
  waited: number | undefined
}

const mark = (fs: InlineFs): Mark => ({ wall: fs.now(), waited: fs.waited?.() })

export interface AbortOptions {
  signal?: AbortSignal
}

export interface BlockReadOptions extends AbortOptions {
  /** Hash the bytes and compare with the CID (default false). */
  verify?: boolean
}

export interface BlockWriteOptions extends AbortOptions {
  /** Called after the block is in place: written=false when it was already there. */
  onStored?: (cid: CID, bytes: number, written: boolean) => void
}

type BlockBytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

export interface BlockFile {
  cid: CID
  key: string
  path: string
}

export class FsBlockstore implements Blockstore {
  readonly root: string
  private readonly fs: StoreFs
  private readonly blocksDir: string
  private readonly tmpDir: string
  private readonly corruptDir: string
  private readonly shards = new Set<string>()
  /** Shard folders made since the last batch: their entries in blocks/ need its fsync. */
  private newShards = false
  private readonly unsynced = new Set<string>()
  private readonly unsyncedFiles = new Set<string>()
  private readonly journal: SyncJournal
  /** Writes between their journal check and their entry in unsyncedFiles. */
  private writing = 0
  private flushing: Promise<void> = Promise.resolve()
  private syncingInBackground = false
  /** Block files in the batch being fsynced now (syncBatch). */
  private syncingFiles = 0
  /** The fsync that failed: from then on no block is written and no flush succeeds (syncBatch). */
  private syncFailure?: SyncFailedError
  private readonly onCorrupt: (cid: CID) => void
  /** Leaves kept by reference in the files they came from (refs.ts), read when no block file holds them. */
  private readonly refs: RefStore | undefined
  /**
   * Blocks this process wrote (their writer checked them: the importer made the CID from them,
   * putBlock verified or was told the transfer had) or read and found to match: a server of the
   * store need not hash them again (Store.verifiedHere).
   */
  readonly verified = new VerifiedBlocks(VERIFIED_BLOCKS_KEPT)
  /** When inline writes, and inline reads, are slow on average: they go through the pool for a while. */
  private readonly inlineWrites = new InlineTiming(INLINE_WRITE_SLOW_MS, 'write')
  private readonly inlineReads = new InlineTiming(INLINE_READ_SLOW_MS, 'read')
  private readonly log?: Logger

  constructor (root: string, fs: StoreFs, onCorrupt: (cid: CID) => void = () => {}, refs?: RefStore, log?: Logger) {
    this.root = root
    this.fs = fs
    this.refs = refs
    this.log = log
    this.blocksDir = join(root, BLOCKS_DIR)
    this.tmpDir = join(root, TMP_DIR)
    this.corruptDir = join(root, CORRUPT_DIR)
    this.onCorrupt = onCorrupt
    this.journal = new SyncJournal(root, fs)
  }

  shardOf (key: string): string {
    return join(this.blocksDir, key.slice(-3, -1))
  }

  pathOf (cid: CID): string {
    const key = cidKey(cid)
    return join(this.shardOf(key), key)
  }

  /** True when the block is present: a block file, or a leaf of an unbroken reference. */
  async has (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    if (await this.hasFile(cid, options)) return true
    return this.refs?.holds(cid) ?? false
  }

  /** True when a block file holds the block (references not counted). */
  async hasFile (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted()
    const inline = this.inlineFor(this.inlineReads)
    // a missing block is a result, not an error: no rejected promise and stack trace per CID asked
    if (inline != null) return this.hasFileInline(this.pathOf(cid), inline)
    try {
      return (await this.fs.stat(this.pathOf(cid))).isFile()
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return false
      throw fsError(err, this.pathOf(cid), 'read')
    }
  }

  /** Size of a stored block, or undefined when absent. */
  async sizeOf (cid: CID): Promise<number | undefined> {
    try {
      const st = await this.fs.stat(this.pathOf(cid))
      return st.isFile() ? st.size : this.refs?.lengthOf(cid)
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return this.refs?.lengthOf(cid)
      throw fsError(err, this.pathOf(cid), 'read')
    }
  }

  /**
   * Stores a block whose bytes the caller has checked against the CID
   * (the importer made the CID from them; putBlock verifies first).
   * A block already present is left as it is. Returns whether it was written.
   * Bytes in chunks (as received) are written with one writev, not joined first.
   */
  async write (cid: CID, bytes: ChunkedBytes, options: BlockWriteOptions = {}): Promise<boolean> {
    options.signal?.throwIfAborted()
    const key = cidKey(cid)
    const shard = this.shardOf(key)
    const dest = join(shard, key)
    const inline = this.inlineFor(this.inlineWrites)
    if (inline != null ? this.hasFileInline(dest, inline) : await this.hasFile(cid)) {
      options.onStored?.(cid, bytes.byteLength, false)
      return false
    }
    if (this.syncFailure != null) throw this.syncFailure
    this.writing++
    try {
      await this.journal.begin()
      // no fsync here: the file and its shard folder are fsynced by flush(), many at once (journal.ts)
      if (inline != null) {
        this.writeInline(shard, dest, bytes, inline)
      } else {
        if (!this.shards.has(shard)) {
          await this.fs.mkdir(shard, { recursive: true, mode: 0o700 })
          this.shardMade(shard)
        }
        await writeFileAtomic(dest, bytes, { tmpDir: this.tmpDir, tmpPrefix: 'block-', sync: false, syncDir: false, fs: this.fs })
      }
      this.unsyncedFiles.add(dest)
      this.unsynced.add(shard)
      this.verified.add(key, bytes.byteLength)
    } catch (err) {
      throw fsError(err, dest, 'write block')
    } finally {
      this.writing--
    }
    options.onStored?.(cid, bytes.byteLength, true)
    // the bound counts the batch being fsynced now too: at most MAX_UNSYNCED_BLOCKS are not yet durable
    if (this.unsyncedFiles.size + this.syncingFiles >= MAX_UNSYNCED_BLOCKS) await this.flush()
    else if (this.unsyncedFiles.size >= BACKGROUND_SYNC_BLOCKS && !this.syncingInBackground) this.syncInBackground()
    return true
  }

  /**
   * Starts a flush that no write waits for. It takes the unsynced blocks as a batch; its failure
   * is kept (syncBatch), so the next write, flush or record says it.
   */
  private syncInBackground (): void {
    this.syncingInBackground = true
    this.flush()
      // a SyncFailedError was logged as an error where it was raised; a retried failure only here
      .catch((err: Error) => { if (err !== this.syncFailure) this.log?.('background sync failed: %s', err.message) })
      .finally(() => { this.syncingInBackground = false })
  }

  /** hasFile with a synchronous stat. */
  private hasFileInline (path: string, fs: InlineFs): boolean {
    try {
      return fs.statSync(path, { throwIfNoEntry: false })?.isFile() === true
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return false
      throw fsError(err, path, 'read')
    }
  }

  /** Writes a block file with synchronous calls (see the file header), timed. */
  /** A shard folder is there (made now, or found): the next batch fsyncs blocks/, which holds its entry. */
  private shardMade (shard: string): void {
    this.shards.add(shard)
    this.newShards = true
  }

  private writeInline (shard: string, dest: string, bytes: ChunkedBytes, fs: InlineFs): void {
    const start = mark(fs)
    if (!this.shards.has(shard)) {
      fs.mkdirSync(shard, { recursive: true, mode: 0o700 })
      this.shardMade(shard)
    }
    let chunks = bytes instanceof Uint8Array ? [bytes] : [...bytes]
    // one writev takes at most IOV_MAX (1024) buffers: a block that came in more pieces (a peer
    // that sends tiny frames) is joined first, so that it costs one write, not one per piece
    if (chunks.length > MAX_WRITEV_CHUNKS) chunks = [Buffer.concat(chunks)]
    writeFileAtomicSync(dest, chunks, { tmpDir: this.tmpDir, tmpPrefix: 'block-', fs })
    this.timed(this.inlineWrites, start, fs)
  }

  /** The inline calls, unless `timing` has sent this kind of call to the pool for now. */
  private inlineFor (timing: InlineTiming): InlineFs | undefined {
    const fs = this.fs.inline
    return fs != null && timing.on(fs.now()) ? fs : undefined
  }

  private timed (timing: InlineTiming, start: Mark, fs: InlineFs): void {
    const now = fs.now()
    const waited = start.waited != null ? fs.waited?.() : undefined
    const waitedMs = waited != null && start.waited != null ? waited - start.waited : 0
    const average = timing.record(Math.max(0, now - start.wall - waitedMs), now)
    if (average != null) this.log?.('block %ss held the thread %d ms on average: they go through the thread pool for the next %d s', timing.kind, Math.round(average), INLINE_BACKOFF_MS / 1000)
  }

  /** Reads a block file with synchronous calls (see the file header), timed. */
  private readInline (path: string, fs: InlineFs): Uint8Array {
    const start = mark(fs)
    const bytes = fs.readFileSync(path)
    this.timed(this.inlineReads, start, fs)
    return bytes
  }

  /**
   * fsyncs the block files and shard folders written since the last flush,
   * so those blocks survive a power cut; then, when nothing is left unsynced,
   * drops this process's marker (journal.ts). The store calls it before it
   * writes a record that counts on blocks, and at close.
   */
  async flush (): Promise<void> {
    // one batch at a time: a flush returns only once every block written before it was called is synced, even those a batch already running took
    const run = this.flushing.catch(() => {}).then(async () => { await this.syncBatch() })
    this.flushing = run
    await run
  }

  private async syncBatch (): Promise<void> {
    if (this.syncFailure != null) throw this.syncFailure
    const files = [...this.unsyncedFiles]
    const dirs = [...this.unsynced]
    const newShards = this.newShards
    this.unsyncedFiles.clear()
    this.unsynced.clear()
    this.newShards = false
    this.syncingFiles = files.length
    try {
      for (let i = 0; i < files.length; i += SYNC_CONCURRENCY) {
        await Promise.all(files.slice(i, i + SYNC_CONCURRENCY).map(async f => {
          // a block deleted since (gc, sweep, found corrupt) needs no sync
          await syncFile(f, this.fs).catch((err: any) => { if (err?.code !== 'ENOENT') throw err })
        }))
      }
      await Promise.all(dirs.map(async d => { await syncDir(d, this.fs) }))
      // a shard folder made since the last batch is an entry of blocks/, durable with its fsync
      if (newShards) await syncDir(this.blocksDir, this.fs)
    } catch (err) {
      if (retriedSync(err)) {
        for (const f of files) this.unsyncedFiles.add(f)
        for (const d of dirs) this.unsynced.add(d)
        this.newShards ||= newShards
        throw fsError(err, this.blocksDir, 'sync')
      }
      // never fsynced again: after a failed writeback Linux marks the pages clean and reports the
      // error once, so a second fsync would succeed with the bytes maybe not on the disk. The
      // marker stays (journal.end() is not reached again), so the next open checks these blocks.
      this.syncFailure = new SyncFailedError(this.blocksDir, err)
      this.log?.error('%s', this.syncFailure.message)
      throw this.syncFailure
    } finally {
      this.syncingFiles = 0
    }
    if (this.unsyncedFiles.size === 0 && this.writing === 0) await this.journal.end()
  }

  /**
   * Reads a block; BlockNotFoundError if absent, CorruptBlockError (and the
   * block moved aside) if `verify` fails. A leaf kept by reference is read
   * from its file and always verified (ReferenceChangedError, ReferenceMissingError).
   */
  async read (cid: CID, options: BlockReadOptions = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted()
    const path = this.pathOf(cid)
    let bytes: Uint8Array
    try {
      const inline = this.inlineFor(this.inlineReads)
      bytes = inline != null ? this.readInline(path, inline) : await this.fs.readFile(path)
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR' || err?.code === 'EISDIR') {
        const referenced = await this.refs?.read(cid, options.signal)
        if (referenced != null) {
          // refs.read hashed it against the CID
          this.verified.add(cidKey(cid), referenced.byteLength)
          return referenced
        }
        throw new BlockNotFoundError(cidKey(cid))
      }
      throw fsError(err, path, 'read block')
    }
    if (options.verify === true) {
      if (!verifyBytes(cid, bytes)) {
        await this.quarantine(cid)
        throw new CorruptBlockError(cidKey(cid))
      }
      this.verified.add(cidKey(cid), bytes.byteLength)
    }
    return bytes
  }

  /** Moves a corrupt block out of `blocks/` into `corrupt/` (kept for inspection until gc). */
  async quarantine (cid: CID): Promise<void> {
    const key = cidKey(cid)
    this.verified.delete(key)
    try {
      await this.fs.mkdir(this.corruptDir, { recursive: true, mode: 0o700 })
      await this.fs.rename(this.pathOf(cid), join(this.corruptDir, `${key}.${Date.now()}`))
    } catch (err: any) {
      if (err?.code !== 'ENOENT') {
        await this.fs.unlink(this.pathOf(cid)).catch(() => {})
      }
    }
    this.onCorrupt(cid)
  }

  /** Deletes a block file; returns its size, or undefined when it was not there. */
  async remove (cid: CID): Promise<number | undefined> {
    const path = this.pathOf(cid)
    try {
      const size = (await this.fs.stat(path)).size
      await this.fs.unlink(path)
      return size
    } catch (err: any) {
      if (err?.code === 'ENOENT') return undefined
      throw fsError(err, path, 'delete block')
    }
  }

  /** Every block file (name parsed as a CID); files with other names are skipped. */
  async * files (options: AbortOptions = {}): AsyncGenerator<BlockFile> {
    let shards: string[]
    try {
      shards = await this.fs.readdir(this.blocksDir)
    } catch (err: any) {
      if (err?.code === 'ENOENT') return
      throw fsError(err, this.blocksDir, 'list')
    }
    for (const shard of shards.sort()) {
      options.signal?.throwIfAborted()
      let names: string[]
      try {
        names = await this.fs.readdir(join(this.blocksDir, shard))
      } catch (err: any) {
        if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') continue
        throw fsError(err, join(this.blocksDir, shard), 'list')
      }
      for (const name of names.sort()) {
        let cid: CID
        try {
          cid = parseCid(name)
        } catch {
          continue
        }
        if (cidKey(cid) !== name) continue
        yield { cid, key: name, path: join(this.blocksDir, shard, name) }
      }
    }
  }

  // interface-blockstore

  async put (cid: CID, bytes: BlockBytes, options: BlockWriteOptions = {}): Promise<CID> {
    await this.write(cid, await collect(bytes), options)
    return cid
  }

  async * putMany (source: Iterable<InputPair> | AsyncIterable<InputPair>, options: BlockWriteOptions = {}): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes, options)
  }

  async * get (cid: CID, options: BlockReadOptions = {}): AsyncGenerator<Uint8Array> {
    yield await this.read(cid, options)
  }

  async * getMany (source: Iterable<CID> | AsyncIterable<CID>, options: BlockReadOptions = {}): AsyncGenerator<Pair> {
    for await (const cid of source) {
      const bytes = await this.read(cid, options)
      yield { cid, bytes: once(bytes) }
    }
  }

  async * getAll (options: BlockReadOptions = {}): AsyncGenerator<Pair> {
    for await (const f of this.files(options)) {
      const bytes = await this.read(f.cid, options)
      yield { cid: f.cid, bytes: once(bytes) }
    }
  }

  async delete (cid: CID, options: AbortOptions = {}): Promise<void> {
    options.signal?.throwIfAborted()
    await this.remove(cid)
  }

  async * deleteMany (source: Iterable<CID> | AsyncIterable<CID>, options: AbortOptions = {}): AsyncGenerator<CID> {
    for await (const cid of source) {
      await this.delete(cid, options)
      yield cid
    }
  }
}

function * once (bytes: Uint8Array): Generator<Uint8Array> {
  yield bytes
}

async function collect (bytes: BlockBytes): Promise<Uint8Array> {
  if (bytes instanceof Uint8Array) return bytes
  const parts: Uint8Array[] = []
  for await (const p of bytes) parts.push(p)
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}
