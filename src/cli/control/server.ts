/**
 * Server side of the control API (see protocol.ts), run by `swarmdrop start`.
 *
 * The socket is created owner-only. A socket file left by a killed node is
 * replaced: the caller holds the repository lock, so no live node owns it.
 */
import { chmod, unlink } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { MAX_REQUEST_BYTES, type ControlRequest } from './protocol.js'

export interface HandlerContext {
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal
  /** Streams one event to the client. */
  emit: (event: unknown) => void
}

export type Handler = (params: Record<string, any>, ctx: HandlerContext) => Promise<unknown>

export class UnknownMethodError extends Error {
  static override name = 'UnknownMethodError'

  constructor (method: string) {
    super(`the node does not know the request "${method}"; is it an older swarmdrop? Restart it with this version`)
    this.name = 'UnknownMethodError'
  }
}

export class ControlServer {
  private readonly path: string
  private readonly handlers: Record<string, Handler>
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly controllers = new Set<AbortController>()
  private readonly onError: (err: Error) => void

  constructor (path: string, handlers: Record<string, Handler>, onError: (err: Error) => void = () => {}) {
    this.path = path
    this.handlers = handlers
    this.onError = onError
    this.server = createServer(socket => { this.serve(socket) })
  }

  async start (): Promise<void> {
    // stale socket of a dead node (the repository lock proves nobody else serves it)
    await unlink(this.path).catch(() => {})
    const mask = process.umask(0o177)
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject)
        this.server.listen(this.path, () => {
          this.server.off('error', reject)
          resolve()
        })
      })
    } finally {
      process.umask(mask)
    }
    await chmod(this.path, 0o600)
  }

  async stop (): Promise<void> {
    for (const c of this.controllers) c.abort(new Error('the node is stopping'))
    const closed = new Promise<void>(resolve => this.server.close(() => { resolve() }))
    for (const s of this.sockets) s.destroy()
    await closed
    await unlink(this.path).catch(() => {})
  }

  private serve (socket: Socket): void {
    this.sockets.add(socket)
    const controller = new AbortController()
    this.controllers.add(controller)
    let buffered = ''
    let handled = false
    socket.setEncoding('utf8')
    const send = (msg: unknown): void => {
      if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n')
    }
    socket.on('error', () => {})
    socket.on('close', () => {
      this.sockets.delete(socket)
      this.controllers.delete(controller)
      controller.abort(new Error('the client went away'))
    })
    socket.on('data', (chunk: string) => {
      if (handled) return
      buffered += chunk
      const nl = buffered.indexOf('\n')
      if (nl === -1) {
        if (buffered.length > MAX_REQUEST_BYTES) {
          send({ error: { name: 'RequestTooLargeError', message: 'request too large' } })
          socket.end()
          handled = true
        }
        return
      }
      handled = true
      void this.dispatch(buffered.slice(0, nl), controller.signal, send).finally(() => { socket.end() })
    })
  }

  private async dispatch (line: string, signal: AbortSignal, send: (msg: unknown) => void): Promise<void> {
    try {
      const req = JSON.parse(line) as ControlRequest
      if (req == null || typeof req.method !== 'string') throw new Error('malformed request')
      const handler = Object.hasOwn(this.handlers, req.method) ? this.handlers[req.method] : undefined
      if (handler == null) throw new UnknownMethodError(req.method)
      const result = await handler(req.params ?? {}, { signal, emit: (event) => { send({ event }) } })
      send({ result: result ?? null })
    } catch (err: any) {
      if (!signal.aborted) this.onError(err)
      send({ error: { name: err?.name ?? 'Error', message: err?.message ?? String(err) } })
    }
  }
}
