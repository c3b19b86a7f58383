/**
 * The web server of a node: one HTTP server on 127.0.0.1 serving the page, its API and
 * the IPFS gateway. Every request passes the checks of auth.ts first (Host, then the
 * token except for the gateway, then same-origin for anything but GET/HEAD).
 */
import { setMaxListeners } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { createLogger } from '../util/logger.js'
import type { WebNode } from './adapter.js'
import { handleApi, json } from './api.js'
import { crossOriginReason, isAllowedHost, tokenCookie, tokenOf } from './auth.js'
import { WebListenError, WebRequestError } from './errors.js'
import { handleGateway } from './gateway.js'
import { LiveFeed } from './live.js'
import { PAGE_CSS, pageHtml } from './page/html.js'

export interface WebServerOptions {
  node: WebNode
  token: string
  /** Ports tried in order (0: any free port). */
  ports: number[]
  host: string
  downloadDir: string
  gatewayTimeout: number
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
}

function text (res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
  res.end(body + '\n')
}

export class WebServer {
  private readonly o: WebServerOptions
  private readonly server: Server
  private readonly live: LiveFeed
  private readonly closing = new AbortController()
  private readonly log = createLogger('web')
  private appJs?: Promise<Buffer>
  port = 0

  constructor (o: WebServerOptions) {
    this.o = o
    // every download started from the page listens to it until it ends
    setMaxListeners(Infinity, this.closing.signal)
    this.live = new LiveFeed(o.node)
    this.server = createServer((req, res) => { void this.handle(req, res) })
  }

  /** The page's URL with the token: what `swarmdrop start` prints. */
  get url (): string {
    return `http://127.0.0.1:${this.port}/?token=${this.o.token}`
  }

  async listen (): Promise<void> {
    let last: any
    for (const port of this.o.ports) {
      try {
        await new Promise<void>((resolve, reject) => {
          const onError = (err: Error): void => { reject(err) }
          this.server.once('error', onError)
          this.server.listen(port, this.o.host, () => {
            this.server.off('error', onError)
            resolve()
          })
        })
        this.port = (this.server.address() as AddressInfo).port
        this.log('serving the page and gateway on http://%s:%d', this.o.host, this.port)
        return
      } catch (err: any) {
        last = err
        if (err?.code !== 'EADDRINUSE') break
      }
    }
    throw new WebListenError(this.o.ports[0] ?? 0, last?.code ?? last?.message ?? 'unknown error')
  }

  async close (): Promise<void> {
    this.closing.abort()
    this.live.close()
    await new Promise<void>(resolve => {
      this.server.close(() => { resolve() })
      this.server.closeAllConnections()
    })
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = new AbortController()
    res.on('close', () => { request.abort() })
    const signal = AbortSignal.any([request.signal, this.closing.signal])
    try {
      if (!isAllowedHost(req.headers.host)) {
        text(res, 403, `403 Forbidden: Host "${req.headers.host ?? ''}" is not this machine's loopback address; open http://127.0.0.1:${this.port}/`)
        return
      }
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
      if (url.pathname.startsWith('/ipfs/')) {
        await handleGateway({ node: this.o.node, timeout: this.o.gatewayTimeout }, req, res, url, signal)
        return
      }
      const via = tokenOf(req, url, this.o.token, this.port)
      if (via == null) {
        text(res, 401, '401 Unauthorized: this page needs its token. Open the URL that `swarmdrop start` printed, or run `swarmdrop open`.')
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const why = crossOriginReason(req)
        if (why != null) {
          text(res, 403, `403 Forbidden: cross-origin request refused (${why})`)
          return
        }
      }
      if (via === 'query') res.setHeader('Set-Cookie', tokenCookie(this.o.token, this.port))
      if (url.pathname.startsWith('/api/')) {
        await handleApi({ node: this.o.node, live: this.live, downloadDir: this.o.downloadDir, signal: this.closing.signal, log: this.log }, req, res, url, signal)
        return
      }
      await this.asset(req, res, url, via)
    } catch (err: any) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      const status = err instanceof WebRequestError ? err.status : /^(InvalidCid|RecordNotFound|NotAFile)/.test(err?.name ?? '') ? 400 : 500
      if (status === 500) this.log.error('%s %s failed: %e', req.method, req.url?.replace(/token=[^&]*/, 'token=…'), err)
      json(res, status, { error: { name: err?.name ?? 'Error', message: err?.message ?? String(err) } })
    }
  }

  private async asset (req: IncomingMessage, res: ServerResponse, url: URL, via: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new WebRequestError(405, `${req.method ?? ''} ${url.pathname}: pages are read with GET`)
    if (url.pathname === '/' && via === 'query') {
      // keep the token out of the address bar and history: the cookie carries it from now on
      res.writeHead(303, { Location: '/', 'Cache-Control': 'no-store' })
      res.end()
      return
    }
    let body: string | Buffer
    let type: string
    switch (url.pathname) {
      case '/':
        body = pageHtml()
        type = 'text/html; charset=utf-8'
        break
      case '/style.css':
        body = PAGE_CSS
        type = 'text/css; charset=utf-8'
        break
      case '/app.js':
        this.appJs ??= readFile(new URL('./page/app.js', import.meta.url))
        body = await this.appJs
        type = 'text/javascript; charset=utf-8'
        break
      default:
        throw new WebRequestError(404, `${url.pathname} is not a page of this node`)
    }
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', ...SECURITY_HEADERS })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}
