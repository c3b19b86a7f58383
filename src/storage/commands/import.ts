/**
 * import: a file (path, bytes or stream) or a folder (path; ../import-tree.ts)
 * becomes UnixFS blocks with the one import profile (src/content/profile.ts),
 * then its record is written.
 * Blocks are written behind the importer (up to IMPORT_WRITE_WINDOW in
 * flight); on failure the blocks this import added that no record needs are
 * removed and no record is written.
 */
import { importByteStream } from 'ipfs-unixfs-importer'
import { cidKey, FOLDER_MEDIA_TYPE, importerOptions, type CID } from '../../content/index.js'
import { BLOCK_WRITE_CONCURRENCY, FILE_IMPORT_CONCURRENCY, IMPORT_WRITE_WINDOW, MAX_RECORD_NAME_BYTES } from '../constants.js'
import { importFolder, scanFolder } from '../import-tree.js'
import type { Run, StoreContext } from '../context.js'
import { fsError } from '../errors.js'
import type { ImportInput, ImportOptions } from '../index.js'
import type { FileRecord } from '../records.js'
import { clampName, guessMediaType } from '../safe-name.js'
import { openSource } from './utils/import-source.js'
import { progress } from './utils/progress.js'
import { sweep } from './utils/sweep.js'
import { writeRecord } from './utils/walk.js'

const PROFILE = importerOptions({ blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY })
const FOLDER_PROFILE = importerOptions({ blockWriteConcurrency: BLOCK_WRITE_CONCURRENCY, fileImportConcurrency: FILE_IMPORT_CONCURRENCY })

export async function importFile (ctx: StoreContext, input: ImportInput, options: Run<ImportOptions>): Promise<FileRecord> {
  const { signal } = options
  // a folder is one UnixFS directory, its blocks written by this same writer
  const folder = typeof input === 'string' ? await scanFolder(input, options) : undefined
  const { source, defaultName } = folder != null ? { source: [], defaultName: folder.name } : await openSource(ctx, input, options, signal)
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
        return writeRecord(ctx, rec)
      })
      progress(options, 'store:import:done', { cid: key, size, blocks: distinct.size })
      ctx.log('imported %s (%s, %d bytes, %d blocks, %d new)', key, record.name, size, distinct.size, written.length)
      return record
    })
  } catch (err) {
    // let block writes still running settle, then drop the blocks this import added that no record needs (e.g. after ENOSPC)
    failed = true
    await settle().catch(() => {})
    await ctx.lock.withExclusive(async () => { await sweep(ctx, written) }).catch(e => {
      ctx.log.error('cleanup after a failed import failed: %e', e)
    })
    throw fsError(err, ctx.path, 'import into')
  }
}
