/** stat: how many block files and bytes the store holds, and how many file records. */
import type { Run, StoreContext } from '../context.js'
import { fsError } from '../errors.js'
import type { StoreOptions, StoreStat } from '../index.js'

export async function stat (ctx: StoreContext, options: Run<StoreOptions>): Promise<StoreStat> {
  let blocks = 0
  let bytes = 0
  for await (const f of ctx.blocks.files({ signal: options.signal })) {
    try {
      bytes += (await ctx.fs.stat(f.path)).size
      blocks++
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw fsError(err, f.path, 'read')
    }
  }
  let referenced = 0
  for (const root of ctx.refs.roots()) referenced += ctx.refs.get(root)?.size ?? 0
  return { blocks, bytes, files: ctx.records.keys().length, refs: ctx.refs.roots().length, refBytes: await ctx.refs.bytes(), referenced }
}
