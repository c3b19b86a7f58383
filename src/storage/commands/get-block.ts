/** getBlock: a block's bytes, verified against its CID unless told not to. */
import { parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import type { GetBlockOptions } from '../index.js'
import { onCorrupt } from './utils/sweep.js'

export async function getBlock (ctx: StoreContext, cid: string | CID, options: Run<GetBlockOptions>): Promise<Uint8Array> {
  const c = parseCid(cid)
  return onCorrupt(ctx, async () => ctx.blocks.read(c, { verify: options.verify ?? true, signal: options.signal }))
}
