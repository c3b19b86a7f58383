/**
 * `swarmdrop get TARGET...`: each target a CID, a capability link, or a file's name in the
 * catalog. Through the running node when there is one, else with a temporary node on the
 * repository (same options as `start`), which finds peers, fetches, writes and stops.
 * `-o -` writes the one file to stdout (fetched into a temporary folder first).
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { CommandFn, Context } from '../context.js'
import { request } from '../../control/client.js'
import { AmbiguousNameError, ExitError, UnknownNameError, UsageError } from '../errors.js'
import { fetchToFile, type FetchedFile, type FetchProgressInfo, type ListedFile } from '../files.js'
import { averageRate, formatBytes, formatDuration, formatRate, printable, shortId } from '../format.js'
import { quotedName } from '../output.js'
import { nodeInit } from './start.js'

const DEFAULT_TIMEOUT_S = 30
/** How long `get` waits for the catalog to name the file (get NAME), or a temporary node before fetching a CID anyway. */
const CATALOG_WAIT_MS = 3000

export class NoPeersError extends Error {
  static override name = 'NoPeersError'

  constructor (seconds: number, mdns: boolean, refused?: string) {
    super(refused != null
      ? `found no peer of the swarm in ${seconds} s: ${refused}; use the same --swarm-key file as the swarm`
      : `found no peer of the swarm in ${seconds} s; ${mdns ? 'start a node on another machine of this network, or ' : ''}pass --peer MULTIADDR of a running node`)
    this.name = 'NoPeersError'
  }
}

interface Target { cid: string, key?: Uint8Array }

/** What `get` needs of a node: its catalog and a fetch that writes the file. */
interface Getter {
  list: (name: string) => Promise<ListedFile[]>
  fetch: (target: Target, output: string | undefined, onProgress: (info: FetchProgressInfo) => void) => Promise<FetchedFile>
}

/**
 * The catalog's files, once `name` is among them or after CATALOG_WAIT_MS: the catalog, asked for
 * when the node met the swarm, may still be coming in (a temporary node just started; a running
 * node whose peers just came back after its network went away).
 */
async function listWaiting (ls: () => Promise<ListedFile[]>, signal: AbortSignal): Promise<Getter['list']> {
  const { waitFor } = await import('../../util/wait.js')
  return async (name) => {
    await waitFor(async () => (await ls()).some(f => f.name === name), { timeout: CATALOG_WAIT_MS, interval: 100, signal }).catch((err) => {
      if (err.name !== 'WaitTimeoutError') throw err
    })
    return ls()
  }
}

/** A CID, a link, or the name of exactly one file of the catalog (else a named error listing the candidates). */
async function resolveTarget (text: string, getter: Getter): Promise<Target> {
  const { parseTarget } = await import('../../crypto/index.js')
  if (text.startsWith('swarmdrop:')) return parseTarget(text)
  const { parseCid } = await import('../../content/cid.js')
  try {
    return { cid: parseCid(text).toString() }
  } catch {}
  // CID/sub/path: one file or subfolder of a folder (the node resolves the path)
  const slash = text.indexOf('/')
  if (slash > 0) {
    const { splitCidPath } = await import('../../content/path.js')
    const split = splitCidPath(text)
    try {
      return { cid: [parseCid(split.cid).toString(), ...split.path].join('/') }
    } catch (err: any) {
      if (err?.name !== 'InvalidCidError') throw err
    }
  }
  const matches = (await getter.list(text)).filter(f => f.name === text)
  if (matches.length === 0) throw new UnknownNameError(printable(text))
  if (matches.length > 1) throw new AmbiguousNameError(printable(text), matches.map(f => `${f.cid} (${formatBytes(f.size)}, ${f.providers} provider${f.providers === 1 ? '' : 's'})`))
  return { cid: matches[0]!.cid }
}

/** Largest stdin or --link-file read for targets: links are ~110 bytes; this is thousands of them. */
const MAX_TARGETS_BYTES = 1024 * 1024

/**
 * The targets: the positionals, where `-` stands for the lines of stdin, plus the lines of
 * --link-file. A link passed so never appears in the process arguments, which every local
 * user can read (/proc/PID/cmdline). Blank lines and lines starting with # are skipped.
 */
async function readTargets (ctx: Context<'get'>): Promise<string[]> {
  const lines = (text: string): string[] => text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const out: string[] = []
  for (const p of ctx.positionals) {
    if (p !== '-') out.push(p)
    else out.push(...lines(await readBounded(process.stdin, 'stdin')))
  }
  const file = ctx.flags['link-file']
  if (file != null) {
    let text: string
    try {
      const { open } = await import('node:fs/promises')
      const fh = await open(resolve(ctx.cwd, file), 'r')
      try {
        text = await readBounded(fh.createReadStream(), file)
      } finally {
        await fh.close().catch(() => {})
      }
    } catch (err: any) {
      if (err instanceof UsageError) throw err
      throw new UsageError(`cannot read --link-file ${file} (${err?.code ?? err?.message})`, 'get')
    }
    out.push(...lines(text))
  }
  if (out.length === 0) throw new UsageError('get: missing CID|LINK|NAME (or - to read them from stdin, or --link-file FILE)', 'get')
  return out
}

async function readBounded (stream: AsyncIterable<Buffer | string>, what: string): Promise<string> {
  const parts: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += b.byteLength
    if (size > MAX_TARGETS_BYTES) throw new UsageError(`${what} holds more than ${MAX_TARGETS_BYTES} bytes; give one CID or link per line`, 'get')
    parts.push(b)
  }
  return Buffer.concat(parts).toString('utf8')
}

export const get: CommandFn<'get'> = async (ctx) => {
  ctx.positionals = await readTargets(ctx)
  const seconds = ctx.flags.timeout ?? DEFAULT_TIMEOUT_S
  if (seconds <= 0) throw new UsageError('--timeout must be more than 0 seconds', 'get')
  const toStdout = ctx.flags.output === '-'
  if (toStdout && ctx.positionals.length > 1) throw new UsageError('-o - writes one file to stdout; give one CID, link or name', 'get')
  if (toStdout && ctx.out.json) throw new UsageError('-o - and --json both want stdout; pick one', 'get')
  if (ctx.positionals.length > 1 && ctx.flags.output != null && !ctx.flags.output.endsWith('/')) {
    throw new UsageError('with several files, -o must be a folder ending in /', 'get')
  }
  const stdoutDir = toStdout ? await mkdtemp(join(tmpdir(), 'swarmdrop-stdout-')) : undefined
  const output = stdoutDir != null ? stdoutDir + '/' : ctx.flags.output
  try {
    const running = await request(ctx.repo, 'ping', {}, { signal: ctx.signal }).then(() => true, (err) => {
      if (err?.name === 'NoNodeError') return false
      throw err
    })
    if (running) {
      const f = ctx.flags
      const nodeFlags = Object.entries({ name: f.name != null, swarm: f.swarm != null, 'swarm-key': f['swarm-key'] != null, listen: f.listen.length > 0, peer: f.peer.length > 0, 'no-mdns': f['no-mdns'] })
        .filter(([, given]) => given).map(([flag]) => flag)
      if (nodeFlags.length > 0) ctx.out.note(`a node runs on ${ctx.repo}: it fetches with its own options (${nodeFlags.map(f => `--${f}`).join(' ')} ignored)`)
      await getAll(ctx, output, stdoutDir != null, {
        list: await listWaiting(async () => (await request(ctx.repo, 'ls', {}, { signal: ctx.signal })).files, ctx.signal),
        fetch: async ({ cid, key }, out, onProgress) => request(ctx.repo, 'get', {
          cid,
          cwd: ctx.cwd,
          timeout: seconds * 1000,
          force: ctx.flags.force,
          ...(out != null ? { output: out } : {}),
          ...(key != null ? { key: Buffer.from(key).toString('base64url') } : {}),
          ...(ctx.flags.copy ? { copy: true } : {})
        }, { signal: ctx.signal, onEvent: (evt) => { if (evt?.type === 'progress') onProgress(evt) } })
      })
    } else if (!await fromStore(ctx, output, stdoutDir != null)) {
      await withTemporaryNode(ctx, seconds, output, stdoutDir != null)
    }
  } finally {
    if (stdoutDir != null) await rm(stdoutDir, { recursive: true, force: true })
  }
}

/** Fetches every target in turn; a failed one does not stop the others (exit 1 at the end). */
async function getAll (ctx: Context<'get'>, output: string | undefined, toStdout: boolean, getter: Getter): Promise<void> {
  const got: FetchedFile[] = []
  let failed: unknown
  for (const text of ctx.positionals) {
    try {
      got.push(await getOne(ctx, text, output, toStdout, getter))
    } catch (err) {
      if (ctx.signal.aborted || ctx.positionals.length === 1) throw err
      ctx.out.error(err)
      failed = err
    }
  }
  ctx.out.data(ctx.positionals.length === 1 ? got[0] : { files: got })
  if (failed != null) throw new ExitError(1)
}

async function getOne (ctx: Context<'get'>, text: string, output: string | undefined, toStdout: boolean, getter: Getter): Promise<FetchedFile> {
  const target = await resolveTarget(text, getter)
  const { cid } = target
  // labelled by the file's name once the node knows it
  const bar = ctx.out.progress(text !== cid && !text.startsWith('swarmdrop:') ? text : shortId(cid))
  let file: FetchedFile
  try {
    file = await getter.fetch(target, output, (info) => {
      bar.update(info.bytes, { ...(info.total != null ? { total: info.total } : {}), ...(info.name != null && info.name !== cid ? { label: info.name } : {}), providers: info.providers })
    })
  } catch (err) {
    bar.finish(ctx.signal.aborted ? 'cancelled' : 'failed')
    throw err
  }
  const rate = averageRate(file.received, file.elapsed)
  bar.finish('done', { rate })
  const how = `(${file.files != null ? `${file.files} file${file.files === 1 ? '' : 's'}, ` : ''}${formatBytes(file.size)}${file.decrypted ? ', decrypted' : ''}) in ${formatDuration(file.elapsed)}, ${formatRate(rate)} from ${file.providers} peer${file.providers === 1 ? '' : 's'}${file.received < file.size ? `, ${formatBytes(file.size - file.received)} were already here` : ''}`
  if (toStdout) {
    if (file.files != null) throw new UsageError(`${printable(file.name)} is a folder: -o - writes one file; give a folder with -o, or CID/PATH of one file in it`, 'get')
    await ctx.out.pipe(createReadStream(file.path))
    ctx.out.note(`wrote ${printable(file.name)} to stdout ${how}`)
    warnDisputes(ctx, file, true)
    return { ...file, path: '-' }
  }
  const line = `wrote ${file.path}${file.files != null ? '/' : ''} ${how}`
  // on a terminal too narrow for it: the path on its own line, the figures below
  if (ctx.out.width != null && [...line].length >= ctx.out.width) {
    ctx.out.print(`wrote ${file.path}`)
    ctx.out.print(`  ${how}`)
  } else {
    ctx.out.print(line)
  }
  warnDisputes(ctx, file, false)
  if (file.encrypted && !file.decrypted) {
    ctx.out.note(`this file is encrypted: ${file.path} holds ciphertext. To read it, ask the sharer for its link (swarmdrop:${cid}#<key>) and run \`swarmdrop get LINK\``)
  }
  return file
}

/** Names listed in a warning; more are counted. */
const MAX_NAMES_SHOWN = 3

/**
 * Warnings (stderr) when providers announced the content otherwise than as written: other names
 * when the name written is not the caller's (a remote one, or the store's), and sizes or an
 * encrypted flag its blocks contradict. --json carries the same as the file's fields.
 */
function warnDisputes (ctx: Context<'get'>, file: FetchedFile, toStdout: boolean): void {
  const id = shortId(file.cid)
  const others = file.otherNames ?? []
  if (!toStdout && others.length > 0 && (file.nameFrom === 'announced' || file.nameFrom === 'local')) {
    const shown = others.slice(0, MAX_NAMES_SHOWN).map(quotedName).join(', ')
    const more = others.length > MAX_NAMES_SHOWN ? ` and ${others.length - MAX_NAMES_SHOWN} other name${others.length - MAX_NAMES_SHOWN === 1 ? '' : 's'}` : ''
    const why = file.nameFrom === 'announced' ? 'the name of its first provider' : 'the name this node\'s store gives it'
    ctx.out.warn(`${id} was also announced as ${shown}${more}; written as ${quotedName(file.name)}, ${why}; give -o NAME to choose`)
  }
  const said: string[] = []
  if (file.otherSizes != null) said.push(file.otherSizes.slice(0, MAX_NAMES_SHOWN).map(n => formatBytes(n)).join(', '))
  if (file.encryptedDisputed === true) said.push(file.encrypted ? 'not encrypted' : 'encrypted')
  if (said.length > 0) {
    ctx.out.warn(`${id} was also announced as ${said.join(', ')}; its blocks hold ${formatBytes(file.size)}, ${file.encrypted ? 'encrypted' : 'not encrypted'}, and that is what was written`)
  }
}

/**
 * No node runs: when every target is a CID or link complete in the repository's store,
 * writes them from there at once, without starting a network node (nothing listens or
 * dials; `--json` says `"local": true`). Resolves false (having written nothing) otherwise.
 */
async function fromStore (ctx: Context<'get'>, output: string | undefined, toStdout: boolean): Promise<boolean> {
  if (ctx.positionals.some(t => !t.startsWith('swarmdrop:') && !/^[a-zA-Z0-9]+$/.test(t))) return false
  const { openLocalStore, getFromStore } = await import('../../node/local-store.js')
  const { parseTarget } = await import('../../crypto/index.js')
  let local
  try {
    local = await openLocalStore(ctx.repo)
  } catch (err: any) {
    // a node started meanwhile holds the lock: let the usual path report it
    if (err?.name === 'RepoLockedError') return false
    throw err
  }
  try {
    for (const t of ctx.positionals) {
      let cid: string
      try {
        cid = parseTarget(t).cid
      } catch {
        return false
      }
      const rec = await local.store.get(cid)
      if (rec?.complete !== true) return false
    }
    await getAll(ctx, output, toStdout, {
      list: async () => [],
      fetch: async ({ cid, key }, out) => {
        const file = await getFromStore(local.store, cid, {
          ...(key != null ? { key } : {}),
          ...(out != null ? { output: out } : {}),
          cwd: ctx.cwd,
          force: ctx.flags.force,
          copy: ctx.flags.copy,
          signal: ctx.signal
        })
        if (file == null) throw new NotCompleteHereError(cid)
        return file
      }
    })
    return true
  } finally {
    await local.close()
  }
}

/** A file the store held complete stopped being so (its reference broke) while `get` wrote it. */
export class NotCompleteHereError extends Error {
  static override name = 'NotCompleteHereError'

  constructor (cid: string) {
    super(`${cid} is no longer complete in this store (a file it was read from changed); run the command again to fetch it from the swarm`)
    this.name = 'NotCompleteHereError'
  }
}

async function withTemporaryNode (ctx: Context<'get'>, seconds: number, output: string | undefined, toStdout: boolean): Promise<void> {
  const init = await nodeInit(ctx)
  const { createSwarmNode } = await import('../../node/index.js')
  ctx.out.note(`no node runs on ${ctx.repo}; starting a temporary one`)
  ctx.signal.throwIfAborted()
  const node = await createSwarmNode({ ...init, lock: true, start: false })
  // a peer that refused us for a different swarm key is the reason to give, not "no peer"
  let refused: string | undefined
  node.addEventListener('swarm-key:mismatch', (e) => { if (e.detail.direction === 'outbound') refused ??= e.detail.message })
  await node.start()
  try {
    try {
      await node.waitForPeers({ count: 1, timeout: seconds * 1000, signal: ctx.signal })
    } catch (err: any) {
      if (err.name === 'NoPeersError') throw new NoPeersError(seconds, init.mdns !== false, refused)
      throw err
    }
    await getAll(ctx, output, toStdout, {
      list: await listWaiting(async () => node.ls(), ctx.signal),
      fetch: async ({ cid, key }, out, onProgress) => fetchToFile(node, cid, {
        ...(key != null ? { key } : {}),
        ...(out != null ? { output: out } : {}),
        cwd: ctx.cwd,
        force: ctx.flags.force,
        copy: ctx.flags.copy,
        timeout: seconds * 1000,
        catalogWait: CATALOG_WAIT_MS,
        signal: ctx.signal,
        onProgress
      })
    })
  } finally {
    await node.stop()
  }
}
