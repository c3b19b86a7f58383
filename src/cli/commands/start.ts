/**
 * `swarmdrop start`: runs a node in the foreground, serves the control
 * socket, prints one line per event, stops cleanly on SIGINT / SIGTERM or
 * `swarmdrop stop`. With --replicate it fetches and pins every announced file.
 */
import { resolve } from 'node:path'
import type { CommandFn, Context } from '../context.js'
import { createHandlers } from '../control/handlers.js'
import { socketPath } from '../control/protocol.js'
import { ControlServer } from '../control/server.js'
import type { FilesNode } from '../files.js'
import { formatBytes, formatDuration, printable, shortId } from '../format.js'
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
    const { readSwarmKeyFile } = await import('../../node/index.js')
    init.swarmKey = await readSwarmKeyFile(resolve(ctx.cwd, f['swarm-key']))
  }
  return init
}

/** `--relay-max-*` flags as relay limits (unset ones keep the defaults of src/net). */
function relayLimits (f: Context<'start'>['flags']): NonNullable<SwarmNodeInit['relayService']> {
  const limits: NonNullable<SwarmNodeInit['relayService']> = {}
  if (f['relay-max-bytes'] != null) limits.dataLimit = Math.round(f['relay-max-bytes'] * 1024 * 1024)
  if (f['relay-max-seconds'] != null) limits.durationLimit = Math.round(f['relay-max-seconds'] * 1000)
  if (f['relay-max-reservations'] != null) limits.maxReservations = Math.round(f['relay-max-reservations'])
  return limits
}

function time (): string {
  return new Date().toTimeString().slice(0, 8)
}

export const start: CommandFn<'start'> = async (ctx) => {
  const { out } = ctx
  const init = await nodeInit(ctx)
  if (ctx.flags['relay-service']) init.relayService = relayLimits(ctx.flags)
  const { createSwarmNode } = await import('../../node/index.js')
  ctx.signal.throwIfAborted()
  const node = await createSwarmNode(init)
  const started = Date.now()

  const log = (event: string, detail: Record<string, unknown>, human: string): void => {
    if (out.json) out.event({ event, time: new Date().toISOString(), ...detail })
    else out.print(`${out.style('dim', time())}  ${human}`)
  }
  const who = (id: string): string => {
    const name = node.peerName(id)
    return name != null ? `${printable(name)} (${shortId(id)})` : shortId(id)
  }

  let requestStop!: () => void
  const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
  const server = new ControlServer(socketPath(node.repo), createHandlers({ node, requestStop, started, log }))
  try {
    await server.start()
  } catch (err: any) {
    await node.stop()
    throw new Error(`cannot open the control socket ${socketPath(node.repo)} (${err.code ?? err.message})`)
  }

  node.addEventListener('peer:connect', (e) => { log('peer:connect', { peer: e.detail.id }, `${out.style('green', 'peer joined')}  ${who(e.detail.id)}`) })
  node.addEventListener('peer:disconnect', (e) => { log('peer:disconnect', { peer: e.detail.id }, `${out.style('yellow', 'peer left')}    ${who(e.detail.id)}`) })
  node.addEventListener('relay:limit', (e) => { log('relay:limit', { ...e.detail }, `${out.style('yellow', 'relay limit')}  ${e.detail.message}`) })
  node.addEventListener('peer:name', (e) => { log('peer:name', { peer: e.detail.id, name: e.detail.name }, `peer named   ${printable(e.detail.name)} (${shortId(e.detail.id)})`) })
  const replicator = ctx.flags.replicate ? new Replicator(node, log, ctx.signal) : undefined
  if (node.protocol != null) {
    node.protocol.addEventListener('file:announced', (e) => {
      const { entry, peer } = e.detail
      if (peer === node.peerId) return
      log('file:announced', { cid: entry.cid, name: entry.name, size: entry.size, peer }, `${out.style('cyan', 'file')}         ${printable(entry.name)} (${formatBytes(entry.size)}) ${entry.cid} from ${who(peer)}`)
      replicator?.add(entry.cid, entry.name)
    })
    node.protocol.addEventListener('file:withdrawn', (e) => {
      if (e.detail.peer === node.peerId) return
      log('file:withdrawn', { cid: e.detail.cid, peer: e.detail.peer }, `withdrawn    ${e.detail.cid} by ${who(e.detail.peer)}`)
    })
  }

  if (out.json) {
    out.event({ event: 'ready', time: new Date().toISOString(), peerId: node.peerId, name: node.name, swarm: node.swarm, repo: node.repo, addrs: node.getMultiaddrs(), socket: socketPath(node.repo), replicate: ctx.flags.replicate })
  } else {
    out.print(`${out.style('bold', 'swarmdrop node')} ${node.peerId}`)
    out.print(`  nickname  ${node.name}`)
    out.print(`  swarm     ${node.swarm}`)
    out.print(`  repo      ${node.repo}`)
    for (const a of node.getMultiaddrs()) out.print(`  listening ${a}`)
    if (ctx.flags.replicate) out.print('  replicating every announced file')
    out.print(`ready: other commands reach this node with --repo ${node.repo}; Ctrl-C to stop`)
  }
  // files announced before the listener existed (catalog answers at join arrive later, but be sure)
  if (replicator != null && node.protocol != null) for (const e of node.protocol.catalog()) replicator.add(e.cid, e.name)

  await Promise.race([stopRequested, new Promise<void>(resolve => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })])
  out.note('stopping…')
  await replicator?.stop()
  await server.stop()
  await node.stop()
  if (out.json) out.event({ event: 'stopped', time: new Date().toISOString() })
  else out.print('stopped')
}

/** Fetches and pins announced files one at a time, each once. */
class Replicator {
  private readonly node: FilesNode
  private readonly log: (event: string, detail: Record<string, unknown>, human: string) => void
  private readonly queue: Array<{ cid: string, name: string }> = []
  private readonly seen = new Set<string>()
  private readonly controller = new AbortController()
  private running?: Promise<void>

  constructor (node: FilesNode, log: Replicator['log'], signal: AbortSignal) {
    this.node = node
    this.log = log
    signal.addEventListener('abort', () => { this.controller.abort() }, { once: true })
  }

  add (cid: string, name: string): void {
    if (this.seen.has(cid)) return
    this.seen.add(cid)
    this.queue.push({ cid, name })
    this.running ??= this.drain().finally(() => { this.running = undefined })
  }

  async stop (): Promise<void> {
    this.controller.abort()
    await this.running
  }

  private async drain (): Promise<void> {
    for (let item = this.queue.shift(); item != null && !this.controller.signal.aborted; item = this.queue.shift()) {
      const { cid, name } = item
      try {
        const rec = await this.node.store.get(cid)
        if (rec?.complete === true) {
          if (!rec.pinned) await this.node.store.pin(cid)
          continue
        }
        this.log('replicate:start', { cid, name }, `replicating  ${printable(name)} ${cid}`)
        const res = await this.node.fetch(cid, { signal: this.controller.signal })
        await this.node.store.pin(cid)
        this.log('replicate:done', { cid, name, size: res.size, elapsed: res.elapsed }, `replicated   ${printable(name)} (${formatBytes(res.size)}) in ${formatDuration(res.elapsed)}`)
      } catch (err: any) {
        if (this.controller.signal.aborted) return
        this.seen.delete(cid) // a later announcement retries
        this.log('replicate:failed', { cid, name, error: err.message }, `replication of ${printable(name)} ${cid} failed: ${err.message}`)
      }
    }
  }
}
