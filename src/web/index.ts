/**
 * The web page of a node and its IPFS gateway (docs/WEB.md).
 *
 * @example
 * ```ts
 * const web = await startWebServer(node, { port: 0 })
 * console.log(web.url)   // http://127.0.0.1:PORT/?token=...
 * await web.stop()
 * ```
 */
import type { SwarmNode } from '../node/index.js'
import { createWebNode, defaultDownloadDir, type WebNode } from './adapter.js'
import { loadOrCreateToken } from './auth.js'
import { InvalidWebPortError } from './errors.js'
import { parseListenAddress, startPublicGateway } from './public-gateway.js'
import { WebServer } from './server.js'

export { WebListenError, InvalidWebPortError, WebRequestError } from './errors.js'
export { loadOrCreateToken, TOKEN_FILE } from './auth.js'
export type { WebNode, WebFile } from './adapter.js'

/** The port tried first when none is given; the next ones follow when it is taken. */
export const DEFAULT_WEB_PORT = 5990
/** How many ports after the default are tried before any free port. */
const FALLBACK_PORTS = 9
/** Default ms the gateway waits for a block it must fetch from the swarm. */
export const GATEWAY_TIMEOUT_MS = 20_000

export interface WebInit {
  /** Port to listen on: 0 for any free port; given, it must be free (WebListenError). Default DEFAULT_WEB_PORT, then the next ones, then any. */
  port?: number
  /** Token (default: `<repo>/web-token`, made once). */
  token?: string
  /** Folder of "save on the node" (default `<repo>/downloads`). */
  downloadDir?: string
  /** ms the gateway waits for a block the store lacks (default 20 s). */
  gatewayTimeout?: number
  /** Also serve the read-only gateway alone on this address (`HOST:PORT`), deliberately exposed (docs/WEB.md). */
  gatewayListen?: string
  /** Replaces the node adapter (tests). */
  adapter?: WebNode
}

export interface RunningWeb {
  /** The page's address with the token: `http://127.0.0.1:PORT/?token=…`. */
  readonly url: string
  /** The address without the token (the gateway's base). */
  readonly origin: string
  readonly port: number
  readonly token: string
  /** The exposed gateway's base (`http://HOST:PORT/ipfs/`), with `gatewayListen`. */
  readonly gatewayUrl?: string
  stop: () => Promise<void>
}

export function checkPort (port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidWebPortError(port)
  return port
}

/** Serves the page, its API and the gateway of `node` on 127.0.0.1. */
export async function startWebServer (node: SwarmNode, init: WebInit = {}): Promise<RunningWeb> {
  const ports = init.port != null
    ? [checkPort(init.port)]
    : [...Array.from({ length: FALLBACK_PORTS + 1 }, (_, i) => DEFAULT_WEB_PORT + i), 0]
  const token = init.token ?? await loadOrCreateToken(node.repo)
  const adapter = init.adapter ?? createWebNode(node)
  const server = new WebServer({
    node: adapter,
    token,
    ports,
    host: '127.0.0.1',
    downloadDir: init.downloadDir ?? defaultDownloadDir(node),
    gatewayTimeout: init.gatewayTimeout ?? GATEWAY_TIMEOUT_MS
  })
  const gatewayAddr = init.gatewayListen != null ? parseListenAddress(init.gatewayListen) : undefined
  await server.listen()
  let exposed: Awaited<ReturnType<typeof startPublicGateway>> | undefined
  try {
    if (gatewayAddr != null) exposed = await startPublicGateway(adapter, gatewayAddr, init.gatewayTimeout ?? GATEWAY_TIMEOUT_MS)
  } catch (err) {
    await server.close()
    throw err
  }
  return {
    url: server.url,
    origin: `http://127.0.0.1:${server.port}`,
    port: server.port,
    token,
    ...(exposed != null ? { gatewayUrl: exposed.url } : {}),
    stop: async () => {
      await exposed?.stop()
      await server.close()
    }
  }
}

/** The page's URL of the node running on `repo` (written by `swarmdrop start`), for `swarmdrop open`. */
export { readWebUrl, writeWebUrl, WEB_URL_FILE } from './url-file.js'
