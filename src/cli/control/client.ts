/**
 * Client side of the control API (see protocol.ts). Uses node:net only, so
 * commands that talk to a running node never load libp2p.
 */
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { NoNodeError, RemoteError } from '../errors.js'
import { CONTROL_VERSION, socketPath, type ControlReply } from './protocol.js'

export interface RequestOptions {
  signal?: AbortSignal
  /** Called for each streamed event before the result. */
  onEvent?: (event: any) => void
}

/** Sends one request to the node on `repo`; resolves with its result. */
export async function request<T = any> (repo: string, method: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
  options.signal?.throwIfAborted()
  const path = socketPath(repo)
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const socket = connect(path)
    const finish = (err: Error | undefined, value?: T): void => {
      if (settled) return
      settled = true
      options.signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err != null) reject(err)
      else resolve(value as T)
    }
    const onAbort = (): void => { finish(options.signal?.reason ?? new Error('aborted')) }
    options.signal?.addEventListener('abort', onAbort, { once: true })

    socket.once('connect', () => {
      socket.write(JSON.stringify({ v: CONTROL_VERSION, method, params }) + '\n')
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') finish(new NoNodeError(repo, `no control socket at ${path}`))
      else if (err.code === 'ECONNREFUSED') finish(new NoNodeError(repo, `the control socket ${path} is stale: its node is gone`))
      else if (err.code === 'ENOTSOCK' || err.code === 'EACCES' || err.code === 'ENOTDIR') finish(new NoNodeError(repo, `cannot use ${path}: ${err.code}`))
      else finish(err)
    })
    const lines = createInterface({ input: socket })
    lines.on('error', () => {}) // the socket's own 'error' handler reports it
    lines.on('line', (line) => {
      let reply: ControlReply
      try {
        reply = JSON.parse(line)
      } catch {
        finish(new Error(`the node sent a malformed reply: ${line.slice(0, 80)}`))
        return
      }
      if ('event' in reply) {
        try {
          options.onEvent?.(reply.event)
        } catch (err: any) {
          finish(err)
        }
      } else if ('result' in reply) {
        finish(undefined, reply.result as T)
      } else if ('error' in reply) {
        finish(new RemoteError(reply.error.name, reply.error.message))
      }
    })
    socket.once('close', () => { finish(new Error('the node closed the connection before answering (did it stop?)')) })
  })
}

/** True when a node answers on `repo`'s control socket. */
export async function isNodeRunning (repo: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await request(repo, 'ping', {}, { signal })
    return true
  } catch (err: any) {
    if (err.name === 'NoNodeError') return false
    throw err
  }
}
