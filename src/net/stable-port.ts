/**
 * A stable listening port: the first start of a repository listens on a port the OS picks (picked
 * before the node is made, so that a stop() and start() in one process keep it) and remembers it
 * in `<repo>/listen-port`; later starts listen on it again, so a peer that dials this
 * node with `--peer /ip4/…/tcp/PORT/p2p/ID` finds it after a restart. When the remembered port is
 * taken the node falls back to a random one (and says so) and keeps the file, so the next start
 * tries the remembered port again.
 *
 * Only listen addresses with port 0 (`/ip4/0.0.0.0/tcp/0`, the default) are affected: an explicit
 * port is the user's choice.
 */
import { createServer } from 'node:net'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic-write.js'
import { LISTEN_PORT_FILE } from './constants.js'

export interface StableListen {
  /** The listen addresses to use (port 0 replaced by the remembered port when it is free). */
  listen: string[]
  /** The remembered port, when the repository has one. */
  remembered?: number
  /** Set when the remembered port could not be used: why, in a few words. */
  fallback?: string
}

/** `/ip4/H/tcp/0` and `/ip6/H/tcp/0` (nothing after the port): the addresses a remembered port applies to. */
const ANY_PORT = /^\/(ip4|ip6)\/([^/]+)\/tcp\/0$/

/** The repository's remembered port, if the file holds one. */
export async function readListenPort (repo: string): Promise<number | undefined> {
  let text: string
  try {
    text = await readFile(join(repo, LISTEN_PORT_FILE), 'utf8')
  } catch {
    return undefined
  }
  const port = Number(text.trim())
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined
}

/** Resolves the listen addresses of a repository's node: the remembered port where port 0 was asked for, if it is free. */
export async function stableListen (repo: string, listen: string[]): Promise<StableListen> {
  const hosts = listen.map(a => ANY_PORT.exec(a)).filter(m => m != null).map(m => m[2] ?? '')
  if (hosts.length === 0) return { listen }
  const remembered = await readListenPort(repo)
  if (remembered == null) {
    // the first start: a port picked now, not by the listener, so that a stop() and start() in
    // this process listens on it again (libp2p keeps the listen addresses it was made with)
    const picked = await freePort(hosts)
    return picked == null ? { listen } : { listen: listen.map(a => ANY_PORT.test(a) ? a.replace(/\/tcp\/0$/, `/tcp/${picked}`) : a) }
  }
  for (const host of hosts) {
    const problem = await tryBind(host, remembered)
    if (problem != null) return { listen, remembered, fallback: problem }
  }
  return { listen: listen.map(a => ANY_PORT.test(a) ? a.replace(/\/tcp\/0$/, `/tcp/${remembered}`) : a), remembered }
}

/**
 * After the first start: remembers the TCP port the node listens on (the first non-relayed TCP
 * listen address), unless the repository already remembers one. Resolves with the port remembered.
 */
export async function rememberListenPort (repo: string, multiaddrs: string[]): Promise<number | undefined> {
  const existing = await readListenPort(repo)
  if (existing != null) return existing
  for (const ma of multiaddrs) {
    if (ma.includes('/p2p-circuit')) continue
    const m = /^\/(?:ip4|ip6)\/[^/]+\/tcp\/(\d+)/.exec(ma)
    if (m?.[1] == null) continue
    const port = Number(m[1])
    try {
      await writeFileAtomic(join(repo, LISTEN_PORT_FILE), new TextEncoder().encode(`${port}\n`), { mode: 0o600, ifExists: 'fail' })
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw err
    }
    return port
  }
  return undefined
}

/** A port free on every one of `hosts` (the OS picks it on the first), or undefined after a few tries. */
async function freePort (hosts: string[]): Promise<number | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await new Promise<number | undefined>(resolve => {
      const server = createServer()
      server.once('error', () => { resolve(undefined) })
      server.listen({ host: hosts[0], port: 0, exclusive: true }, () => {
        const address = server.address()
        server.close(() => { resolve(typeof address === 'object' && address != null ? address.port : undefined) })
      })
    })
    if (port == null) return undefined
    let free = true
    for (const host of hosts.slice(1)) if (await tryBind(host, port) != null) free = false
    if (free) return port
  }
  return undefined
}

/** Binds and releases host:port; resolves with why it failed, or undefined when it is free. */
async function tryBind (host: string, port: number): Promise<string | undefined> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      resolve(err.code === 'EADDRINUSE' ? 'in use' : err.code === 'EACCES' ? 'not allowed' : (err.code ?? err.message))
    })
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => { resolve(undefined) })
    })
  })
}
