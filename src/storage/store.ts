/**
 * DiskStore: the content-addressed store of one repository, a thin class
 * whose methods each hand off to a function in commands/<verb>.ts (Helia's
 * unixfs layout). The class owns the lifecycle: a public operation is
 * refused once closed, aborted by close(), and awaited by close().
 *
 * `<repo>/store/` holds `VERSION`, `blocks/` (FsBlockstore), `records/`
 * (RecordStore), `tmp/` (temp files, emptied at open) and `corrupt/`
 * (blocks found corrupt, emptied by gc) and `dirty/` (markers of writers
 * with blocks not yet fsynced, journal.ts). Blocks are written whole and
 * fsynced before the record that names them, so a crash at any point leaves
 * either the old or the new record, never a record that lies about a block
 * it counts as present; a kill leaves no block file with wrong bytes, and
 * after a power cut the next open verifies the blocks written since the
 * last batch fsync and moves a partial one aside.
 */
import { resolve } from 'node:path'
import { createComponentLogger } from '../util/logger.js'
import { cidKey, parseCid, type BlockBytes, type CID } from '../content/index.js'
import { FsBlockstore } from './blockstore.js'
import type { Run, StoreContext } from './context.js'
import { StoreClosedError } from './errors.js'
import { resolveFs } from './fs.js'
import { KeyedMutex, SharedLock } from './lock.js'
import { recoverUnsynced } from './journal.js'
import { closeFolder, openFolder } from './open.js'
import { RecordStore, type FileRecord } from './records.js'
import { RefStore, type BrokenReference } from './refs.js'
import { cat } from './commands/cat.js'
import { exportFile } from './commands/export.js'
import { exportFolder, type FolderExport } from './export-tree.js'
import { fsck } from './commands/fsck.js'
import { gc } from './commands/gc.js'
import { getBlock } from './commands/get-block.js'
import { importFile } from './commands/import.js'
import { missing } from './commands/missing.js'
import { setPinned } from './commands/pin.js'
import { putBlock } from './commands/put-block.js'
import { reference } from './commands/reference.js'
import { remove } from './commands/remove.js'
import { stat } from './commands/stat.js'
import { track } from './commands/track.js'
import type {
  CatOptions, ExportOptions, FsckOptions, FsckResult, GcOptions, GcResult, GetBlockOptions, ImportInput, ImportOptions,
  PutBlockOptions, Store, StoreComponents, StoreInit, StoreOptions, StoreStat, TrackMeta
} from './index.js'

export class DiskStore implements Store {
  readonly path: string
  private readonly ctx: StoreContext
  private readonly closing = new AbortController()
  private readonly active = new Set<Promise<unknown>>()
  private closed = false

  private constructor (ctx: StoreContext) {
    this.path = ctx.path
    this.ctx = ctx
  }

  static async open (init: StoreInit, components: StoreComponents = {}): Promise<DiskStore> {
    const path = resolve(init.path)
    const fs = resolveFs(init.fs)
    const log = (components.logger ?? createComponentLogger()).forComponent('storage')
    const sharedInProcess = await openFolder(path, fs)
    const refs = new RefStore(path, fs, log)
    const blocks = new FsBlockstore(path, fs, undefined, refs, log)
    const records = new RecordStore(path, fs)
    let badRecords: string[]
    try {
      await recoverUnsynced(path, fs, blocks, sharedInProcess, log)
      badRecords = await records.load()
      const badRefs = await refs.load()
      if (badRefs.length > 0) log.error('%d unreadable reference manifests in %s: %s', badRefs.length, path, badRefs.join(', '))
    } catch (err) {
      closeFolder(path)
      throw err
    }
    if (badRecords.length > 0) log.error('%d unreadable records in %s: %s', badRecords.length, path, badRecords.join(', '))
    return new DiskStore({
      path, fs, records, refs, badRecords, log, blocks, lock: new SharedLock(), mutex: new KeyedMutex()
    })
  }

  /** The caller's signal joined with the store's close. */
  private signal (options: StoreOptions): AbortSignal {
    return options.signal == null ? this.closing.signal : AbortSignal.any([options.signal, this.closing.signal])
  }

  /** Runs a public operation: refused once closed, aborted by close(), awaited by close(). */
  private async run<O extends StoreOptions, T> (options: O, fn: (options: Run<O>) => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    const p = fn({ ...options, signal: this.signal(options) })
    this.active.add(p)
    try {
      return await p
    } finally {
      this.active.delete(p)
    }
  }

  async import (input: ImportInput, options: ImportOptions = {}): Promise<FileRecord> {
    return this.run(options, async (o) => importFile(this.ctx, input, o))
  }

  async export (cid: string | CID, destPath: string, options: ExportOptions = {}): Promise<void> {
    return this.run(options, async (o) => exportFile(this.ctx, cid, destPath, o))
  }

  async exportFolder (cid: string | CID, destPath: string, options: ExportOptions = {}): Promise<FolderExport> {
    return this.run(options, async (o) => exportFolder(this.ctx, cid, destPath, o))
  }

  async * cat (cid: string | CID, options: CatOptions = {}): AsyncGenerator<Uint8Array> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    const stream = cat(this.ctx, cid, { ...options, signal: this.signal(options) })
    let finish = (): void => {}
    const done = new Promise<void>(resolve => { finish = resolve })
    this.active.add(done)
    try {
      yield * stream
    } finally {
      finish()
      this.active.delete(done)
    }
  }

  async has (cid: string | CID, options: StoreOptions = {}): Promise<boolean> {
    return this.run(options, async (o) => this.ctx.blocks.has(parseCid(cid), o))
  }

  async getBlock (cid: string | CID, options: GetBlockOptions = {}): Promise<Uint8Array> {
    return this.run(options, async (o) => getBlock(this.ctx, cid, o))
  }

  verifiedHere (cid: string | CID, length: number): boolean {
    try {
      return this.ctx.blocks.verified.has(cidKey(parseCid(cid)), length)
    } catch {
      return false
    }
  }

  async putBlock (cid: string | CID, bytes: BlockBytes, options: PutBlockOptions = {}): Promise<void> {
    return this.run(options, async (o) => putBlock(this.ctx, cid, bytes, o))
  }

  async track (cid: string | CID, meta: TrackMeta, options: StoreOptions = {}): Promise<FileRecord> {
    return this.run(options, async (o) => track(this.ctx, cid, meta, o))
  }

  async missing (cid: string | CID, options: StoreOptions = {}): Promise<string[]> {
    return this.run(options, async (o) => missing(this.ctx, cid, o))
  }

  async get (cid: string | CID, options: StoreOptions = {}): Promise<FileRecord | undefined> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    const rec = this.ctx.records.get(cidKey(parseCid(cid)))
    return rec == null ? undefined : this.withReference(rec)
  }

  async list (options: StoreOptions = {}): Promise<FileRecord[]> {
    if (this.closed) throw new StoreClosedError()
    options.signal?.throwIfAborted()
    return Promise.all(this.ctx.records.list().map(async r => this.withReference(r)))
  }

  /** A record with how its reference (if any) looks now. */
  private async withReference (rec: FileRecord): Promise<FileRecord> {
    const info = await this.ctx.refs.state(rec.cid)
    if (info != null) rec.reference = info
    return rec
  }

  async reference (cid: string | CID, path: string, options: StoreOptions = {}): Promise<GcResult> {
    return this.run(options, async (o) => reference(this.ctx, cid, path, o))
  }

  async pin (cid: string | CID, options: StoreOptions = {}): Promise<void> {
    await this.run(options, async () => { await setPinned(this.ctx, cid, true) })
  }

  async unpin (cid: string | CID, options: StoreOptions = {}): Promise<void> {
    await this.run(options, async () => { await setPinned(this.ctx, cid, false) })
  }

  async remove (cid: string | CID, options: StoreOptions = {}): Promise<void> {
    await this.run(options, async (o) => { await remove(this.ctx, cid, o) })
  }

  async gc (options: GcOptions = {}): Promise<GcResult> {
    return this.run(options, async (o) => gc(this.ctx, o))
  }

  onReferenceBroken (fn: (event: BrokenReference) => void): () => void {
    return this.ctx.refs.onBroken(fn)
  }

  async stat (options: StoreOptions = {}): Promise<StoreStat> {
    return this.run(options, async (o) => stat(this.ctx, o))
  }

  async fsck (options: FsckOptions = {}): Promise<FsckResult> {
    return this.run(options, async (o) => fsck(this.ctx, o))
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.closing.abort(new StoreClosedError())
    await Promise.allSettled([...this.active])
    await this.ctx.blocks.flush().catch(err => { this.ctx.log.error('flush at close failed: %e', err) })
    closeFolder(this.path)
  }
}
