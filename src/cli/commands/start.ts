/**
 * `swarmdrop start`: runs a node in the foreground, serves the control
 * socket, prints one line per event, stops cleanly on SIGINT / SIGTERM or
 * `swarmdrop stop`.
 */
import { resolve } from 'node:path'
import type { CommandFn, Context } from '../context.js'
import { createHandlers } from '../control/handlers.js'
import { socketPath } from '../control/protocol.js'
import { ControlServer } from '../control/server.js'
import { shortId } from '../format.js'
import type { SwarmNodeInit } from '../../node/index.js'

/** Node options shared by `start` and `get` (temporary node). */
export async function nodeInit (ctx: Context<'start'> | Context<'get'>): Promise<SwarmNodeInit> {
  const f = ctx.flags
  const init: SwarmNodeInit = { repo: ctx.repo, mdns: !f['no-mdns'] }
  if (f.name != null) init.name = f.name
  if (f.swarm != null) init.swarm = f.swarm
  if (f.listen.length > 0) init.listen = f.listen
  if (f.peer.length > 0) init.bootstrap = f.peer
  if (f['swarm-key'] != null) {
    const { readSwarmKeyFile } = await import('../../node/index.js')
    init.swarmKey = await readSwarmKeyFile(resolve(ctx.cwd, f['swarm-key']))
  }
  return init
}

function time (): string {
  return new Date().toTimeString().slice(0, 8)
}

export const start: CommandFn<'start'> = async (ctx) => {
  const { out } = ctx
  const init = await nodeInit(ctx)
  const { createSwarmNode } = await import('../../node/index.js')
  ctx.signal.throwIfAborted()
  const node = await createSwarmNode(init)
  const started = Date.now()
  let requestStop!: () => void
  const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
  const server = new ControlServer(socketPath(node.repo), createHandlers({ node, requestStop, started }))
  try {
    await server.start()
  } catch (err: any) {
    await node.stop()
    throw new Error(`cannot open the control socket ${socketPath(node.repo)} (${err.code ?? err.message})`)
  }

  const log = (event: string, detail: Record<string, unknown>, human: string): void => {
    if (out.json) out.event({ event, time: new Date().toISOString(), ...detail })
    else out.print(`${out.style('dim', time())}  ${human}`)
  }
  const who = (id: string): string => {
    const name = node.peerName(id)
    return name != null ? `${name} (${shortId(id)})` : shortId(id)
  }
  node.addEventListener('peer:connect', (e) => { log('peer:connect', { peer: e.detail.id }, `${out.style('green', 'peer joined')}  ${who(e.detail.id)}`) })
  node.addEventListener('peer:disconnect', (e) => { log('peer:disconnect', { peer: e.detail.id }, `${out.style('yellow', 'peer left')}    ${who(e.detail.id)}`) })
  node.addEventListener('peer:name', (e) => { log('peer:name', { peer: e.detail.id, name: e.detail.name }, `peer named   ${e.detail.name} (${shortId(e.detail.id)})`) })

  if (out.json) {
    out.event({ event: 'ready', peerId: node.peerId, name: node.name, swarm: node.swarm, repo: node.repo, addrs: node.getMultiaddrs(), socket: socketPath(node.repo) })
  } else {
    out.print(`${out.style('bold', 'swarmdrop node')} ${node.peerId}`)
    out.print(`  nickname  ${node.name}`)
    out.print(`  swarm     ${node.swarm}`)
    out.print(`  repo      ${node.repo}`)
    for (const a of node.getMultiaddrs()) out.print(`  listening ${a}`)
    out.print(`ready: other commands reach this node with --repo ${node.repo}; Ctrl-C to stop`)
  }

  await Promise.race([stopRequested, new Promise<void>(resolve => {
    if (ctx.signal.aborted) resolve()
    ctx.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })])
  out.note('stopping…')
  await server.stop()
  await node.stop()
  if (out.json) out.event({ event: 'stopped', time: new Date().toISOString() })
  else out.print('stopped')
}
