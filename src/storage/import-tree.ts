/**
 * A folder on disk as one UnixFS directory: the tree is scanned first (files,
 * subfolders, empty folders; symbolic links and special files are skipped with
 * a `store:import:skipped` event; every name checked by src/content's one
 * rule, a hostile one refused naming the file; depth and entry limits of the
 * profile), then handed to ipfs-unixfs-importer as `NAME/rel/path` entries in
 * a fixed order, writing through the same block writer as a single file
 * (commands/import.ts). The root CID is that of `ipfs add -r --cid-version 1
 * --raw-leaves` with the profile's chunker and layout (docs/PROTOCOL.md).
 */
import { createReadStream } from 'node:fs'
import { lstat, readdir, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { importer, type ImportCandidate, type ImporterOptions, type ImportResult } from 'ipfs-unixfs-importer'
import { CHUNK_SIZE, MAX_TREE_DEPTH, MAX_TREE_ENTRIES, TreeLimitError, unsafeNameReason } from '../content/index.js'
import { ImportSourceError } from './errors.js'
import type { StoreOptions } from './index.js'
import { progress } from './commands/utils/progress.js'

/** A scanned folder, ready to import. */
export interface FolderScan {
  /** Absolute path of the folder. */
  path: string
  /** Its name: the root of the UnixFS tree. */
  name: string
  /** Entries below the root, parents before children, in code-unit order of their names. */
  entries: Array<{ rel: string, abs: string, size?: number, empty?: boolean }>
  /** Regular files and their bytes. */
  files: number
  bytes: number
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Scans `input` when it is a folder (undefined when it is anything else: the caller imports it as a file). */
export async function scanFolder (input: string, options: StoreOptions): Promise<FolderScan | undefined> {
  const path = resolve(input)
  const st = await stat(path).catch(() => undefined)
  if (st?.isDirectory() !== true) return undefined
  const name = basename(path)
  const reason = unsafeNameReason(name)
  if (reason != null) throw new ImportSourceError(path, `the folder's name cannot be shared (${reason})`)
  const scan: FolderScan = { path, name, entries: [], files: 0, bytes: 0 }
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    options.signal?.throwIfAborted()
    let names: string[]
    try {
      names = await readdir(dir)
    } catch (err: any) {
      throw new ImportSourceError(dir, `the folder cannot be read (${err?.code ?? err?.message})`)
    }
    names.sort(compare)
    for (const n of names) {
      const abs = join(dir, n)
      const r = rel === '' ? n : `${rel}/${n}`
      const why = unsafeNameReason(n)
      if (why != null) throw new ImportSourceError(abs, `its name cannot be shared (${why}); rename it or move it out of the folder`)
      let s
      try {
        s = await lstat(abs)
      } catch (err: any) {
        throw new ImportSourceError(abs, `it cannot be read (${err?.code ?? err?.message})`)
      }
      if (s.isSymbolicLink()) {
        progress(options, 'store:import:skipped', { path: abs, reason: 'a symbolic link' })
        continue
      }
      if (!s.isFile() && !s.isDirectory()) {
        progress(options, 'store:import:skipped', { path: abs, reason: 'not a regular file' })
        continue
      }
      if (scan.entries.length >= MAX_TREE_ENTRIES) throw new TreeLimitError(path, `the folder holds more than ${MAX_TREE_ENTRIES} entries`)
      if (s.isDirectory()) {
        if (depth + 1 > MAX_TREE_DEPTH) throw new TreeLimitError(abs, `the folder is nested more than ${MAX_TREE_DEPTH} levels deep`)
        const folder: FolderScan['entries'][number] = { rel: r, abs }
        scan.entries.push(folder)
        const before = scan.entries.length
        await walk(abs, r, depth + 1)
        if (scan.entries.length === before) folder.empty = true
      } else {
        scan.entries.push({ rel: r, abs, size: s.size })
        scan.files++
        scan.bytes += s.size
      }
    }
  }
  await walk(path, '', 0)
  return scan
}

/** Imports a scanned folder through `blockstore` (the single-file import's block writer); resolves to the root. */
export async function importFolder (scan: FolderScan, blockstore: { put: (cid: any, bytes: Uint8Array) => Promise<any> }, profile: ImporterOptions, options: StoreOptions & { signal: AbortSignal }): Promise<ImportResult> {
  let read = 0
  const signal = options.signal
  const content = async function * (abs: string): AsyncGenerator<Uint8Array> {
    const stream = createReadStream(abs, { highWaterMark: CHUNK_SIZE, signal })
    try {
      for await (const chunk of stream) {
        read += (chunk as Buffer).byteLength
        progress(options, 'store:import:read', { read, total: scan.bytes })
        yield chunk as Buffer
      }
    } catch (err: any) {
      if (signal.aborted) throw signal.reason ?? err
      throw new ImportSourceError(abs, `reading failed (${err?.code ?? err?.message})`)
    } finally {
      stream.destroy()
    }
  }
  const candidates = function * (): Generator<ImportCandidate> {
    // an empty folder is still a folder (the root is not given otherwise: the importer would write an extra, empty, directory block)
    if (scan.entries.length === 0) yield { path: scan.name }
    for (const e of scan.entries) {
      const path = `${scan.name}/${e.rel}`
      // a folder is given only when empty: one with entries follows from their paths (given itself, the importer would write an empty directory block for it first)
      if (e.size == null) {
        if (e.empty === true) yield { path }
      } else {
        yield { path, content: content(e.abs) }
      }
    }
  }
  let root: ImportResult | undefined
  for await (const entry of importer(candidates(), blockstore as any, profile)) {
    if (entry.path === scan.name) root = entry
  }
  if (root == null) throw new ImportSourceError(scan.path, 'the importer returned no root folder')
  return root
}
