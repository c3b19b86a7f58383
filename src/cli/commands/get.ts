/**
 * `swarmdrop get CID`: through the running node when there is one, else
 * with a temporary node on the repository (same options as `start`), which
 * finds peers, fetches, writes the file and stops.
 */
import type { CommandFn, Context } from '../context.js'
import { request } from '../../control/client.js'
import { UsageError } from '../errors.js'
import { fetchToFile, type FetchedFile, type FetchProgressInfo } from '../files.js'
import { formatBytes, formatDuration, formatRate, shortId } from '../format.js'
import { nodeInit } from './start.js'

const DEFAULT_TIMEOUT_S = 30
/** How long a temporary node waits for the catalog to name the file before fetching anyway. */
const CATALOG_WAIT_MS = 3000

export class NoPeersError extends Error {
  static override name = 'NoPeersError'

  constructor (seconds: number, mdns: boolean) {
    super(`found no peer of the swarm in ${seconds} s; ${mdns ? 'start a node on another machine of this network, or ' : ''}pass --peer MULTIADDR of a running node`)
    this.name = 'NoPeersError'
  }
}

export const get: CommandFn<'get'> = async (ctx) => {
  const { parseTarget } = await import('../../crypto/index.js')
  const { cid, key } = parseTarget(ctx.positionals[0]!)
  const seconds = ctx.flags.timeout ?? DEFAULT_TIMEOUT_S
  if (seconds <= 0) throw new UsageError('--timeout must be more than 0 seconds', 'get')
  // labelled by the file's name once the node knows it
  const bar = ctx.out.progress(shortId(cid))
  const onProgress = (info: FetchProgressInfo): void => {
    bar.update(info.bytes, { ...(info.total != null ? { total: info.total } : {}), ...(info.name != null && info.name !== cid ? { label: info.name } : {}), providers: info.providers })
  }
  let file: FetchedFile
  const f = ctx.flags
  const nodeFlags = Object.entries({ name: f.name != null, swarm: f.swarm != null, 'swarm-key': f['swarm-key'] != null, listen: f.listen.length > 0, peer: f.peer.length > 0, 'no-mdns': f['no-mdns'] })
    .filter(([, given]) => given).map(([flag]) => flag)
  try {
    try {
      const params = { cid, output: ctx.flags.output, cwd: ctx.cwd, timeout: seconds * 1000, force: ctx.flags.force, ...(key != null ? { key: Buffer.from(key).toString('base64url') } : {}) }
      file = await request(ctx.repo, 'get', params, {
        signal: ctx.signal,
        onEvent: (evt) => { if (evt?.type === 'progress') onProgress(evt) }
      })
      if (nodeFlags.length > 0) ctx.out.note(`a node runs on ${ctx.repo}: it fetched with its own options (${nodeFlags.map(f => `--${f}`).join(' ')} ignored)`)
    } catch (err: any) {
      if (err.name !== 'NoNodeError') throw err
      file = await withTemporaryNode(ctx, cid, key, seconds, onProgress)
    }
  } catch (err) {
    bar.finish(ctx.signal.aborted ? 'cancelled' : 'failed')
    throw err
  }
  const rate = file.received / Math.max(file.elapsed, 1) * 1000
  bar.finish('done', { rate })
  ctx.out.data(file)
  const resumed = file.received < file.size ? `, ${formatBytes(file.size - file.received)} were already here` : ''
  const how = `(${formatBytes(file.size)}${file.decrypted ? ', decrypted' : ''}) in ${formatDuration(file.elapsed)}, ${formatRate(rate)} from ${file.providers} peer${file.providers === 1 ? '' : 's'}${resumed}`
  const line = `wrote ${file.path} ${how}`
  // on a terminal too narrow for it: the path on its own line, the figures below
  if (ctx.out.width != null && [...line].length >= ctx.out.width) {
    ctx.out.print(`wrote ${file.path}`)
    ctx.out.print(`  ${how}`)
  } else {
    ctx.out.print(line)
  }
  if (file.encrypted && !file.decrypted) {
    ctx.out.note(`this file is encrypted: ${file.path} holds ciphertext. To read it, ask the sharer for its link (swarmdrop:${cid}#<key>) and run \`swarmdrop get LINK\``)
  }
}

async function withTemporaryNode (ctx: Context<'get'>, cid: string, key: Uint8Array | undefined, seconds: number, onProgress: (info: FetchProgressInfo) => void): Promise<FetchedFile> {
  const init = await nodeInit(ctx)
  const { createSwarmNode } = await import('../../node/index.js')
  ctx.out.note(`no node runs on ${ctx.repo}; starting a temporary one`)
  ctx.signal.throwIfAborted()
  const node = await createSwarmNode({ ...init, lock: true })
  try {
    try {
      await node.waitForPeers({ count: 1, timeout: seconds * 1000, signal: ctx.signal })
    } catch (err: any) {
      if (err.name === 'NoPeersError') throw new NoPeersError(seconds, init.mdns !== false)
      throw err
    }
    // the catalog (asked for at join) gives the file's name; do not wait long for an unknown CID
    return await fetchToFile(node, cid, { ...(key != null ? { key } : {}), cwd: ctx.cwd, output: ctx.flags.output, force: ctx.flags.force, timeout: seconds * 1000, catalogWait: CATALOG_WAIT_MS, signal: ctx.signal, onProgress })
  } finally {
    await node.stop()
  }
}
