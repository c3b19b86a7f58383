/**
 * What import() reads: a file path, bytes, or a stream of chunks, each turned
 * into a stream that reports `store:import:read` progress.
 */
import { createReadStream } from 'node:fs'
import { basename, resolve } from 'node:path'
import { CHUNK_SIZE } from '../../../content/index.js'
import type { StoreContext } from '../../context.js'
import { ImportSourceError } from '../../errors.js'
import type { ImportInput, StoreOptions } from '../../index.js'
import { progress } from './progress.js'
import { fsReason, readFixHint } from '../../../util/fs-reason.js'

export interface ImportSource {
  source: AsyncIterable<Uint8Array>
  /** The file's base name, for a path. */
  defaultName?: string
}

export async function openSource (ctx: StoreContext, input: ImportInput, options: StoreOptions, signal: AbortSignal): Promise<ImportSource> {
  if (typeof input === 'string') {
    const path = resolve(input)
    let size: number
    try {
      const st = await ctx.fs.stat(path)
      if (st.isDirectory()) throw new ImportSourceError(path, 'it is a folder; import the files in it one by one')
      if (!st.isFile()) throw new ImportSourceError(path, 'it is not a regular file')
      size = st.size
    } catch (err: any) {
      if (err instanceof ImportSourceError) throw err
      throw new ImportSourceError(path, err?.code === 'ENOENT' ? 'it does not exist' : `it cannot be read: ${fsReason(err)}${readFixHint(err, path)}`)
    }
    return { source: readFileSource(path, size, options, signal), defaultName: basename(path) }
  }
  if (input instanceof Uint8Array) {
    return { source: countBytes([input], input.byteLength, options, signal) }
  }
  if (input != null && typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return { source: countBytes(input, undefined, options, signal) }
  }
  throw new TypeError('import() takes a file path, a Uint8Array or an AsyncIterable<Uint8Array>')
}

function isAbort (err: any): boolean {
  return err?.name === 'AbortError' || err?.name === 'TimeoutError'
}

async function * readFileSource (path: string, size: number, options: StoreOptions, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_SIZE, signal })
  let read = 0
  try {
    for await (const chunk of stream) {
      read += (chunk as Buffer).byteLength
      progress(options, 'store:import:read', { read, total: size })
      yield chunk as Buffer
    }
  } catch (err: any) {
    if (isAbort(err) || signal.aborted) throw signal.reason ?? err
    throw new ImportSourceError(path, `reading failed: ${fsReason(err)}${readFixHint(err, path)}`)
  } finally {
    stream.destroy()
  }
}

async function * countBytes (source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, total: number | undefined, options: StoreOptions, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let read = 0
  for await (const chunk of source) {
    signal.throwIfAborted()
    if (!(chunk instanceof Uint8Array)) throw new TypeError('import() sources must yield Uint8Array chunks')
    read += chunk.byteLength
    const detail: { read: number, total?: number } = { read }
    if (total != null) detail.total = total
    progress(options, 'store:import:read', detail)
    yield chunk
  }
}
