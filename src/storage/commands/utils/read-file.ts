/**
 * Reads a file's bytes through ipfs-unixfs-exporter (cat and export). A
 * corrupt block is moved aside and the records that need it recounted.
 */
import { exporter } from 'ipfs-unixfs-exporter'
import { cidKey, type CID } from '../../../content/index.js'
import { BLOCK_READ_CONCURRENCY } from '../../constants.js'
import type { StoreContext } from '../../context.js'
import { InvalidRangeError, NotAFileError } from '../../errors.js'
import type { StoreOptions } from '../../index.js'
import { progress } from './progress.js'
import { afterCorrupt } from './sweep.js'

export interface ReadFileOptions {
  verify: boolean
  signal: AbortSignal
  offset?: number
  length?: number
  /** The progress event of each block read. */
  event: 'store:cat:block' | 'store:export:block'
  /** Told the file's size before the first byte. */
  onSize?: (size: number) => void
}

export async function * readFile (ctx: StoreContext, root: CID, read: ReadFileOptions, options: StoreOptions): AsyncGenerator<Uint8Array> {
  const reader = {
    get: async function * (c: CID, o: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
      const bytes = await ctx.blocks.read(c, { verify: read.verify, signal: o.signal ?? read.signal })
      progress(options, read.event, { cid: cidKey(c), bytes: bytes.byteLength })
      yield bytes
    }
  }
  try {
    const entry = await exporter(cidKey(root), reader, { signal: read.signal })
    if (entry.type !== 'file' && entry.type !== 'raw') throw new NotAFileError(cidKey(root), entry.type)
    const size = Number(entry.size)
    read.onSize?.(size)
    if ((read.offset ?? 0) > size) throw new InvalidRangeError(`offset ${read.offset} is past the end of the file (${size} bytes)`)
    const length = read.length == null ? undefined : Math.min(read.length, size - (read.offset ?? 0))
    if (length === 0) return
    yield * entry.content({ offset: read.offset, length, signal: read.signal, blockReadConcurrency: BLOCK_READ_CONCURRENCY })
  } catch (err: any) {
    if (err?.name === 'CorruptBlockError') await afterCorrupt(ctx, err.cid)
    if (err?.name === 'NotUnixFSError') throw new NotAFileError(cidKey(root), 'non-UnixFS node')
    throw err
  }
}
