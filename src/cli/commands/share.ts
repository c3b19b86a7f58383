/** `swarmdrop share PATH...`: import, pin and announce through the running node. */
import { basename } from 'node:path'
import type { CommandFn } from '../context.js'
import type { ResultOf } from '../../control/contract.js'
import type { ProgressBar } from '../output.js'
import { request } from '../../control/client.js'
import { checkSharePaths } from '../files.js'
import { formatBytes, formatTable, printable } from '../format.js'

export const share: CommandFn<'share'> = async (ctx) => {
  const paths = await checkSharePaths(ctx.positionals, ctx.cwd)
  const bars = new Map<string, ProgressBar>()
  let res: ResultOf<'share'>
  try {
    res = await request(ctx.repo, 'share', { paths, encrypt: ctx.flags.encrypt, copy: ctx.flags.copy }, {
      signal: ctx.signal,
      onEvent: (evt) => {
        if (evt?.type !== 'progress') return
        if (evt.skipped != null) {
          ctx.out.note(`skipped ${printable(evt.skipped)}: ${evt.reason ?? 'not a regular file'}, not shared`)
          return
        }
        // one bar per file, from its first progress event (the previous one is complete by then)
        let bar = bars.get(evt.path)
        if (bar == null) {
          for (const b of bars.values()) b.finish()
          bar = ctx.out.progress(basename(evt.path), evt.total)
          bars.set(evt.path, bar)
        }
        bar.update(evt.read, evt.total != null ? { total: evt.total } : {})
      }
    })
  } catch (err) {
    for (const b of bars.values()) b.finish(ctx.signal.aborted ? 'cancelled' : 'failed')
    throw err
  }
  for (const b of bars.values()) b.finish()
  ctx.out.data(res)
  const rows = [['CID', 'NAME', 'SIZE'], ...res.files.map(f => [f.cid, printable(f.name) + (f.files != null ? '/' : ''), formatBytes(f.size) + (f.files != null ? `, ${f.files} file${f.files === 1 ? '' : 's'}` : '')])]
  for (const line of formatTable(rows)) ctx.out.print(line)
  const links = res.files.filter(f => f.link != null)
  if (links.length > 0) {
    ctx.out.print()
    ctx.out.print('Encrypted: the swarm sees only ciphertext. Anyone with a link can read the file; keep links private.')
  }
  if (res.files.some(f => f.byReference === true)) {
    ctx.out.print()
    ctx.out.print('Pinned and shared in place (no copy in the store): keep the files unchanged while they are shared, or share with --copy.')
  } else if (res.files.length > 0) {
    ctx.out.print()
    ctx.out.print('Pinned: copied into the store, kept through `swarmdrop gc`.')
  }
  if (ctx.out.json) return
  // the exact command for the other laptop, with the swarm it must join
  const { swarm } = await request(ctx.repo, 'id', {}, { signal: ctx.signal })
  const swarmFlag = swarm !== 'default' ? ` --swarm ${swarm}` : ''
  ctx.out.print()
  ctx.out.print(`On another machine of the swarm${swarmFlag !== '' ? ` (${swarm})` : ''}, run:`)
  for (const f of res.files) ctx.out.print(`  swarmdrop get${swarmFlag} ${f.link != null ? `'${f.link}'` : f.cid}`)
}
