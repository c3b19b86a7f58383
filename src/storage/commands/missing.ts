/** missing: the blocks of a file known to be absent; the record (if any) is recounted on the way. */
import { cidKey, parseCid, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import type { StoreOptions } from '../index.js'
import { updateRecord, walkFile } from './utils/walk.js'

export async function missing (ctx: StoreContext, cid: string | CID, options: Run<StoreOptions>): Promise<string[]> {
  const root = parseCid(cid)
  const key = cidKey(root)
  return ctx.mutex.run(key, async () => {
    const walk = await walkFile(ctx, root, { signal: options.signal })
    const rec = ctx.records.get(key)
    if (rec != null) await updateRecord(ctx, rec, walk)
    return walk.missing
  })
}
