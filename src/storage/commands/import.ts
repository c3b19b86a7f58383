/**
 * import: a file (path, bytes or stream) or a folder (path; ../import-tree.ts)
 * becomes UnixFS blocks with the one import profile (src/content/profile.ts),
 * then its record is written.
 * Blocks are written behind the importer (up to IMPORT_WRITE_WINDOW in
 * flight); on failure the blocks this import added that no record needs are
 * removed and no record is written.
 */
import type { Stats } from 'node:fs'
import { resolve } from 'node:path'
import { importByteStream } from 'ipfs-unixfs-importer'
import { cidKey, FOLDER_MEDIA_TYPE, importerOptions, RAW_CODEC, type CID } from '../../content/index.js'
import { BLOCK_WRITE_CONCURRENCY, FILE_IMPORT_CONCURRENCY, IMPORT_WRITE_WINDOW, MAX_RECORD_NAME_BYTES } from '../constants.js'
import { importFolder, scanFolder } from '../import-tree.js'
import type { Run, StoreContext } from '../context.js'
import { fsError, ImportSourceError, NoSpaceError, NotByReferenceError } from '../errors.js'
import type { ImportInput, ImportOptions } from '../index.js'
import type { FileRecord } from '../records.js'
import { clampName, guessMediaType } from '../safe-name.js'
import { openSource } from './utils/import-source.js'
import { progress } from './utils/progress.js'
import { sweep } from './utils/sweep.js'
import { writeRecord } from './utils/walk.js'
import { checkUnchanged, leafLayout, manifest } from './utils/reference.js'

const PROFILE = importerOptions({ blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY })
const FOLDER_PROFILE = importerOptions({ blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY, fileImportConcurrency: FILE_IMPORT_CONCURRENCY })

export async function importFile (ctx: StoreContext, input: ImportInput, options: Run<ImportOptions>): Promise<FileRecord> {
  const { signal } = options
  // a folder is one UnixFS directory, its blocks written by this same writer
  const folder = typeof input === 'string' ? await scanFolder(input, options) : undefined
  // a folder is copied: a reference names one file (its manifest maps leaves to offsets in it)
  const byReference = options.byReference === true && folder == null
  let refPath: string | undefined
  let before: Stats | undefined
  if (byReference) {
    if (typeof input !== 'string') throw new NotByReferenceError('only a file given by its path can be kept by reference')
    if (options.encrypted === true) throw new NotByReferenceError('encrypted content differs from the file on disk')
    refPath = resolve(input)
    before = await ctx.fs.stat(refPath).catch(() => undefined)
  }
  const { source, defaultName } = folder != null ? { source: [], defaultName: folder.name } : await openSource(ctx, input, options, signal)
  const distinct = new Set<string>()
  /** By reference: each leaf's length (the leaf itself is not written). */
  const leafLengths = new Map<string, number>()
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
      if (byReference && cid.code === RAW_CODEC) {
        const key = cidKey(cid)
        leafLengths.set(key, bytes.byteLength)
        distinct.add(key)
        progress(options, 'store:import:block', { cid: key, bytes: bytes.byteLength, written: false })
        return cid
      }
      const p: Promise<void> = ctx.blocks.write(cid, bytes, {
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
    return await ctx.lock.withShared(async () => {
      const result = folder != null ? await importFolder(folder, storage, FOLDER_PROFILE, options) : await importByteStream(source, storage, PROFILE)
      await settle()
      signal.throwIfAborted()
      const key = cidKey(result.cid)
      // result.size of a dag-pb root is the DAG's size (blocks included); the file's size is in its UnixFS data
      const size = folder != null ? folder.bytes : Number(result.unixfs?.fileSize() ?? result.size)
      if (refPath != null && before != null) {
        checkUnchanged(refPath, before, await ctx.fs.stat(refPath))
        const leaves = await leafLayout(ctx, result.cid, async (c) => leafLengths.get(cidKey(c)), signal)
        // the manifest is durable before the record that counts on it
        await ctx.blocks.flush()
        await ctx.mutex.run(key, async () => { await ctx.refs.put(manifest(key, refPath, before, leaves)) })
      }
      const record = await ctx.mutex.run(key, async () => {
        const old = ctx.records.get(key)
        const name = clampName(options.name ?? defaultName ?? old?.name ?? key, MAX_RECORD_NAME_BYTES)
        const rec: FileRecord = {
          cid: key,
          name,
          size,
          mediaType: folder != null ? FOLDER_MEDIA_TYPE : options.mediaType ?? old?.mediaType ?? guessMediaType(name),
          added: old?.added ?? Date.now(),
          pinned: (old?.pinned ?? false) || (options.pin ?? true),
          complete: true,
          blocks: { total: distinct.size, present: distinct.size }
        }
        const encrypted = options.encrypted ?? old?.encrypted
        if (encrypted != null) rec.encrypted = encrypted
        if (folder != null) rec.files = folder.files
        const written = await writeRecord(ctx, rec)
        // a copy of a file that was kept by reference: its leaves are blocks now
        if (!byReference) await ctx.refs.delete(key)
        return written
      })
      progress(options, 'store:import:done', { cid: key, size, blocks: distinct.size })
      ctx.log('imported %s (%s, %d bytes, %d blocks, %d new%s)', key, record.name, size, distinct.size, written.length, byReference ? ', leaves by reference' : '')
      return record
    })
  } catch (err) {
    // let block writes still running settle, then drop the blocks this import added that no record needs (e.g. after ENOSPC)
    failed = true
    await settle().catch(() => {})
    await ctx.lock.withExclusive(async () => { await sweep(ctx, written) }).catch(e => {
      ctx.log.error('cleanup after a failed import failed: %e', e)
    })
    const named = fsError(err, ctx.path, 'import into')
    // a full disk names the file being imported, not a block's path
    if (named instanceof NoSpaceError) throw new NoSpaceError(ctx.path, named.code, { file: typeof input === 'string' ? resolve(input) : (options.name ?? 'the imported bytes'), kept: 'nothing of it was kept' })
    if (named instanceof ImportSourceError) throw named
    throw named
  }
}
