/**
 * A stored folder (a UnixFS directory, plain or HAMT-sharded) written out as a
 * tree: under a temporary `.NAME.part` folder beside the destination, each
 * file through the one durable writer, every block verified as it is read,
 * then renamed to its name at the end — so the final name never holds a
 * partial tree. A leftover `.NAME.part` of a killed run is replaced (its
 * blocks are in the store: nothing is fetched again). Every link name is
 * checked by src/content's one rule and duplicates refused (listFolder), every
 * path checked to stay inside the folder, depth and entries bounded: a
 * hostile DAG is refused with UnsafePathError and leaves nothing.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { exporter } from 'ipfs-unixfs-exporter'
import { syncDir, writeFileAtomic } from '../util/atomic-write.js'
import { cidKey, listFolder, MAX_TREE_DEPTH, MAX_TREE_ENTRIES, parseCid, TreeLimitError, UnsafePathError, type CID } from '../content/index.js'
import { BLOCK_READ_CONCURRENCY } from './constants.js'
import type { Run, StoreContext } from './context.js'
import { DestinationExistsError, ExportError, NotAFileError, fsError } from './errors.js'
import type { ExportOptions } from './index.js'
import { progress } from './commands/utils/progress.js'
import { afterCorrupt } from './commands/utils/sweep.js'

/** What a folder export wrote. */
export interface FolderExport {
  files: number
  folders: number
  bytes: number
  /** Entries that are neither files nor folders (UnixFS symlinks, ...), not written. */
  skipped: number
}

export async function exportFolder (ctx: StoreContext, cid: string | CID, destPath: string, options: Run<ExportOptions>): Promise<FolderExport> {
  const { signal } = options
  const root = parseCid(cid)
  const key = cidKey(root)
  const dest = resolve(destPath)
  const dir = dirname(dest)
  try {
    if (!(await stat(dir)).isDirectory()) throw new ExportError(dest, `${dir} is not a folder`, 'ENOTDIR')
  } catch (err: any) {
    if (err instanceof ExportError) throw err
    throw new ExportError(dest, err?.code === 'ENOENT' ? `the folder ${dir} does not exist` : `the folder ${dir} cannot be read (${err?.code ?? err?.message})`, err?.code)
  }
  const exists = await stat(dest).then(() => true, () => false)
  if (exists && options.overwrite === false) throw new DestinationExistsError(dest)
  const part = join(dir, `.${basename(dest)}.part`)
  const verify = options.verify ?? true
  const reader = {
    get: async function * (c: CID, o: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
      const bytes = await ctx.blocks.read(c, { verify, signal: o.signal ?? signal })
      progress(options, 'store:export:block', { cid: cidKey(c), bytes: bytes.byteLength })
      yield bytes
    }
  }
  const getBlock = async (c: CID, o: { signal?: AbortSignal }): Promise<Uint8Array> => ctx.blocks.read(c, { verify, signal: o.signal ?? signal })
  const done: FolderExport = { files: 0, folders: 0, bytes: 0, skipped: 0 }
  let entries = 0
  const writeTree = async (folder: CID, abs: string, rel: string, depth: number): Promise<void> => {
    await mkdir(abs, { mode: 0o755 })
    done.folders++
    for await (const link of listFolder(getBlock, folder, rel === '' ? basename(dest) : `${basename(dest)}/${rel}`, { signal })) {
      signal.throwIfAborted()
      if (++entries > MAX_TREE_ENTRIES) throw new TreeLimitError(dest, `the folder holds more than ${MAX_TREE_ENTRIES} entries`)
      const target = join(abs, link.name)
      const childRel = rel === '' ? link.name : `${rel}/${link.name}`
      // listFolder checked the name; this is the belt to its braces
      if (dirname(target) !== abs) throw new UnsafePathError(childRel, 'it leaves its folder')
      const entry = await exporter(cidKey(link.cid), reader, { signal })
      if (entry.type === 'directory') {
        if (depth + 1 > MAX_TREE_DEPTH) throw new TreeLimitError(dest, `the folder is nested more than ${MAX_TREE_DEPTH} levels deep`)
        await writeTree(link.cid, target, childRel, depth + 1)
      } else if (entry.type === 'file' || entry.type === 'raw') {
        let written = 0
        const bytes = async function * (): AsyncGenerator<Uint8Array> {
          for await (const chunk of entry.content({ signal, blockReadConcurrency: BLOCK_READ_CONCURRENCY })) {
            if (options.maxBytes != null && done.bytes + written + chunk.byteLength > options.maxBytes) {
              throw new TreeLimitError(dest, `its files hold more than the ${options.maxBytes} bytes it was announced with (a DAG that links the same blocks many times?)`)
            }
            yield chunk
            written += chunk.byteLength
          }
        }
        await writeFileAtomic(target, bytes(), { signal, mode: 0o644, tmpPrefix: '.swarmdrop-', ifExists: 'fail', fs: ctx.fs })
        done.files++
        done.bytes += written
        progress(options, 'store:export:file', { cid: key, path: childRel, size: written, files: done.files, bytes: done.bytes })
      } else {
        done.skipped++
        progress(options, 'store:export:skipped', { cid: key, path: childRel, reason: `a UnixFS ${entry.type === 'object' ? 'non-UnixFS node' : String((entry as any).unixfs?.type ?? entry.type)}` })
      }
    }
  }
  try {
    const top = await exporter(key, reader, { signal })
    if (top.type !== 'directory') throw new NotAFileError(key, top.type === 'raw' || top.type === 'file' ? 'file, not a folder' : top.type)
    // a killed run's leftover: its blocks are in the store, so writing it again costs no network
    await rm(part, { recursive: true, force: true })
    await writeTree(root, part, '', 0)
    if (exists) await rm(dest, { recursive: true, force: true })
    await rename(part, dest)
    await syncDir(dir, ctx.fs)
  } catch (err: any) {
    await rm(part, { recursive: true, force: true }).catch(() => {})
    if (err?.name === 'CorruptBlockError') await afterCorrupt(ctx, err.cid)
    if (err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS') throw new ExportError(dest, `the folder ${dir} is not writable`, err.code)
    throw fsError(err, dest, 'write')
  }
  progress(options, 'store:export:done', { cid: key, path: dest, size: done.bytes })
  return done
}
