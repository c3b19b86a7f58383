/**
 * `swarmdrop start`: runs a node in the foreground, serves the control
 * socket, prints one line per event, stops cleanly on SIGINT / SIGTERM or
 * `swarmdrop stop`. With --replicate the node fetches and pins every announced file
 * (the library's `replicate: true`); this prints its `replicate:*` events.
 */
import { resolve } from 'node:path'
import type { CommandFn, Context } from '../context.js'
import { EXIT, ExitError, UsageError } from '../errors.js'
import { ControlServer, createHandlers, socketPath } from '../../control/index.js'
import { fetchToFile, fileStatus, listFiles, readKeyFile, shareFiles } from '../files.js'
import { averageRate, describeControlEvent, formatBytes, formatDuration, formatRate, keyFingerprint, printable, swarmLabel } from '../format.js'
import type { ProgressBar } from '../output.js'
import { attachNodeLog } from '../node-log.js'
import type { SwarmNodeInit } from '../../node/index.js'

/** Node options shared by `start` and `get` (temporary node). */
export async function nodeInit (ctx: Context<'start'> | Context<'get'>): Promise<SwarmNodeInit> {
  const f = ctx.flags
  const init: SwarmNodeInit = { repo: ctx.repo, mdns: !f['no-mdns'] }
  if (f.name != null) init.name = f.name
  if (f.swarm != null) init.swarm = f.swarm
  if (f.listen.length > 0) init.listen = f.listen
  if (f.peer.length > 0) init.bootstrap = f.peer
  if (f.relay.length > 0) init.relays = f.relay
  if (f.announce.length > 0) init.announce = f.announce
  if (f['swarm-key'] != null) {
    init.swarmKey = await readKeyFile(resolve(ctx.cwd, f['swarm-key']))
  }
  return init
}

/** The web page and gateway (docs/WEB.md) unless --no-web, on --web or $SWARMDROP_WEB_PORT; its URL goes to `<repo>/web-url` for `swarmdrop open`. */
async function startWeb (ctx: Context<'start'>, node: import('../../node/index.js').SwarmNode): Promise<{ url: string, gateway: string | undefined, stop: () => Promise<void> } | undefined> {
  if (ctx.flags['no-web']) return undefined
  const { startWebServer, writeWebUrl } = await import('../../web/index.js')
  const envPort = ctx.env.SWARMDROP_WEB_PORT
  const port = ctx.flags.web ?? (envPort != null && envPort !== '' ? Number(envPort) : undefined)
  const gatewayListen = ctx.flags['gateway-listen']
  const web = await startWebServer(node, { ...(port != null ? { port } : {}), ...(gatewayListen != null ? { gatewayListen } : {}) })
  const forget = await writeWebUrl(node.repo, web.url)
  return { url: web.url, gateway: web.gatewayUrl, stop: async () => { await forget(); await web.stop() } }
}

/** `--relay-max-*` flags as relay limits (unset ones keep the defaults of src/net). */
function relayLimits (f: Context<'start'>['flags']): NonNullable<SwarmNodeInit['relayService']> {
  const limits: NonNullable<SwarmNodeInit['relayService']> = {}
  if (f['relay-max-bytes'] != null) limits.dataLimit = Math.round(f['relay-max-bytes'] * 1024 * 1024)
  if (f['relay-max-seconds'] != null) limits.durationLimit = Math.round(f['relay-max-seconds'] * 1000)
  if (f['relay-max-reservations'] != null) limits.maxReservations = Math.round(f['relay-max-reservations'])
  return limits
}

/** A size as people write it: 500M, 2G, 1.5GiB, 4096 (bytes); units are powers of 1024. */
export function parseSize (text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim())
  const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }
  const n = m == null ? NaN : Number(m[1]) * units[m[2]!.toUpperCase()]!
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--max-store: "${text}" is not a size; write e.g. 500M, 20G or 1T`, 'start')
  return Math.floor(n)
}

export const start: CommandFn<'start'> = async (ctx) => {
  const { out } = ctx
  const maxStore = ctx.flags['max-store']
  if (maxStore != null && !ctx.flags.replicate) throw new UsageError('--max-store limits what --replicate keeps; give both', 'start')
  const maxStoreBytes = maxStore != null ? parseSize(maxStore) : undefined
  const init = await nodeInit(ctx)
  if (ctx.flags['relay-service']) init.relayService = relayLimits(ctx.flags)
  const { createSwarmNode } = await import('../../node/index.js')
  ctx.signal.throwIfAborted()
  // what happens while the node starts (peers joining, replication) is printed after the banner
  let held: Array<() => void> | undefined = []
  const log = (event: string, detail: Record<string, unknown>, human: string): void => {
    const at = new Date()
    const write = (): void => {
      if (out.json) out.event({ event, time: at.toISOString(), ...detail })
      else out.print(`${out.style('dim', at.toTimeString().slice(0, 8))}  ${human}`)
    }
    if (held != null) held.push(write)
    else write()
  }
  const node = await createSwarmNode({ ...init, replicate: ctx.flags.replicate, ...(maxStoreBytes != null ? { maxStoreBytes } : {}), stablePort: true, start: false })
  // replication and bootstrap dials begin at start: listen first so no event is missed
  node.addEventListener('swarm-key:mismatch', (e) => { log('swarm-key:mismatch', { ...e.detail }, `${out.style('yellow', 'refused')}      ${e.detail.message}`) })
  // a bar per file being replicated (stderr, people only), beside the log's start and end lines
  const bars = new Map<string, ProgressBar>()
  node.addEventListener('replicate:start', ({ detail: { cid, name } }) => {
    log('replicate:start', { cid, name }, `replicating  ${printable(name)} ${cid}`)
    bars.get(cid)?.finish('failed')
    bars.set(cid, out.progress(name))
  })
  node.addEventListener('replicate:progress', ({ detail: { cid, bytes, total, providers } }) => {
    bars.get(cid)?.update(bytes, { ...(total != null ? { total } : {}), providers })
  })
  node.addEventListener('replicate:done', ({ detail: { cid, name, size, received, elapsed } }) => {
    // the same figure as get's: what came over the network, over the time it took
    const rate = averageRate(received, elapsed)
    bars.get(cid)?.finish('done', { rate })
    bars.delete(cid)
    log('replicate:done', { cid, name, size, received, elapsed, rate: Math.round(rate) }, `replicated   ${printable(name)} (${formatBytes(size)}) in ${formatDuration(elapsed)}, ${formatRate(rate)}`)
  })
  node.addEventListener('replicate:failed', ({ detail: { cid, name, error } }) => {
    bars.get(cid)?.finish(ctx.signal.aborted ? 'cancelled' : 'failed')
    bars.delete(cid)
    log('replicate:failed', { cid, name, error: error.message }, `replication of ${printable(name)} ${cid} failed: ${error.message}`)
  })
  attachNodeLog(node, out, log)
  try {
    await node.start()
  } catch (err) {
    held = undefined
    throw err
  }
  const started = Date.now()

  let requestStop!: () => void
  const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
  const files = {
    share: async (paths: string[], o: { encrypt: boolean, copy?: boolean, signal: AbortSignal }) => shareFiles(node, paths, o),
    list: async () => listFiles(node),
    status: async () => fileStatus(node),
    get: async (cid: string, o: Parameters<typeof fetchToFile>[2]) => fetchToFile(node, cid, o)
  }
  const fingerprint = init.swarmKey != null ? keyFingerprint(init.swarmKey) : undefined
  const server = new ControlServer(socketPath(node.repo), createHandlers({
    node, files, requestStop, started, ...(fingerprint != null ? { keyFingerprint: fingerprint } : {}), log: (e) => { const { detail, human } = describeControlEvent(e); log(e.event, detail, human) }
  }))
  try {
    await server.start()
  } catch (err: any) {
    await node.stop()
    throw new Error(`cannot open the control socket ${socketPath(node.repo)} (${err.code ?? err.message})`)
  }
  const web = await startWeb(ctx, node).catch(async (err) => {
    await server.stop()
    await node.stop()
    throw err
  })

  node.addEventListener('relay:limit', (e) => { log('relay:limit', { ...e.detail }, `${out.style('yellow', 'relay limit')}  ${e.detail.message}`) })

  if (out.json) {
    out.event({ event: 'ready', time: new Date().toISOString(), peerId: node.peerId, name: node.name, swarm: node.swarm, ...(fingerprint != null ? { private: true, keyFingerprint: fingerprint } : {}), repo: node.repo, addrs: node.getMultiaddrs(), ...(node.listenNote != null ? { listenNote: node.listenNote } : {}), socket: socketPath(node.repo), replicate: ctx.flags.replicate, ...(web != null ? { web: web.url } : {}), ...(web?.gateway != null ? { gateway: web.gateway } : {}) })
  } else {
    out.print(`${out.style('bold', 'swarmdrop node')} ${node.peerId}`)
    out.print(`  nickname  ${node.name}`)
    out.print(`  swarm     ${swarmLabel(node.swarm, fingerprint)}`)
    out.print(`  repo      ${node.repo}`)
    for (const a of node.getMultiaddrs()) out.print(`  listening ${a}`)
    if (node.listenNote != null) out.print(`  ${out.style('yellow', 'note')}      ${node.listenNote}`)
    if (web != null) out.print(`  web page  ${web.url}`)
    if (web?.gateway != null) out.print(`  gateway   ${web.gateway} (read-only, open to anyone who can reach it)`)
    if (ctx.flags.replicate) out.print('  replicating every announced file')
    out.print(`ready: other commands reach this node with --repo ${node.repo}; Ctrl-C to stop`)
  }
  const early = held
  held = undefined
  for (const write of early) write()

  await Promise.race([stopRequested, new Promise<void>(resolve => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })])
  for (const b of bars.values()) b.finish('cancelled')
  out.note('stopping…')
  await web?.stop()
  await server.stop()
  await node.stop()
  if (out.json) out.event({ event: 'stopped', time: new Date().toISOString() })
  else out.print('stopped')
  // Ctrl-C exits 130 like every command (and like npx, which reports 130 itself); stop and SIGTERM exit 0
  if (ctx.signal.aborted && ctx.signal.reason?.signal === 'SIGINT') throw new ExitError(EXIT.INTERRUPTED)
}
