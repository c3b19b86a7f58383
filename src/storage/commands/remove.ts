/** remove: deletes a file's record and the blocks no other file needs. */
import { cidKey, parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { RecordNotFoundError } from '../errors.js'
import type { StoreOptions } from '../index.js'
import { sweep } from './utils/sweep.js'
import { walkFile } from './utils/walk.js'

export async function remove (ctx: StoreContext, cid: string | CID, options: Run<StoreOptions>): Promise<void> {
  const root = parseCid(cid)
  const key = cidKey(root)
  const { signal } = options
  await ctx.lock.withExclusive(async () => {
    if (!ctx.records.has(key)) throw new RecordNotFoundError(key)
    const walk = await walkFile(ctx, root, { checkLeaves: false, signal })
    await ctx.mutex.run(key, async () => {
      await ctx.records.delete(key)
      await ctx.refs.delete(key)
    })
    const candidates = [...walk.nodes].map(k => parseCid(k))
    const { removedBlocks, removedBytes } = await sweep(ctx, candidates, signal)
    ctx.log('removed %s and %d blocks (%d bytes)', key, removedBlocks, removedBytes)
  })
}
