/**
 * The one way a file leaves swarmdrop for the user's folder, plain (`store.export`)
 * or decrypted (`get LINK`): the folder is checked, an existing file is kept unless
 * `overwrite`, and the bytes go through the durable writer (src/util/atomic-write.ts):
 * a temp file with a short name in the target folder, fsynced, then link()ed into place
 * (two concurrent writers cannot both win) or renamed over the old file. The target
 * never holds a partial file. Errors name the user's path, never the temp file.
 */
import { basename, dirname, resolve } from 'node:path'
import { writeFileAtomic, type AtomicData } from '../util/atomic-write.js'
import { DestinationExistsError, ExportError, fsError } from './errors.js'
import type { StoreFs } from './fs.js'
import { nodeFs } from './fs.js'

export interface WriteOutOptions {
  signal?: AbortSignal
  /** Replace an existing file (default false: DestinationExistsError, checked again at the final link()). */
  overwrite?: boolean
  /** File-system calls (the store's, so tests can inject failures). */
  fs?: StoreFs
}

/** Writes `data` to `destPath`; resolves with the bytes written. */
export async function writeOut (destPath: string, data: AtomicData, options: WriteOutOptions = {}): Promise<number> {
  const fs = options.fs ?? nodeFs
  const dest = resolve(destPath)
  const dir = dirname(dest)
  const overwrite = options.overwrite === true
  try {
    const st = await fs.stat(dir)
    if (!st.isDirectory()) throw new ExportError(dest, `${dir} is not a folder`, 'ENOTDIR')
  } catch (err: any) {
    if (err instanceof ExportError) throw err
    throw new ExportError(dest, err?.code === 'ENOENT' ? `the folder ${dir} does not exist` : `the folder ${dir} cannot be read (${err?.code ?? err?.message})`, err?.code)
  }
  try {
    if ((await fs.stat(dest)).isDirectory()) throw new ExportError(dest, 'it is a folder', 'EISDIR')
    if (!overwrite) throw new DestinationExistsError(dest)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
  }
  try {
    return await writeFileAtomic(dest, data, {
      ...(options.signal != null ? { signal: options.signal } : {}),
      // 0666 less the umask, as any program's new file (0644 usually), plain or decrypted
      mode: 0o666,
      // a short temp name: a 255-byte final name must not make it too long (ENAMETOOLONG)
      tmpPrefix: `.${basename(dest).slice(0, 40)}.swarmdrop-`,
      ifExists: overwrite ? 'replace' : 'fail',
      fs
    })
  } catch (err: any) {
    if (err?.code === 'EEXIST' && !overwrite) throw new DestinationExistsError(dest)
    if (err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS') throw new ExportError(dest, `the folder ${dir} is not writable`, err.code)
    if (err?.code === 'ENOENT') throw new ExportError(dest, `the folder ${dir} does not exist`, err.code)
    throw fsError(err, dest, 'write')
  }
}
