/** cat: streams a file's bytes, or `length` bytes from `offset`. */
import { parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { InvalidRangeError } from '../errors.js'
import type { CatOptions } from '../index.js'
import { readFile } from './utils/read-file.js'

/** Checks the arguments at once (before the first byte is asked for), then returns the stream. */
export function cat (ctx: StoreContext, cid: string | CID, options: Run<CatOptions>): AsyncGenerator<Uint8Array> {
  const root = parseCid(cid)
  const offset = options.offset ?? 0
  const length = options.length
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidRangeError(`offset ${offset} is not a whole number >= 0`)
  if (length != null && (!Number.isSafeInteger(length) || length < 0)) throw new InvalidRangeError(`length ${length} is not a whole number >= 0`)
  const read = { verify: options.verify ?? false, signal: options.signal, offset, event: 'store:cat:block' as const }
  return readFile(ctx, root, length == null ? read : { ...read, length }, options)
}
