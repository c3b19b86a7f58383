/**
 * Server side of the control API (contract.ts), run by `swarmdrop start`.
 * Each request is checked at the edge (params.ts: version, method, params)
 * before its handler runs; a failure is answered with the error's name.
 *
 * The socket is created owner-only. A socket file left by a killed node is
 * replaced: the caller holds the repository lock, so no live node owns it.
 */
import { chmod, unlink } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { MAX_REQUEST_BYTES, type ControlMethod, type EventOf, type ParamsOf, type ResultOf } from './contract.js'
import { RequestTooLargeError } from './errors.js'
import { parseRequest } from './params.js'

export interface HandlerContext<E = unknown> {
  /** Aborted when the client goes away or the server stops. */
  signal: AbortSignal
  /** Streams one event to the client. */
  emit: (event: E) => void
}

/** Answers one method: gets checked params, returns the result (data only: clients format it). */
export type Handler<M extends ControlMethod> = (params: ParamsOf<M>, ctx: HandlerContext<EventOf<M>>) => Promise<ResultOf<M>>

/** A handler for every method of the contract. */
export type ControlHandlers = { [M in ControlMethod]: Handler<M> }

export class ControlServer {
  private readonly path: string
  private readonly handlers: ControlHandlers
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly controllers = new Set<AbortController>()
  private readonly onError: (err: Error) => void

  /**
   * @param path - the socket file (contract.ts socketPath(repo))
   * @param onError - told of every failed request (not of those the client abandoned)
   */
  constructor (path: string, handlers: ControlHandlers, onError: (err: Error) => void = () => {}) {
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
          const err = new RequestTooLargeError()
          send({ error: { name: err.name, message: err.message } })
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
      const req = parseRequest(line)
      // parseRequest pairs the method with its params; TypeScript cannot follow the pairing through the index
      const handler = this.handlers[req.method] as Handler<ControlMethod>
      const result = await handler(req.params, { signal, emit: (event) => { send({ event }) } })
      send({ result: result ?? null })
    } catch (err: any) {
      if (!signal.aborted) this.onError(err)
      send({ error: { name: err?.name ?? 'Error', message: err?.message ?? String(err), ...(typeof err?.cliMessage === 'string' ? { cliMessage: err.cliMessage } : {}) } })
    }
  }
}
