/** Commands that ask the running node over its control socket and print the answer. */
import type { CommandFn } from '../context.js'
import { request } from '../../control/client.js'
import { NotListedError, UsageError } from '../errors.js'
import { formatBytes, formatDuration, formatTable, printable, shortId, swarmLabel } from '../format.js'
import { cut, type ProgressBar } from '../output.js'
import type { ResultOf } from '../../control/contract.js'

/** The CID argument of pin, unpin and rm, checked here: bad input is a usage error (exit 2) for all three. */
async function cidArg (ctx: { positionals: string[], name: string }): Promise<string> {
  const text = ctx.positionals[0]!
  const { parseCid } = await import('../../content/cid.js')
  try {
    return parseCid(text).toString()
  } catch {
    throw new UsageError(`"${printable(text)}" is not a CID (they look like bafy…); copy one from \`swarmdrop ls\``, ctx.name)
  }
}

export const id: CommandFn<'id'> = async (ctx) => {
  const res = await request(ctx.repo, 'id', {}, { signal: ctx.signal })
  ctx.out.data(res)
  ctx.out.print(res.peerId)
  ctx.out.print(`  nickname  ${printable(res.name)}`)
  ctx.out.print(`  swarm     ${swarmLabel(res.swarm, res.keyFingerprint)}`)
  for (const a of res.addrs) ctx.out.print(`  address   ${a}`)
}

export const status: CommandFn<'status'> = async (ctx) => {
  const res = await request(ctx.repo, 'status', {}, { signal: ctx.signal })
  ctx.out.data(res)
  const rows = [
    ['peer id', res.peerId],
    ['nickname', printable(res.name)],
    ['swarm', swarmLabel(res.swarm, res.keyFingerprint)],
    ['repo', res.repo],
    ['uptime', formatDuration(res.uptime)],
    ['peers', `${res.peers}${res.otherSwarmPeers != null ? ` (and ${res.otherSwarmPeers} of another swarm)` : ''}`],
    ['files', `${res.files} in the swarm, ${res.local} here`],
    ['store', `${formatBytes(res.store.bytes)} in ${res.store.blocks} blocks`],
    ['uploaded', `${formatBytes(res.transfer.uploaded)} since start, ${res.transfer.uploads} upload${res.transfer.uploads === 1 ? '' : 's'} running`],
    ['downloaded', `${formatBytes(res.transfer.downloaded)} since start, ${res.transfer.downloads} download${res.transfer.downloads === 1 ? '' : 's'} running`],
    ...res.addrs.map(a => ['address', a])
  ]
  for (const line of formatTable(rows)) ctx.out.print(line)
}

export const peers: CommandFn<'peers'> = async (ctx) => {
  const res = await request(ctx.repo, 'peers', {}, { signal: ctx.signal })
  ctx.out.data(res)
  if (ctx.out.json) return
  const me = await request(ctx.repo, 'id', {}, { signal: ctx.signal })
  ctx.out.print(`swarm ${swarmLabel(me.swarm, me.keyFingerprint)}`)
  if (res.peers.length === 0) {
    ctx.out.print('no peers yet')
    return
  }
  const members = res.peers.filter(p => p.member)
  const others = res.peers.filter(p => !p.member)
  if (members.length === 0) ctx.out.print('no peers of this swarm yet')
  else {
    // ADDRESS: where the peer listens (identify), not the connection's ephemeral port
    const rows = [['PEER', 'NAME', 'CONNECTED', 'ADDRESS'], ...members.map(p => [p.id, printable(p.name ?? ''), p.connected ? `yes (${p.via ?? 'direct'})` : 'no', p.addrs[0] ?? ''])]
    for (const line of formatTable(rows)) ctx.out.print(line)
  }
  if (others.length > 0) {
    ctx.out.print(`not members (another swarm; their files are not listed): ${others.length}`)
    for (const p of others) ctx.out.print(`  ${p.id}${p.connected ? '' : ' (gone)'}  ${p.addrs[0] ?? ''}`)
  }
}

export const stop: CommandFn<'stop'> = async (ctx) => {
  try {
    await request(ctx.repo, 'stop', {}, { signal: ctx.signal })
  } catch (err: any) {
    if (err?.name !== 'NoNodeError') throw err
    // the wanted state already holds: exit 0 with a line
    ctx.out.data({ stopping: false })
    ctx.out.print(`no node is running on ${ctx.repo}; nothing to stop`)
    return
  }
  ctx.out.data({ stopping: true })
  ctx.out.print(`asked the node on ${ctx.repo} to stop`)
}

/** The widest `ls` table, even on a wider terminal or piped (`--json` has the full names). */
export const LS_MAX_COLUMNS = 120

export const ls: CommandFn<'ls'> = async (ctx) => {
  const cid = ctx.positionals[0] != null ? await cidArg(ctx) : undefined
  const res = await request(ctx.repo, 'ls', { ...(cid != null ? { cid } : {}), ...(ctx.flags.providers ? { providers: true } : {}) }, { signal: ctx.signal })
  if (cid != null && res.files.length === 0) throw new NotListedError(cid)
  ctx.out.data(res)
  if (res.files.length === 0) {
    ctx.out.print('no files in the swarm yet; share one with `swarmdrop share PATH`')
    return
  }
  // PROVIDERS: whole copies on peers connected now (this node too); "+N partial": peers downloading it
  const count = (f: typeof res.files[number]): string => `${f.providers}${f.partial > 0 ? ` +${f.partial} partial` : ''}`
  const rows = [['CID', 'NAME', 'SIZE', 'PROVIDERS', 'LOCAL'], ...res.files.map(f => [f.cid, printable(f.name), formatBytes(f.size) + (f.files != null ? ` (${f.files} file${f.files === 1 ? '' : 's'})` : ''), count(f), f.local ? 'yes' : 'no'])]
  // long names are cut (with …) so that each row fits the terminal, and never passes LS_MAX_COLUMNS; a folder ends with /
  const columns = Math.min(ctx.out.width ?? LS_MAX_COLUMNS, LS_MAX_COLUMNS)
  const widest = (i: number): number => Math.max(...rows.map(r => [...r[i]!].length))
  const others = [0, 2, 3, 4].reduce((n, i) => n + widest(i), 0) + 4 * 2
  const nameMax = Math.max(12, columns - 1 - others)
  res.files.forEach((f, i) => {
    const row = rows[i + 1]!
    row[1] = f.files != null ? cut(row[1]!, nameMax - 1) + '/' : cut(row[1]!, nameMax)
  })
  const lines = formatTable(rows, { align: ['left', 'left', 'right', 'right', 'left'] })
  ctx.out.print(lines[0]!)
  for (const [i, f] of res.files.entries()) {
    ctx.out.print(lines[i + 1]!)
    if (f.otherNames != null) ctx.out.print(`  also named ${f.otherNames.map(n => `"${cut(printable(n), 60)}"`).join(', ')}`)
    for (const p of f.providerList ?? []) {
      const who = p.self ? 'this node' : p.name != null ? `${printable(p.name)} (${shortId(p.peer)})` : p.peer
      ctx.out.print(`  ${p.complete ? 'provider' : 'partial '}  ${who}${p.connected ? '' : '  (not connected)'}`)
    }
  }
}

export const pin: CommandFn<'pin'> = async (ctx) => {
  const cid = await cidArg(ctx)
  // a bar once the node reports a fetch (nothing when the file is here already)
  let bar: ProgressBar | undefined
  let res: ResultOf<'pin'>
  try {
    res = await request(ctx.repo, 'pin', { cid }, {
      signal: ctx.signal,
      onEvent: (evt) => {
        if (evt?.type !== 'progress') return
        bar ??= ctx.out.progress(evt.name ?? shortId(cid), evt.total)
        bar.update(evt.bytes, { ...(evt.total != null ? { total: evt.total } : {}), providers: evt.providers })
      }
    })
  } catch (err) {
    bar?.finish(ctx.signal.aborted ? 'cancelled' : 'failed')
    throw err
  }
  bar?.finish()
  ctx.out.data(res)
  ctx.out.print(`pinned ${res.cid}`)
}

export const unpin: CommandFn<'unpin'> = async (ctx) => {
  const res = await request(ctx.repo, 'unpin', { cid: await cidArg(ctx) }, { signal: ctx.signal })
  ctx.out.data(res)
  ctx.out.print(`unpinned ${res.cid}; \`swarmdrop gc\` frees its blocks`)
}

export const rm: CommandFn<'rm'> = async (ctx) => {
  const res = await request(ctx.repo, 'rm', { cid: await cidArg(ctx) }, { signal: ctx.signal })
  ctx.out.data(res)
  ctx.out.print(`withdrew and removed ${res.cid}`)
}

export const gc: CommandFn<'gc'> = async (ctx) => {
  const res = await request(ctx.repo, 'gc', {}, { signal: ctx.signal })
  ctx.out.data(res)
  ctx.out.print(`removed ${res.removedBlocks} block${res.removedBlocks === 1 ? '' : 's'} (${formatBytes(res.removedBytes)})`)
}
