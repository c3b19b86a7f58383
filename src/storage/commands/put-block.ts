/**
 * putBlock: stores one block (a download's) after checking it: at most
 * MAX_BLOCK_SIZE bytes, hashing to its CID (the one verifier), and a dag-pb
 * block must decode. Records are not touched.
 */
import * as dagPb from '@ipld/dag-pb'
import { isUint8ArrayList } from 'uint8arraylist'
import { cidKey, contiguous, DAG_PB_CODEC, MAX_BLOCK_SIZE, parseCid, verifyBytes, type BlockBytes, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { BlockHashMismatchError, InvalidBlockError } from '../errors.js'
import type { PutBlockOptions } from '../index.js'
import { progress } from './utils/progress.js'

export async function putBlock (ctx: StoreContext, cid: string | CID, bytes: BlockBytes, options: Run<PutBlockOptions>): Promise<void> {
  const c = parseCid(cid)
  const key = cidKey(c)
  if (!(bytes instanceof Uint8Array) && !isUint8ArrayList(bytes)) throw new InvalidBlockError(key, 'the bytes are not a Uint8Array or Uint8ArrayList')
  if (bytes.byteLength > MAX_BLOCK_SIZE) throw new InvalidBlockError(key, `it is ${bytes.byteLength} bytes, over the ${MAX_BLOCK_SIZE} byte limit`)
  if (options.verified !== true && !verifyBytes(c, bytes)) throw new BlockHashMismatchError(key)
  if (c.code === DAG_PB_CODEC) {
    try {
      dagPb.decode(contiguous(bytes))
    } catch (err: any) {
      throw new InvalidBlockError(key, `it does not decode as dag-pb (${err?.message ?? String(err)})`)
    }
  }
  await ctx.lock.withShared(async () => {
    await ctx.blocks.write(c, bytes, {
      signal: options.signal,
      onStored: (_, n, written) => { progress(options, 'store:put:block', { cid: key, bytes: n, written }) }
    })
  })
}
