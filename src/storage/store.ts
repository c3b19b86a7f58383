/**
 * DiskStore: the content-addressed store of one repository.
 *
 * `<repo>/store/` holds `VERSION`, `blocks/` (FsBlockstore), `records/`
 * (RecordStore), `tmp/` (temp files, emptied at open) and `corrupt/`
 * (blocks found corrupt, emptied by gc). Blocks are written before the
 * record that names them, so a crash at any point leaves valid blocks and
 * either the old or the new record: never a record that lies about a block
 * it counts as present, never a block file with wrong bytes.
 */
import { isProcessAlive } from '../util/process.js'
import { createReadStream } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { exporter } from 'ipfs-unixfs-exporter'
import { importByteStream, type ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import * as dagPb from '@ipld/dag-pb'
import { CustomProgressEvent } from 'progress-events'
import { createLogger } from '../util/logger.js'
import { FsBlockstore } from './blockstore.js'
import { cidKey, parseCid, verifyBytes, type CID } from '../content/cid.js'
import {
  BLOCK_READ_CONCURRENCY, BLOCK_WRITE_CONCURRENCY, BLOCKS_DIR, CHECK_CONCURRENCY, CHUNK_SIZE, CID_VERSION, CORRUPT_DIR,
  DAG_PB_CODEC, IMPORT_WRITE_WINDOW, MAX_BLOCK_SIZE, MAX_CHILDREN_PER_NODE, MAX_RECORD_NAME_BYTES, RECORDS_DIR, STORE_VERSION, TMP_DIR, VERSION_FILE
} from './constants.js'
import { walkDag, type DagWalk } from './dag.js'
import {
  BlockHashMismatchError, DestinationExistsError, ExportError, fsError, ImportSourceError, InvalidBlockError,
  InvalidRangeError, NotAFileError, RecordNotFoundError, StoreClosedError, StoreVersionError
} from './errors.js'
import { resolveFs, syncDir, tempName, writeAll, writeDurable, type StoreFs } from './fs.js'
import { KeyedMutex, SharedLock } from './lock.js'
import { RecordStore, type FileRecord } from './records.js'
import { clampName, guessMediaType } from './safe-name.js'
import type {
  CatOptions, ExportOptions, FsckOptions, FsckResult, GcOptions, GcResult, GetBlockOptions, ImportInput, ImportOptions,
  Store, StoreInit, StoreOptions, StoreProgressEvent, StoreStat, TrackMeta
} from './index.js'

/** The import profile: Helia's addBytes defaults (see constants.ts). */
const PROFILE: ImporterOptions = {
  cidVersion: CID_VERSION,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
  layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE }),
  blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY
}

function progress (options: StoreOptions, type: StoreProgressEvent['type'], detail: StoreProgressEvent['detail']): void {
  options.onProgress?.(new CustomProgressEvent(type, detail) as StoreProgressEvent)
}

function isAbort (err: any): boolean {
  return err?.name === 'AbortError' || err?.name === 'TimeoutError'
}

export class DiskStore implements Store {
  readonly path: string
  private readonly fs: StoreFs
  private readonly blocks: FsBlockstore
  private readonly records: RecordStore
  private readonly lock = new SharedLock()
  private readonly mutex = new KeyedMutex()
  private readonly log = createLogger('storage')
  private readonly closing = new AbortController()
  private readonly active = new Set<Promise<unknown>>()
  private badRecords: string[] = []
  private closed = false

  private constructor (path: string, fs: StoreFs) {
    this.path = path
    this.fs = fs
    this.blocks = new FsBlockstore(path, fs)
    this.records = new RecordStore(path, fs)
  }

  static async open (init: StoreInit): Promise<DiskStore> {
    const path = resolve(init.path)
    const fs = resolveFs(init.fs)
    const store = new DiskStore(path, fs)
    await store.init()
    return store
  }

  private async init (): Promise<void> {
    const { fs, path } = this
    try {
      await fs.mkdir(path, { recursive: true, mode: 0o700 })
      for (const d of [BLOCKS_DIR, RECORDS_DIR, TMP_DIR]) await fs.mkdir(join(path, d), { recursive: true, mode: 0o700 })
    } catch (err) {
      throw fsError(err, path, 'create the store folder')
    }
    const versionFile = join(path, VERSION_FILE)
    let version: string | undefined
    try {
      version = (await fs.readFile(versionFile, 'utf8')).trim()
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw fsError(err, versionFile, 'read')
    }
    if (version == null) {
      const tmp = tempName(join(path, TMP_DIR), 'version-')
      try {
        await writeDurable(fs, tmp, Buffer.from(`${STORE_VERSION}\n`))
        await fs.rename(tmp, versionFile)
        await syncDir(fs, path)
      } catch (err) {
        await fs.unlink(tmp).catch(() => {})
        throw fsError(err, versionFile, 'write')
      }
    } else if (version !== String(STORE_VERSION)) {
      throw new StoreVersionError(path, version)
    }
    // temp files are named after their writer's pid; those of a process that is gone were left by a crash
    const tmpDir = join(path, TMP_DIR)
    try {
      const sharedInProcess = (OPEN_PATHS.get(path) ?? 0) > 0
      for (const name of await fs.readdir(tmpDir)) {
        if (!writerAlive(name, sharedInProcess)) await fs.rm(join(tmpDir, name), { force: true, recursive: true })
      }
    } catch (err) {
      throw fsError(err, tmpDir, 'clean')
    }
    OPEN_PATHS.set(path, (OPEN_PATHS.get(path) ?? 0) + 1)
    this.badRecords = await this.records.load()
    if (this.badRecords.length > 0) this.log.error('%d unreadable records in %s: %s', this.badRecords.length, path, this.badRecords.join(', '))
  }

  /** Runs a public operation: refused once closed, aborted by close(), awaited by close(). */
  private async run<T> (options: StoreOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    const signal = options.signal == null ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal])
    const p = fn(signal)
    this.active.add(p)
    try {
      return await p
    } finally {
      this.active.delete(p)
    }
  }

  /** Writes a record after making the block renames it may count on durable. */
  private async writeRecord (record: FileRecord): Promise<FileRecord> {
    await this.blocks.flush()
    return this.records.put(record)
  }

  // ---- import

  async import (input: ImportInput, options: ImportOptions = {}): Promise<FileRecord> {
    return this.run(options, async (signal) => {
      const { source, defaultName } = await this.openSource(input, options, signal)
      const distinct = new Set<string>()
      const written: CID[] = []
      // write-behind: the importer goes on reading and hashing while up to IMPORT_WRITE_WINDOW blocks are written
      const pending = new Set<Promise<void>>()
      let writeError: { err: unknown } | undefined
      let failed = false
      const settle = async (): Promise<void> => {
        while (pending.size > 0) await Promise.all([...pending])
        if (writeError != null) throw writeError.err
      }
      const storage = {
        put: async (cid: CID, bytes: Uint8Array) => {
          while (pending.size >= IMPORT_WRITE_WINDOW) {
            if (writeError != null) break
            await Promise.race(pending)
          }
          if (writeError != null) throw writeError.err
          if (failed) throw new Error('import failed')
          signal.throwIfAborted()
          const p: Promise<void> = this.blocks.write(cid, bytes, {
            signal,
            onStored: (c, n, wasWritten) => {
              const key = cidKey(c)
              distinct.add(key)
              if (wasWritten) written.push(c)
              progress(options, 'store:import:block', { cid: key, bytes: n, written: wasWritten })
            }
          }).then(() => {}, (err) => { writeError ??= { err } }).finally(() => { pending.delete(p) })
          pending.add(p)
          return cid
        }
      }
      try {
        return await this.lock.withShared(async () => {
          const result = await importByteStream(source, storage, { ...PROFILE })
          await settle()
          signal.throwIfAborted()
          const key = cidKey(result.cid)
          // result.size of a dag-pb root is the DAG's size (blocks included); the file's size is in its UnixFS data
          const size = Number(result.unixfs?.fileSize() ?? result.size)
          const record = await this.mutex.run(key, async () => {
            const old = this.records.get(key)
            const name = clampName(options.name ?? defaultName ?? old?.name ?? key, MAX_RECORD_NAME_BYTES)
            const rec: FileRecord = {
              cid: key,
              name,
              size,
              mediaType: options.mediaType ?? old?.mediaType ?? guessMediaType(name),
              added: old?.added ?? Date.now(),
              pinned: (old?.pinned ?? false) || (options.pin ?? true),
              complete: true,
              blocks: { total: distinct.size, present: distinct.size }
            }
            const encrypted = options.encrypted ?? old?.encrypted
            if (encrypted != null) rec.encrypted = encrypted
            return this.writeRecord(rec)
          })
          progress(options, 'store:import:done', { cid: key, size, blocks: distinct.size })
          this.log('imported %s (%s, %d bytes, %d blocks, %d new)', key, record.name, size, distinct.size, written.length)
          return record
        })
      } catch (err) {
        // let block writes still running settle, then drop the blocks this import added that no record needs (e.g. after ENOSPC)
        failed = true
        await settle().catch(() => {})
        await this.lock.withExclusive(async () => { await this.sweep(written) }).catch(e => {
          this.log.error('cleanup after a failed import failed: %e', e)
        })
        throw fsError(err, this.path, 'import into')
      }
    })
  }

  private async openSource (input: ImportInput, options: ImportOptions, signal: AbortSignal): Promise<{ source: AsyncIterable<Uint8Array>, defaultName?: string }> {
    if (typeof input === 'string') {
      const path = resolve(input)
      let size: number
      try {
        const st = await this.fs.stat(path)
        if (st.isDirectory()) throw new ImportSourceError(path, 'it is a folder; import the files in it one by one')
        if (!st.isFile()) throw new ImportSourceError(path, 'it is not a regular file')
        size = st.size
      } catch (err: any) {
        if (err instanceof ImportSourceError) throw err
        throw new ImportSourceError(path, err?.code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${err?.code ?? err?.message})`)
      }
      return { source: readFileSource(path, size, options, signal), defaultName: basename(path) }
    }
    if (input instanceof Uint8Array) {
      return { source: countBytes([input], input.byteLength, options, signal) }
    }
    if (input != null && typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
      return { source: countBytes(input, undefined, options, signal) }
    }
    throw new TypeError('import() takes a file path, a Uint8Array or an AsyncIterable<Uint8Array>')
  }

  // ---- export, cat

  async export (cid: string, destPath: string, options: ExportOptions = {}): Promise<void> {
    return this.run(options, async (signal) => {
      const root = parseCid(cid)
      const key = cidKey(root)
      const dest = resolve(destPath)
      const dir = dirname(dest)
      try {
        const st = await this.fs.stat(dir)
        if (!st.isDirectory()) throw new ExportError(dest, `${dir} is not a folder`, 'ENOTDIR')
      } catch (err: any) {
        if (err instanceof ExportError) throw err
        throw new ExportError(dest, err?.code === 'ENOENT' ? `the folder ${dir} does not exist` : `the folder ${dir} cannot be read (${err?.code ?? err?.message})`, err?.code)
      }
      try {
        if ((await this.fs.stat(dest)).isDirectory()) throw new ExportError(dest, 'it is a folder', 'EISDIR')
        if (options.overwrite === false) throw new DestinationExistsError(dest)
      } catch (err: any) {
        if (err?.code !== 'ENOENT') throw err
      }
      const tmp = join(dir, `.${basename(dest).slice(0, 64)}.swarmdrop-${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`)
      let fh: Awaited<ReturnType<StoreFs['open']>> | undefined
      let created = false
      try {
        try {
          fh = await this.fs.open(tmp, 'wx', 0o644)
          created = true
        } catch (err: any) {
          if (err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS') throw new ExportError(dest, `the folder ${dir} is not writable`, err.code)
          if (err?.code === 'ENOENT') throw new ExportError(dest, `the folder ${dir} does not exist`, err.code)
          throw err
        }
        let written = 0
        let total = 0
        for await (const chunk of this.readFile(root, { verify: options.verify ?? true, signal }, options, 'store:export:block', (size) => { total = size })) {
          await writeAll(fh, chunk)
          written += chunk.byteLength
          progress(options, 'store:export:bytes', { cid: key, written, total })
        }
        await fh.sync()
        const h = fh
        fh = undefined
        await h.close()
        if (options.overwrite === false) {
          try {
            await this.fs.link(tmp, dest)
          } catch (err: any) {
            if (err?.code === 'EEXIST') throw new DestinationExistsError(dest)
            throw err
          }
          await this.fs.unlink(tmp)
        } else {
          await this.fs.rename(tmp, dest)
        }
        created = false
        await syncDir(this.fs, dir)
        progress(options, 'store:export:done', { cid: key, path: dest, size: written })
      } catch (err) {
        await fh?.close().catch(() => {})
        if (created) await this.fs.unlink(tmp).catch(() => {})
        throw fsError(err, dest, 'write')
      }
    })
  }

  async * cat (cid: string, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    const root = parseCid(cid)
    const offset = options.offset ?? 0
    const length = options.length
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(`offset ${offset} is not a whole number >= 0`)
    if (length != null && (!Number.isSafeInteger(length) || length < 0)) throw new InvalidRangeError(`length ${length} is not a whole number >= 0`)
    const signal = options.signal == null ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal])
    let finish = (): void => {}
    const done = new Promise<void>(resolve => { finish = resolve })
    this.active.add(done)
    try {
      yield * this.readFile(root, { verify: options.verify ?? false, signal, offset, length }, options, 'store:cat:block')
    } finally {
      finish()
      this.active.delete(done)
    }
  }

  /** The bytes of a file, through the exporter; a corrupt block is moved aside and the records that need it updated. */
  private async * readFile (root: CID, read: { verify: boolean, signal: AbortSignal, offset?: number, length?: number }, options: StoreOptions, event: 'store:cat:block' | 'store:export:block', onSize?: (size: number) => void): AsyncGenerator<Uint8Array> {
    const reader = {
      get: (c: CID, o: { signal?: AbortSignal } = {}) => this.readBlock(c, read.verify, o.signal ?? read.signal, options, event)
    }
    try {
      const entry = await exporter(cidKey(root), reader, { signal: read.signal })
      if (entry.type !== 'file' && entry.type !== 'raw') throw new NotAFileError(cidKey(root), entry.type)
      const size = Number(entry.size)
      onSize?.(size)
      if ((read.offset ?? 0) > size) throw new InvalidRangeError(`offset ${read.offset} is past the end of the file (${size} bytes)`)
      const length = read.length == null ? undefined : Math.min(read.length, size - (read.offset ?? 0))
      if (length === 0) return
      yield * entry.content({ offset: read.offset, length, signal: read.signal, blockReadConcurrency: BLOCK_READ_CONCURRENCY })
    } catch (err: any) {
      if (err?.name === 'CorruptBlockError') await this.afterCorrupt(err.cid)
      if (err?.name === 'NotUnixFSError') throw new NotAFileError(cidKey(root), 'non-UnixFS node')
      throw err
    }
  }

  private async * readBlock (cid: CID, verify: boolean, signal: AbortSignal, options: StoreOptions, event: 'store:cat:block' | 'store:export:block'): AsyncGenerator<Uint8Array> {
    const bytes = await this.blocks.read(cid, { verify, signal })
    progress(options, event, { cid: cidKey(cid), bytes: bytes.byteLength })
    yield bytes
  }

  // ---- blocks

  async has (cid: string): Promise<boolean> {
    return this.run({}, async () => this.blocks.has(parseCid(cid)))
  }

  async getBlock (cid: string, options: GetBlockOptions = {}): Promise<Uint8Array> {
    return this.run(options, async (signal) => {
      const c = parseCid(cid)
      try {
        return await this.blocks.read(c, { verify: options.verify ?? true, signal })
      } catch (err: any) {
        if (err?.name === 'CorruptBlockError') await this.afterCorrupt(err.cid)
        throw err
      }
    })
  }

  async putBlock (cid: string, bytes: Uint8Array, options: StoreOptions = {}): Promise<void> {
    return this.run(options, async (signal) => {
      const c = parseCid(cid)
      const key = cidKey(c)
      if (!(bytes instanceof Uint8Array)) throw new InvalidBlockError(key, 'the bytes are not a Uint8Array')
      if (bytes.byteLength > MAX_BLOCK_SIZE) throw new InvalidBlockError(key, `it is ${bytes.byteLength} bytes, over the ${MAX_BLOCK_SIZE} byte limit`)
      if (!verifyBytes(c, bytes)) throw new BlockHashMismatchError(key)
      if (c.code === DAG_PB_CODEC) {
        try {
          dagPb.decode(bytes)
        } catch (err: any) {
          throw new InvalidBlockError(key, `it does not decode as dag-pb (${err?.message ?? String(err)})`)
        }
      }
      await this.lock.withShared(async () => {
        await this.blocks.write(c, bytes, {
          signal,
          onStored: (_, n, written) => { progress(options, 'store:put:block', { cid: key, bytes: n, written }) }
        })
      })
    })
  }

  // ---- records

  async track (cid: string, meta: TrackMeta): Promise<FileRecord> {
    return this.run({}, async (signal) => {
      const key = cidKey(parseCid(cid))
      return this.mutex.run(key, async () => {
        const old = this.records.get(key)
        const name = clampName(old?.name ?? meta.name, MAX_RECORD_NAME_BYTES)
        const rec: FileRecord = old ?? {
          cid: key,
          name,
          size: meta.size != null && Number.isSafeInteger(meta.size) && meta.size >= 0 ? meta.size : 0,
          mediaType: meta.mediaType ?? guessMediaType(name),
          added: Date.now(),
          pinned: meta.pin ?? true,
          complete: false,
          blocks: { present: 0 }
        }
        if (old != null && meta.pin === true) rec.pinned = true
        if (old == null && meta.encrypted != null) rec.encrypted = meta.encrypted
        const walk = await walkDag(this.blocks, parseCid(key), { signal })
        return this.writeRecord(applyWalk(rec, walk))
      })
    })
  }

  async missing (cid: string, options: StoreOptions = {}): Promise<string[]> {
    return this.run(options, async (signal) => {
      const root = parseCid(cid)
      const key = cidKey(root)
      return this.mutex.run(key, async () => {
        const walk = await walkDag(this.blocks, root, { signal })
        const rec = this.records.get(key)
        if (rec != null) await this.updateRecord(rec, walk)
        return walk.missing
      })
    })
  }

  private async updateRecord (rec: FileRecord, walk: DagWalk): Promise<FileRecord> {
    const next = applyWalk({ ...rec, blocks: { ...rec.blocks } }, walk)
    if (JSON.stringify(next) === JSON.stringify(rec)) return rec
    return this.writeRecord(next)
  }

  async get (cid: string): Promise<FileRecord | undefined> {
    if (this.closed) throw new StoreClosedError()
    return this.records.get(cidKey(parseCid(cid)))
  }

  async list (): Promise<FileRecord[]> {
    if (this.closed) throw new StoreClosedError()
    return this.records.list()
  }

  async pin (cid: string): Promise<void> {
    await this.setPinned(cid, true)
  }

  async unpin (cid: string): Promise<void> {
    await this.setPinned(cid, false)
  }

  private async setPinned (cid: string, pinned: boolean): Promise<void> {
    await this.run({}, async () => {
      const key = cidKey(parseCid(cid))
      await this.mutex.run(key, async () => {
        const rec = this.records.get(key)
        if (rec == null) throw new RecordNotFoundError(key)
        if (rec.pinned !== pinned) await this.records.put({ ...rec, pinned })
      })
    })
  }

  async remove (cid: string, options: StoreOptions = {}): Promise<void> {
    await this.run(options, async (signal) => {
      const root = parseCid(cid)
      const key = cidKey(root)
      await this.lock.withExclusive(async () => {
        if (!this.records.has(key)) throw new RecordNotFoundError(key)
        const walk = await walkDag(this.blocks, root, { checkLeaves: false, signal })
        await this.mutex.run(key, async () => { await this.records.delete(key) })
        const candidates = [...walk.nodes].map(k => parseCid(k))
        const { removedBlocks, removedBytes } = await this.sweep(candidates, signal)
        this.log('removed %s and %d blocks (%d bytes)', key, removedBlocks, removedBytes)
      })
    })
  }

  /** CIDs of every block a record in `records` needs (inner nodes read, leaves not looked up). */
  private async needed (records: FileRecord[], signal?: AbortSignal): Promise<Set<string>> {
    const keep = new Set<string>()
    for (const r of records) {
      const walk = await walkDag(this.blocks, parseCid(r.cid), { checkLeaves: false, signal })
      for (const k of walk.nodes) keep.add(k)
    }
    return keep
  }

  /** Deletes those of `candidates` that no record needs. Call with the exclusive lock held. */
  private async sweep (candidates: CID[], signal?: AbortSignal): Promise<GcResult> {
    if (candidates.length === 0) return { removedBlocks: 0, removedBytes: 0 }
    const keep = await this.needed(this.records.list(), signal)
    let removedBlocks = 0
    let removedBytes = 0
    for (const c of candidates) {
      if (keep.has(cidKey(c))) continue
      const bytes = await this.blocks.remove(c)
      if (bytes != null) {
        removedBlocks++
        removedBytes += bytes
      }
    }
    return { removedBlocks, removedBytes }
  }

  async gc (options: GcOptions = {}): Promise<GcResult> {
    return this.run(options, async (signal) => {
      return this.lock.withExclusive(async () => {
        if (options.unpinned === true) {
          for (const r of this.records.list()) {
            if (!r.pinned) await this.mutex.run(r.cid, async () => { await this.records.delete(r.cid) })
          }
        }
        const all = this.records.list()
        const keep = await this.needed(all.filter(r => r.pinned || r.complete), signal)
        let removedBlocks = 0
        let removedBytes = 0
        for await (const f of this.blocks.files({ signal })) {
          if (keep.has(f.key)) continue
          const bytes = await this.blocks.remove(f.cid)
          if (bytes == null) continue
          removedBlocks++
          removedBytes += bytes
          progress(options, 'store:gc:block', { cid: f.key, bytes })
        }
        await this.fs.rm(join(this.path, CORRUPT_DIR), { recursive: true, force: true }).catch(() => {})
        // partial, unpinned files lost their blocks: recount them
        for (const r of all) {
          if (r.pinned || r.complete || !this.records.has(r.cid)) continue
          await this.mutex.run(r.cid, async () => {
            const cur = this.records.get(r.cid)
            if (cur != null) await this.updateRecord(cur, await walkDag(this.blocks, parseCid(cur.cid), { signal }))
          })
        }
        this.log('gc removed %d blocks (%d bytes)', removedBlocks, removedBytes)
        return { removedBlocks, removedBytes }
      })
    })
  }

  /** After a block was found corrupt (and moved aside): recount the complete files that need it. */
  private async afterCorrupt (key: string): Promise<void> {
    this.log.error('block %s was corrupt on disk; moved to %s', key, join(this.path, CORRUPT_DIR))
    for (const r of this.records.list()) {
      if (!r.complete) continue
      try {
        const nodes = (await walkDag(this.blocks, parseCid(r.cid), { checkLeaves: false })).nodes
        if (!nodes.has(key) && r.cid !== key) continue
        await this.mutex.run(r.cid, async () => {
          const cur = this.records.get(r.cid)
          if (cur != null) await this.updateRecord(cur, await walkDag(this.blocks, parseCid(cur.cid)))
        })
      } catch (err) {
        this.log.error('cannot recount %s after corruption: %e', r.cid, err)
      }
    }
  }

  // ---- maintenance

  async stat (options: StoreOptions = {}): Promise<StoreStat> {
    return this.run(options, async (signal) => {
      let blocks = 0
      let bytes = 0
      for await (const f of this.blocks.files({ signal })) {
        try {
          bytes += (await this.fs.stat(f.path)).size
          blocks++
        } catch (err: any) {
          if (err?.code !== 'ENOENT') throw fsError(err, f.path, 'read')
        }
      }
      return { blocks, bytes, files: this.records.keys().length }
    })
  }

  async fsck (options: FsckOptions = {}): Promise<FsckResult> {
    return this.run(options, async (signal) => {
      return this.lock.withShared(async () => {
        const corrupt: string[] = []
        let checked = 0
        const queue: Array<Promise<void>> = []
        const check = async (cid: CID, key: string): Promise<void> => {
          let ok = true
          try {
            await this.blocks.read(cid, { verify: true, signal })
          } catch (err: any) {
            if (err?.name === 'CorruptBlockError') ok = false
            else if (err?.name !== 'BlockNotFoundError') throw err
          }
          checked++
          if (!ok) corrupt.push(key)
          progress(options, 'store:fsck:block', { cid: key, ok, checked })
        }
        for await (const f of this.blocks.files({ signal })) {
          queue.push(check(f.cid, f.key))
          if (queue.length >= CHECK_CONCURRENCY) await Promise.all(queue.splice(0))
        }
        await Promise.all(queue)
        const missing = new Set<string>()
        const incomplete: string[] = []
        for (const r of this.records.list()) {
          await this.mutex.run(r.cid, async () => {
            const cur = this.records.get(r.cid)
            if (cur == null) return
            const walk = await walkDag(this.blocks, parseCid(cur.cid), { signal })
            if (cur.complete && !walk.complete) for (const m of walk.missing) missing.add(m)
            if (!walk.complete) incomplete.push(cur.cid)
            await this.updateRecord(cur, walk)
          })
        }
        const result: FsckResult = { checked, corrupt: corrupt.sort(), missing: [...missing].sort(), incomplete: incomplete.sort(), badRecords: [...this.badRecords] }
        if (corrupt.length > 0 || missing.size > 0) this.log.error('fsck: %d corrupt, %d missing blocks', corrupt.length, missing.size)
        return result
      })
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.closing.abort(new StoreClosedError())
    await Promise.allSettled([...this.active])
    await this.blocks.flush().catch(err => { this.log.error('flush at close failed: %e', err) })
    const n = (OPEN_PATHS.get(this.path) ?? 1) - 1
    if (n > 0) OPEN_PATHS.set(this.path, n)
    else OPEN_PATHS.delete(this.path)
  }
}

/** Store folders open in this process, and how many times. */
const OPEN_PATHS = new Map<string, number>()

/**
 * True when the temp file `name` (`<prefix>-<pid>-…`) may belong to a live
 * writer that will still rename it: another live process, or this one when
 * the store is already open here.
 */
function writerAlive (name: string, sharedInProcess: boolean): boolean {
  const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1])
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return sharedInProcess
  return isProcessAlive(pid)
}

function applyWalk (rec: FileRecord, walk: DagWalk): FileRecord {
  rec.complete = walk.complete
  rec.blocks = walk.total == null ? { present: walk.present } : { total: walk.total, present: walk.present }
  if (walk.size != null) rec.size = walk.size
  return rec
}

async function * readFileSource (path: string, size: number, options: StoreOptions, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_SIZE, signal })
  let read = 0
  try {
    for await (const chunk of stream) {
      read += (chunk as Buffer).byteLength
      progress(options, 'store:import:read', { read, total: size })
      yield chunk as Buffer
    }
  } catch (err: any) {
    if (isAbort(err) || signal.aborted) throw signal.reason ?? err
    throw new ImportSourceError(path, `reading failed (${err?.code ?? err?.message})`)
  } finally {
    stream.destroy()
  }
}

async function * countBytes (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, total: number | undefined, options: StoreOptions, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let read = 0
  for await (const chunk of source) {
    signal.throwIfAborted()
    if (!(chunk instanceof Uint8Array)) throw new TypeError('import() sources must yield Uint8Array chunks')
    read += chunk.byteLength
    const detail: { read: number, total?: number } = { read }
    if (total != null) detail.total = total
    progress(options, 'store:import:read', detail)
    yield chunk
  }
}
