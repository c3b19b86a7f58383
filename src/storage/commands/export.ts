/**
 * export: writes a stored file to a path through writeOut (../write-out.ts):
 * the target never holds a partial file, an existing one is kept unless allowed.
 */
import { resolve } from 'node:path'
import { cidKey, parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { writeOut } from '../write-out.js'
import type { ExportOptions } from '../index.js'
import { progress } from './utils/progress.js'
import { readFile } from './utils/read-file.js'

export async function exportFile (ctx: StoreContext, cid: string | CID, destPath: string, options: Run<ExportOptions>): Promise<void> {
  const { signal } = options
  const root = parseCid(cid)
  const key = cidKey(root)
  const dest = resolve(destPath)
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
  await writeOut(dest, bytes(), { ...(signal != null ? { signal } : {}), overwrite: options.overwrite !== false, fs: ctx.fs })
  progress(options, 'store:export:done', { cid: key, path: dest, size: written })
}
