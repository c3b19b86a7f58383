/** Commands that ask the running node over its control socket and print the answer. */
import type { CommandFn } from '../context.js'
import { request } from '../../control/client.js'
import { NotListedError, UsageError } from '../errors.js'
import { formatBytes, formatDuration, formatTable, printable, shortId, swarmLabel, wrapWords } from '../format.js'
import { cut, quotedName, type ProgressBar } from '../output.js'
import type { ListedFile, ResultOf, StoreStats } from '../../control/contract.js'
import type { Context } from '../context.js'
import type { Store } from '../../storage/index.js'

/** True when the error says no node runs on the repository (no control socket, or a stale one). */
function noNode (err: any): boolean {
  return err?.name === 'NoNodeError'
}

/**
 * Runs `fn` on the repository's store directly, under the repository lock (no node runs).
 * A repository without a store is not made: `noNodeError` (why the socket failed) is thrown.
 */
async function withLocalStore<T> (ctx: Context, fn: (store: Store) => Promise<T>, noNodeError?: unknown): Promise<T> {
  const { stat } = await import('node:fs/promises')
  const { join } = await import('node:path')
  if (await stat(join(ctx.repo, 'store')).then(s => !s.isDirectory(), () => true)) {
    throw noNodeError ?? new Error(`there is no repository at ${ctx.repo}: no node has run on it`)
  }
  const { openLocalStore } = await import('../../node/local-store.js')
  const local = await openLocalStore(ctx.repo)
  try {
    return await fn(local.store)
  } finally {
    await local.close()
  }
}

/** The LOCAL column: no, yes (a copy, or read from the shared or fetched file), or how a broken reference looks. */
function localLabel (f: ListedFile): string {
  if (!f.local) return 'no'
  if (f.reference == null || f.reference.state === 'ok') return 'yes'
  return f.reference.state === 'changed' ? 'CHANGED' : 'GONE'
}

/** A note per file whose reference broke: what happened and what to do, wrapped to `columns`. */
function printBroken (ctx: Context, files: ListedFile[], columns: number): void {
  for (const f of files) {
    const ref = f.reference
    if (ref == null || ref.state === 'ok') continue
    const note = ref.state === 'changed'
      ? `! ${printable(ref.path)} changed since it was shared as ${f.cid}: it is not served. Share it again: swarmdrop share ${printable(ref.path)}`
      : `! ${printable(ref.path)}, shared as ${f.cid}, is gone: it is not served. Put it back, or: swarmdrop rm ${f.cid}`
    for (const line of wrapWords(note, columns - 1)) ctx.out.print(line)
  }
}

function storeRows (store: StoreStats): string[][] {
  return [
    ['store', `${formatBytes(store.bytes + store.refBytes)} in ${store.blocks} blocks`],
    ...(store.refs > 0 ? [['by reference', `${store.refs} file${store.refs === 1 ? '' : 's'}, ${formatBytes(store.referenced)} read from where they lie`]] : []),
    ['gc would free', formatBytes(store.freeable)]
  ]
}

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
  let why: unknown
  const res = await request(ctx.repo, 'status', {}, { signal: ctx.signal }).catch((err) => { if (!noNode(err)) throw err; why = err })
  if (res == null) {
    const { storeFilesStatus } = await import('../../node/local-store.js')
    const local = await withLocalStore(ctx, storeFilesStatus, why)
    ctx.out.data({ running: false, repo: ctx.repo, ...local })
    const rows = [
      ['node', 'not running'],
      ['repo', ctx.repo],
      ['files', `${local.files} here (${local.local} complete)`],
      ...storeRows(local.store)
    ]
    for (const line of formatTable(rows)) ctx.out.print(line)
    return
  }
  ctx.out.data({ running: true, ...res })
  const rows = [
    ['peer id', res.peerId],
    ['nickname', printable(res.name)],
    ['swarm', swarmLabel(res.swarm, res.keyFingerprint)],
    ['repo', res.repo],
    ['uptime', formatDuration(res.uptime)],
    ['peers', `${res.peers}${res.otherSwarmPeers != null ? ` (and ${res.otherSwarmPeers} of another swarm)` : ''}`],
    ['files', `${res.files} in the swarm, ${res.local} here`],
    ...storeRows(res.store),
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
  let why: unknown
  let res = await request(ctx.repo, 'ls', { ...(cid != null ? { cid } : {}), ...(ctx.flags.providers ? { providers: true } : {}) }, { signal: ctx.signal }).catch((err) => { if (!noNode(err)) throw err; why = err })
  const running = res != null
  if (res == null) {
    const { listStore } = await import('../../node/local-store.js')
    const files = await withLocalStore(ctx, listStore, why)
    res = { files: cid != null ? files.filter(f => f.cid === cid) : files }
    ctx.out.note(`no node runs on ${ctx.repo}: the files of its store only (start a node for the swarm's catalog)`)
  }
  if (cid != null && res.files.length === 0) throw new NotListedError(cid)
  ctx.out.data({ running, ...res })
  if (res.files.length === 0) {
    ctx.out.print(running ? 'no files in the swarm yet; share one with `swarmdrop share PATH`' : 'no files in the store; share one with `swarmdrop share PATH` (a node must run)')
    return
  }
  // PROVIDERS: whole copies on peers connected now (this node too); "+N partial": peers downloading it
  const count = (f: typeof res.files[number]): string => `${f.providers}${f.partial > 0 ? ` +${f.partial} partial` : ''}`
  const rows = [['CID', 'NAME', 'SIZE', 'PROVIDERS', 'LOCAL'], ...res.files.map(f => [f.cid, printable(f.name), formatBytes(f.size) + (f.files != null ? ` (${f.files} file${f.files === 1 ? '' : 's'})` : ''), count(f), localLabel(f)])]
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
    if (f.otherNames != null) ctx.out.print(`  also named ${f.otherNames.map(quotedName).join(', ')}`)
    for (const p of f.providerList ?? []) {
      const who = p.self ? 'this node' : p.name != null ? `${printable(p.name)} (${shortId(p.peer)})` : p.peer
      ctx.out.print(`  ${p.complete ? 'provider' : 'partial '}  ${who}${p.connected ? '' : '  (not connected)'}`)
    }
  }
  printBroken(ctx, res.files, columns)
}

/** `pin ls`: the files of the store that gc keeps. */
async function pinLs (ctx: Context<'pin'>): Promise<void> {
  let why: unknown
  const res = await request(ctx.repo, 'ls', {}, { signal: ctx.signal }).catch((err) => { if (!noNode(err)) throw err; why = err })
  let files: ListedFile[]
  if (res != null) {
    files = res.files
  } else {
    const { listStore } = await import('../../node/local-store.js')
    files = await withLocalStore(ctx, listStore, why)
  }
  const pins = files.filter(f => f.pinned === true)
  ctx.out.data({ pins })
  if (pins.length === 0) {
    ctx.out.print('nothing is pinned; `swarmdrop gc` may free every block')
    return
  }
  const rows = [['CID', 'NAME', 'SIZE', 'STATE'], ...pins.map(f => [f.cid, printable(f.name), formatBytes(f.size), f.local ? (f.reference != null ? `by reference (${f.reference.state})` : 'copy') : 'partial'])]
  for (const line of formatTable(rows, { align: ['left', 'left', 'right', 'left'] })) ctx.out.print(line)
}

export const pin: CommandFn<'pin'> = async (ctx) => {
  if (ctx.positionals[0] === 'ls') {
    await pinLs(ctx)
    return
  }
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
    if (!noNode(err)) throw err
    // no node: a file complete here is pinned in the store; fetching needs a node
    await withLocalStore(ctx, async (store) => {
      const rec = await store.get(cid)
      if (rec?.complete !== true) throw new NotHereError(cid)
      await store.pin(cid)
    }, err)
    res = { cid, pinned: true }
  }
  bar?.finish()
  ctx.out.data(res)
  ctx.out.print(`pinned ${res.cid}`)
}

/** `pin CID` with no node running, for a file not complete here. */
export class NotHereError extends Error {
  static override name = 'NotHereError'

  constructor (cid: string) {
    super(`${cid} is not complete in this store, and no node runs to fetch it; start one (\`swarmdrop start\`) and pin again`)
    this.name = 'NotHereError'
  }
}

export const unpin: CommandFn<'unpin'> = async (ctx) => {
  const cid = await cidArg(ctx)
  const res = await request(ctx.repo, 'unpin', { cid }, { signal: ctx.signal }).catch(async (err) => {
    if (!noNode(err)) throw err
    await withLocalStore(ctx, async (store) => { await store.unpin(cid) }, err)
    return { cid, pinned: false as const }
  })
  ctx.out.data(res)
  ctx.out.print(`unpinned ${res.cid}; \`swarmdrop gc\` frees its blocks`)
}

export const rm: CommandFn<'rm'> = async (ctx) => {
  const cid = await cidArg(ctx)
  let withdrew = true
  const res = await request(ctx.repo, 'rm', { cid }, { signal: ctx.signal }).catch(async (err) => {
    if (!noNode(err)) throw err
    withdrew = false
    await withLocalStore(ctx, async (store) => { await store.remove(cid) }, err)
    return { cid, removed: true as const }
  })
  ctx.out.data(res)
  ctx.out.print(withdrew ? `withdrew and removed ${res.cid}` : `removed ${res.cid} from the store (no node runs: nothing to withdraw)`)
}

export const gc: CommandFn<'gc'> = async (ctx) => {
  const res = await request(ctx.repo, 'gc', {}, { signal: ctx.signal }).catch(async (err) => {
    if (!noNode(err)) throw err
    return withLocalStore(ctx, async (store) => store.gc({ unpinned: true }), err)
  })
  ctx.out.data({ removedBlocks: res.removedBlocks, removedBytes: res.removedBytes })
  ctx.out.print(`removed ${res.removedBlocks} block${res.removedBlocks === 1 ? '' : 's'} (${formatBytes(res.removedBytes)})`)
}
