/**
 * The one durable writer of swarmdrop: a file appears under its final name
 * whole or not at all, and stays there after a crash or a power cut.
 *
 *   temp file (created exclusively, in the same file system) → write → fsync →
 *   close → rename over the target (or link() when the target must not exist)
 *   → fsync of the target's folder
 *
 * On any failure the temp file is removed and the error rethrown as it came
 * (callers name it: the store's fsError, the CLI's messages). Used by the
 * store (blocks, records, VERSION, export), the node identity and the CLI.
 *
 * Hand-written rather than `write-file-atomic` (npm): that package neither
 * offers a link()-if-absent mode nor a replaceable fs (the store's tests inject
 * ENOSPC and EACCES through it), nor a folder fsync.
 */
import type * as fss from 'node:fs'
import * as fsp from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'

/** The file-system calls the writer uses; tests replace some to inject failures. */
export interface AtomicFs {
  open: typeof fsp.open
  rename: typeof fsp.rename
  link: typeof fsp.link
  unlink: typeof fsp.unlink
}

/** The calls writeFileAtomicSync makes. */
export interface AtomicFsSync {
  openSync: typeof fss.openSync
  writevSync: typeof fss.writevSync
  writeSync: typeof fss.writeSync
  closeSync: typeof fss.closeSync
  renameSync: typeof fss.renameSync
  unlinkSync: typeof fss.unlinkSync
}

type Handle = Awaited<ReturnType<typeof fsp.open>>

export type AtomicData = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

export interface AtomicWriteOptions {
  signal?: AbortSignal
  /** Folder of the temp file (default: the target's folder); must be on the target's file system. */
  tmpDir?: string
  /** Start of the temp file's name (default `.<target name>.`); the writer's pid follows, so a sweep can tell live writers from crashed ones. */
  tmpPrefix?: string
  /** Mode of the new file (default 0o600). */
  mode?: number
  /** `'replace'` (default): rename over an existing target. `'fail'`: link() into place, EEXIST if the target exists. */
  ifExists?: 'replace' | 'fail'
  /**
   * fsync the file before the rename (default true). false only for a caller that
   * fsyncs the file itself before anything counts on it (the store's blocks, in
   * batches): until then a power cut may leave the target empty or partial.
   */
  sync?: boolean
  /** fsync the target's folder after the rename (default true). The store turns it off for blocks and syncs shard folders in batches. */
  syncDir?: boolean
  /** Replaces some file-system calls (default node's `fs/promises`). */
  fs?: Partial<AtomicFs>
}

const nodeFs: AtomicFs = { open: fsp.open, rename: fsp.rename, link: fsp.link, unlink: fsp.unlink }

let counter = 0

/** A fresh temp file name inside `dir`: `<prefix><pid>-<n>-<random>.tmp`. */
export function tempName (dir: string, prefix = ''): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return join(dir, `${prefix}${process.pid}-${counter}-${randomBytes(4).toString('hex')}.tmp`)
}

/** Writes all of `bytes` to an open file (a write may be short). */
export async function writeAll (fh: Handle, bytes: Uint8Array): Promise<void> {
  let off = 0
  while (off < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    off += bytesWritten
  }
}

/** Writes every chunk with one writev (the rest, after a short write, chunk by chunk); resolves with the bytes written. */
export async function writevAll (fh: Handle, bufs: Uint8Array[]): Promise<number> {
  const total = totalOf(bufs)
  let { bytesWritten } = await fh.writev(bufs)
  if (bytesWritten >= total) return total
  for (const b of bufs) {
    if (bytesWritten >= b.byteLength) {
      bytesWritten -= b.byteLength
      continue
    }
    await writeAll(fh, b.subarray(bytesWritten))
    bytesWritten = 0
  }
  return total
}

/** writevAll with synchronous calls. */
function writevAllSync (fs: AtomicFsSync, fd: number, bufs: Uint8Array[]): number {
  const total = totalOf(bufs)
  let bytesWritten = fs.writevSync(fd, bufs)
  if (bytesWritten >= total) return total
  for (const b of bufs) {
    if (bytesWritten >= b.byteLength) {
      bytesWritten -= b.byteLength
      continue
    }
    for (let off = bytesWritten; off < b.byteLength;) {
      const n = fs.writeSync(fd, b, off, b.byteLength - off)
      if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
      off += n
    }
    bytesWritten = 0
  }
  return total
}

function totalOf (bufs: Uint8Array[]): number {
  let total = 0
  for (const b of bufs) {
    if (!(b instanceof Uint8Array)) throw new TypeError('writeFileAtomic: data must be Uint8Array chunks')
    total += b.byteLength
  }
  return total
}

/** fsyncs a file already written and closed (by its path). */
export async function syncFile (path: string, fs: Pick<AtomicFs, 'open'> = nodeFs): Promise<void> {
  const fh = await fs.open(path, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** fsyncs a folder so renames into it survive a power cut. Not possible on every platform: then a no-op. */
export async function syncDir (dir: string, fs: Pick<AtomicFs, 'open'> = nodeFs): Promise<void> {
  let fh: Handle | undefined
  try {
    fh = await fs.open(dir, 'r')
    await fh.sync()
  } catch (err: any) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES', 'EBADF'].includes(err?.code)) throw err
  } finally {
    await fh?.close().catch(() => {})
  }
}

/**
 * Writes `data` to `path` durably and atomically (see the file header).
 * With `ifExists: 'fail'` an existing target is left alone and the error has
 * code EEXIST. Resolves with the bytes written.
 */
export async function writeFileAtomic (path: string, data: AtomicData, options: AtomicWriteOptions = {}): Promise<number> {
  options.signal?.throwIfAborted()
  const fs: AtomicFs = { ...nodeFs, ...options.fs }
  const tmp = tempName(options.tmpDir ?? dirname(path), options.tmpPrefix ?? `.${basename(path).slice(0, 64)}.`)
  let fh: Handle | undefined
  let created = false
  let written = 0
  try {
    fh = await fs.open(tmp, 'wx', options.mode ?? 0o600)
    created = true
    if (!(data instanceof Uint8Array) && Symbol.iterator in data) {
      // chunks in memory (a block as it came off the network): one writev, not a copy into one buffer
      written = await writevAll(fh, [...data])
    } else {
      for await (const chunk of chunks(data)) {
        options.signal?.throwIfAborted()
        await writeAll(fh, chunk)
        written += chunk.byteLength
      }
    }
    if (options.sync !== false) await fh.sync()
    const h = fh
    fh = undefined
    await h.close()
    if (options.ifExists === 'fail') {
      // link() fails with EEXIST if the target exists: a concurrent writer that won keeps its file
      await fs.link(tmp, path)
      await fs.unlink(tmp)
    } else {
      await fs.rename(tmp, path)
    }
    created = false
    if (options.syncDir !== false) await syncDir(dirname(path), fs)
    return written
  } catch (err) {
    await fh?.close().catch(() => {})
    if (created) await fs.unlink(tmp).catch(() => {})
    throw err
  }
}

/**
 * writeFileAtomic in synchronous calls, for a caller that fsyncs the file and its folder
 * itself, in batches, before anything counts on it (the store's blocks: blockstore.ts says why
 * it writes them with synchronous calls). temp file → write → close → rename over the target;
 * on any failure the temp file is removed and the error rethrown as it came. Returns the bytes written.
 */
export function writeFileAtomicSync (path: string, chunks: Uint8Array[], options: { tmpDir: string, tmpPrefix: string, mode?: number, fs: AtomicFsSync }): number {
  const fs = options.fs
  const tmp = tempName(options.tmpDir, options.tmpPrefix)
  let fd: number | undefined
  let created = false
  try {
    fd = fs.openSync(tmp, 'wx', options.mode ?? 0o600)
    created = true
    const written = writevAllSync(fs, fd, chunks)
    const f = fd
    fd = undefined
    fs.closeSync(f)
    fs.renameSync(tmp, path)
    return written
  } catch (err) {
    if (fd != null) try { fs.closeSync(fd) } catch {}
    if (created) try { fs.unlinkSync(tmp) } catch {}
    throw err
  }
}

async function * chunks (data: AtomicData): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data
    return
  }
  for await (const chunk of data) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('writeFileAtomic: data must be Uint8Array chunks')
    yield chunk
  }
}
