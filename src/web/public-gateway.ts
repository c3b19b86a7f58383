/**
 * `--gateway-listen ADDR`: the read-only gateway alone on an address chosen on purpose (for
 * instance the LAN's), without the page or its API. Any Host is accepted there: what it
 * serves is public to whoever reaches it anyway, and nothing on it changes state. docs/WEB.md
 * says what exposing it means: anyone who reaches it reads every file of the swarm and can
 * make the node fetch any CID.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { WebNode } from './adapter.js'
import { InvalidWebPortError, WebListenError } from './errors.js'
import { handleGateway } from './gateway.js'

export interface ListenAddress { host: string, port: number }

/** `HOST:PORT`, `[IPv6]:PORT`. */
export function parseListenAddress (text: string): ListenAddress {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(text.trim())
  if (m == null) throw new InvalidWebPortError(text)
  const port = Number(m[2])
  if (port > 65535) throw new InvalidWebPortError(text)
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port }
}

export async function startPublicGateway (node: WebNode, addr: ListenAddress, timeout: number): Promise<{ url: string, stop: () => Promise<void> }> {
  const closing = new AbortController()
  const server: Server = createServer((req, res) => {
    const request = new AbortController()
    res.on('close', () => { request.abort() })
    const url = new URL(req.url ?? '/', 'http://gateway')
    if (!url.pathname.startsWith('/ipfs/')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('404 Not Found: this address serves the read-only gateway only: GET /ipfs/{cid}\n')
      return
    }
    handleGateway({ node, timeout }, req, res, url, AbortSignal.any([request.signal, closing.signal])).catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: any) => { reject(new WebListenError(addr.port, err?.code ?? err?.message)) })
    server.listen(addr.port, addr.host, () => { resolve() })
  })
  const { port } = server.address() as AddressInfo
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host
  return {
    url: `http://${host}:${port}/ipfs/`,
    stop: async () => {
      closing.abort()
      await new Promise<void>(resolve => {
        server.close(() => { resolve() })
        server.closeAllConnections()
      })
    }
  }
}
