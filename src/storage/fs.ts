/**
 * The file-system layer of the store: node's `fs/promises`, replaceable
 * function by function (`createStore({ path, fs: { open } })`) so tests can
 * inject failures such as ENOSPC. Every durable write goes through
 * writeDurable(): temp file, write, fsync, close, then the caller renames.
 */
import * as fsp from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'

export interface StoreFs {
  open: typeof fsp.open
  rename: typeof fsp.rename
  unlink: typeof fsp.unlink
  link: typeof fsp.link
  mkdir: typeof fsp.mkdir
  readdir: typeof fsp.readdir
  stat: typeof fsp.stat
  readFile: typeof fsp.readFile
  rm: typeof fsp.rm
}

export const nodeFs: StoreFs = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  link: fsp.link,
  mkdir: fsp.mkdir,
  readdir: fsp.readdir,
  stat: fsp.stat,
  readFile: fsp.readFile,
  rm: fsp.rm
}

export function resolveFs (overrides?: Partial<StoreFs>): StoreFs {
  return { ...nodeFs, ...overrides }
}

type Handle = Awaited<ReturnType<typeof fsp.open>>

/** Writes all of `bytes` (a write may be short). */
export async function writeAll (fh: Handle, bytes: Uint8Array): Promise<void> {
  let off = 0
  while (off < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, off, bytes.byteLength - off)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    off += bytesWritten
  }
}

/**
 * Creates `path` (which must not exist), writes the chunks, fsyncs and
 * closes it. On any failure the file is removed and the error rethrown.
 */
export async function writeDurable (fs: StoreFs, path: string, chunks: Uint8Array | Uint8Array[], mode = 0o600): Promise<void> {
  let fh: Handle | undefined
  try {
    fh = await fs.open(path, 'wx', mode)
    for (const c of Array.isArray(chunks) ? chunks : [chunks]) await writeAll(fh, c)
    await fh.sync()
    const h = fh
    fh = undefined
    await h.close()
  } catch (err) {
    await fh?.close().catch(() => {})
    await fs.unlink(path).catch(() => {})
    throw err
  }
}

/** fsyncs a directory so renames into it survive a power cut. Not possible on every platform: then a no-op. */
export async function syncDir (fs: StoreFs, dir: string): Promise<void> {
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

let counter = 0

/** A fresh temp file name inside `dir`: `<prefix><pid>-<n>-<random>.tmp`. */
export function tempName (dir: string, prefix = ''): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return join(dir, `${prefix}${process.pid}-${counter}-${randomBytes(4).toString('hex')}.tmp`)
}
