/** `swarmdrop share PATH...`: import, pin and announce through the running node. */
import type { CommandFn } from '../context.js'
import { request } from '../control/client.js'
import { checkSharePaths, type SharedFile } from '../files.js'
import { formatBytes, formatTable, printable } from '../format.js'

export const share: CommandFn<'share'> = async (ctx) => {
  const paths = await checkSharePaths(ctx.positionals, ctx.cwd)
  const res = await request<{ files: SharedFile[] }>(ctx.repo, 'share', { paths }, { signal: ctx.signal })
  ctx.out.data(res)
  const rows = [['CID', 'NAME', 'SIZE'], ...res.files.map(f => [f.cid, printable(f.name), formatBytes(f.size)])]
  for (const line of formatTable(rows)) ctx.out.print(line)
}
