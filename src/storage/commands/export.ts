/**
 * export: writes a file to a path with the one durable writer
 * (src/util/atomic-write.ts): a temp file in the target folder, fsynced,
 * renamed (or linked when it must not replace anything), folder fsynced.
 * The target never holds a partial file.
 */
import { basename, dirname, resolve } from 'node:path'
import { writeFileAtomic } from '../../util/atomic-write.js'
import { cidKey, parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { DestinationExistsError, ExportError, fsError } from '../errors.js'
import type { ExportOptions } from '../index.js'
import { progress } from './utils/progress.js'
import { readFile } from './utils/read-file.js'

export async function exportFile (ctx: StoreContext, cid: string | CID, destPath: string, options: Run<ExportOptions>): Promise<void> {
  const { signal } = options
  const root = parseCid(cid)
  const key = cidKey(root)
  const dest = resolve(destPath)
  const dir = dirname(dest)
  try {
    const st = await ctx.fs.stat(dir)
    if (!st.isDirectory()) throw new ExportError(dest, `${dir} is not a folder`, 'ENOTDIR')
  } catch (err: any) {
    if (err instanceof ExportError) throw err
    throw new ExportError(dest, err?.code === 'ENOENT' ? `the folder ${dir} does not exist` : `the folder ${dir} cannot be read (${err?.code ?? err?.message})`, err?.code)
  }
  try {
    if ((await ctx.fs.stat(dest)).isDirectory()) throw new ExportError(dest, 'it is a folder', 'EISDIR')
    if (options.overwrite === false) throw new DestinationExistsError(dest)
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
  }
  let written = 0
  let total = 0
  const bytes = async function * (): AsyncGenerator<Uint8Array> {
    for await (const chunk of readFile(ctx, root, { verify: options.verify ?? true, signal, event: 'store:export:block', onSize: (size) => { total = size } }, options)) {
      yield chunk
      // counted once the writer asks for the next chunk: this one is written
      written += chunk.byteLength
      progress(options, 'store:export:bytes', { cid: key, written, total })
    }
  }
  try {
    await writeFileAtomic(dest, bytes(), {
      signal,
      mode: 0o644,
      tmpPrefix: `.${basename(dest).slice(0, 64)}.swarmdrop-`,
      ifExists: options.overwrite === false ? 'fail' : 'replace',
      fs: ctx.fs
    })
  } catch (err: any) {
    if (err?.code === 'EEXIST' && options.overwrite === false) throw new DestinationExistsError(dest)
    if (err?.code === 'EACCES' || err?.code === 'EPERM' || err?.code === 'EROFS') throw new ExportError(dest, `the folder ${dir} is not writable`, err.code)
    if (err?.code === 'ENOENT') throw new ExportError(dest, `the folder ${dir} does not exist`, err.code)
    throw fsError(err, dest, 'write')
  }
  progress(options, 'store:export:done', { cid: key, path: dest, size: written })
}
