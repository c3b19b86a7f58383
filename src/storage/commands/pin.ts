/** pin, unpin: whether gc keeps a file. RecordNotFoundError when there is no record. */
import { cidKey, parseCid, type CID } from '../../content/index.js'
import type { StoreContext } from '../context.js'
import { RecordNotFoundError } from '../errors.js'

export async function setPinned (ctx: StoreContext, cid: string | CID, pinned: boolean): Promise<void> {
  const key = cidKey(parseCid(cid))
  await ctx.mutex.run(key, async () => {
    const rec = ctx.records.get(key)
    if (rec == null) throw new RecordNotFoundError(key)
    if (rec.pinned !== pinned) await ctx.records.put({ ...rec, pinned })
  })
}
