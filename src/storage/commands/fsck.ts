/**
 * fsck: verifies every block against its CID (corrupt ones are moved aside
 * and reported), then re-walks every file and updates its record.
 */
import type { CID } from '../../content/index.js'
import { CHECK_CONCURRENCY } from '../constants.js'
import type { Run, StoreContext } from '../context.js'
import type { FsckOptions, FsckResult } from '../index.js'
import { progress } from './utils/progress.js'
import { recount } from './utils/walk.js'

export async function fsck (ctx: StoreContext, options: Run<FsckOptions>): Promise<FsckResult> {
  const { signal } = options
  return ctx.lock.withShared(async () => {
    const corrupt: string[] = []
    let checked = 0
    const queue: Array<Promise<void>> = []
    const check = async (cid: CID, key: string): Promise<void> => {
      let ok = true
      try {
        await ctx.blocks.read(cid, { verify: true, signal })
      } catch (err: any) {
        if (err?.name === 'CorruptBlockError') ok = false
        else if (err?.name !== 'BlockNotFoundError') throw err
      }
      checked++
      if (!ok) corrupt.push(key)
      progress(options, 'store:fsck:block', { cid: key, ok, checked })
    }
    for await (const f of ctx.blocks.files({ signal })) {
      queue.push(check(f.cid, f.key))
      if (queue.length >= CHECK_CONCURRENCY) await Promise.all(queue.splice(0))
    }
    await Promise.all(queue)
    const missing = new Set<string>()
    const incomplete: string[] = []
    for (const r of ctx.records.list()) {
      const counted = await recount(ctx, r.cid, { signal })
      if (counted == null) continue
      const { before, walk } = counted
      if (before.complete && !walk.complete) for (const m of walk.missing) missing.add(m)
      if (!walk.complete) incomplete.push(r.cid)
    }
    const result: FsckResult = { checked, corrupt: corrupt.sort(), missing: [...missing].sort(), incomplete: incomplete.sort(), badRecords: [...ctx.badRecords] }
    if (corrupt.length > 0 || missing.size > 0) ctx.log.error('fsck: %d corrupt, %d missing blocks', corrupt.length, missing.size)
    return result
  })
}
