/**
 * gc: deletes blocks that no pinned or complete file needs (left by crashed
 * imports, abandoned unpinned downloads) and the `corrupt/` folder; with
 * `unpinned: true` drops unpinned files first.
 */
import { join } from 'node:path'
import { CORRUPT_DIR } from '../constants.js'
import type { Run, StoreContext } from '../context.js'
import type { GcOptions, GcResult } from '../index.js'
import { progress } from './utils/progress.js'
import { needed } from './utils/sweep.js'
import { recount } from './utils/walk.js'

export async function gc (ctx: StoreContext, options: Run<GcOptions>): Promise<GcResult> {
  const { signal } = options
  return ctx.lock.withExclusive(async () => {
    if (options.unpinned === true) {
      for (const r of ctx.records.list()) {
        if (!r.pinned && options.dryRun !== true) await ctx.mutex.run(r.cid, async () => { await ctx.records.delete(r.cid) })
      }
    }
    // references of files that have no record any more
    if (options.dryRun !== true) {
      for (const root of ctx.refs.roots()) if (!ctx.records.has(root)) await ctx.refs.delete(root)
    }
    const all = ctx.records.list()
    const dropped = (r: { pinned: boolean, complete: boolean }): boolean => options.dryRun === true && options.unpinned === true && !r.pinned
    const keep = await needed(ctx, all.filter(r => (r.pinned || r.complete) && !dropped(r)), signal)
    let removedBlocks = 0
    let removedBytes = 0
    for await (const f of ctx.blocks.files({ signal })) {
      if (keep.has(f.key)) continue
      const bytes = options.dryRun === true ? await ctx.blocks.sizeOf(f.cid) : await ctx.blocks.remove(f.cid)
      if (bytes == null) continue
      removedBlocks++
      removedBytes += bytes
      if (options.dryRun !== true) progress(options, 'store:gc:block', { cid: f.key, bytes })
    }
    if (options.dryRun === true) return { removedBlocks, removedBytes }
    await ctx.fs.rm(join(ctx.path, CORRUPT_DIR), { recursive: true, force: true }).catch(() => {})
    // partial, unpinned files lost their blocks: recount them
    for (const r of all) {
      if (r.pinned || r.complete || !ctx.records.has(r.cid)) continue
      await recount(ctx, r.cid, { signal })
    }
    ctx.log('gc removed %d blocks (%d bytes)', removedBlocks, removedBytes)
    return { removedBlocks, removedBytes }
  })
}
