/**
 * `get` checks where a file will go BEFORE the first block is fetched: the folder exists and
 * takes a new file, the file is not there already (unless `force`), and the disk has room
 * when the size is known. A failed check costs no download.
 */
import { randomBytes } from 'node:crypto'
import { open, stat, statfs, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { NotEnoughSpaceError, OutputExistsError, OutputFolderError } from '../errors.js'

export interface DestinationCheck {
  /** Replace an existing file. */
  force?: boolean
  /** Bytes the file will take, when known (the catalog's size). */
  size?: number
  /** The output is a folder (a shared folder is fetched): an existing folder there is replaced only with `force`. */
  folder?: boolean
  /** Free bytes of the disk holding `dir` (tests inject it; default: statfs). */
  freeBytes?: (dir: string) => Promise<number>
}

async function statfsFree (dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Throws OutputExistsError, OutputFolderError or NotEnoughSpaceError; resolves when `path` can be written. */
export async function checkDestination (path: string, options: DestinationCheck = {}): Promise<void> {
  const dir = dirname(path)
  const existing = await stat(path).catch(() => undefined)
  if (existing?.isDirectory() === true && options.folder !== true) throw new OutputFolderError(path, 'it is a folder (end -o with / to write inside it)', 'EISDIR')
  if (existing != null && options.force !== true) throw new OutputExistsError(path)
  // a probe file: the one test of "can write here" that also holds for root, ACLs and read-only mounts
  const probe = join(dir, `.${basename(path).slice(0, 40)}.${randomBytes(4).toString('hex')}.probe`)
  try {
    const fh = await open(probe, 'wx', 0o600)
    await fh.close()
    await unlink(probe).catch(() => {})
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') throw new OutputFolderError(path, `the folder ${dir} does not exist`, err.code, dir)
    if (err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS') throw new OutputFolderError(path, `the folder ${dir} is not writable${err.code === 'EROFS' ? ' (a read-only file system)' : ''}`, err.code, dir)
    throw err
  }
  if (options.size != null && options.size > 0) {
    const free = await (options.freeBytes ?? statfsFree)(dir).catch(() => Infinity)
    // the file replaced by --force gives its room back
    const needed = options.size - (existing?.size ?? 0)
    if (needed > free) throw new NotEnoughSpaceError(path, options.size, free)
  }
}
