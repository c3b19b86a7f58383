/** `swarmdrop share PATH...`: import, pin and announce through the running node. */
import type { CommandFn } from '../context.js'
import { request } from '../../control/client.js'
import { checkSharePaths } from '../files.js'
import { formatBytes, formatTable, printable } from '../format.js'

export const share: CommandFn<'share'> = async (ctx) => {
  const paths = await checkSharePaths(ctx.positionals, ctx.cwd)
  const res = await request(ctx.repo, 'share', { paths, encrypt: ctx.flags.encrypt }, { signal: ctx.signal })
  ctx.out.data(res)
  const rows = [['CID', 'NAME', 'SIZE'], ...res.files.map(f => [f.cid, printable(f.name), formatBytes(f.size)])]
  for (const line of formatTable(rows)) ctx.out.print(line)
  const links = res.files.filter(f => f.link != null)
  if (links.length > 0) {
    ctx.out.print()
    ctx.out.print('Encrypted: the swarm sees only ciphertext. Anyone with a link can read the file; keep links private:')
    for (const f of links) ctx.out.print(`  ${printable(f.name)}  ${f.link!}`)
  }
}
