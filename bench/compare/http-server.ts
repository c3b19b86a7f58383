/**
 * The client-server baseline of the comparison (bench/compare): a central file server on
 * Node's `http`, streaming from disk, with the three routes of a classic
 * upload/download service:
 *
 *   POST /upload?name=NAME   body = the file; stored on disk; 201 {id, name, size}
 *   GET  /files              200 [{id, name, size}]
 *   GET  /files/ID           200 the file's bytes (Content-Length set), streamed from disk
 *
 * It listens on 127.0.0.1 only and counts the file bytes it sends. kill() drops
 * every connection at once (the server "dies"); close() is the clean stop.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/** Longest accepted upload (bounded: this is a local benchmark, not a service). */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024

export interface StoredFile {
  id: string
  name: string
  size: number
}

export interface FileServerStats {
  /** File bytes handed to responses (downloads). */
  bytesSent: number
  /** Downloads started, sent to the end, and cut short. */
  downloads: { started: number, completed: number, aborted: number }
  uploads: number
}

export interface FileServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string
  stats: () => FileServerStats
  /** Stops accepting, lets nothing finish: every open connection is destroyed. */
  kill: () => Promise<void>
  /** Clean stop (idle connections closed, the server closed). Idempotent. */
  close: () => Promise<void>
}

export interface FileServerInit {
  /** Folder the uploaded files are written to. */
  dir: string
}

function sendJson (res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

class HttpFileServer implements FileServer {
  readonly url: string
  private readonly server: Server
  private readonly dir: string
  private readonly files = new Map<string, StoredFile>()
  private nextId = 1
  private closed = false
  private readonly counters: FileServerStats = { bytesSent: 0, downloads: { started: 0, completed: 0, aborted: 0 }, uploads: 0 }

  constructor (server: Server, dir: string) {
    this.server = server
    this.dir = dir
    const { port } = server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}`
  }

  stats (): FileServerStats {
    return { ...this.counters, downloads: { ...this.counters.downloads } }
  }

  handle (req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url)
    const onError = (err: unknown): void => {
      if (!res.headersSent) sendJson(res, 500, { error: String((err as Error)?.message ?? err) })
      else res.destroy()
    }
    if (req.method === 'POST' && url.pathname === '/upload') {
      this.upload(req, res, url.searchParams.get('name') ?? 'file').catch(onError)
    } else if (req.method === 'GET' && url.pathname === '/files') {
      sendJson(res, 200, [...this.files.values()])
    } else if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      this.download(res, url.pathname.slice('/files/'.length)).catch(onError)
    } else {
      sendJson(res, 404, { error: 'no such route' })
    }
  }

  private async upload (req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const id = String(this.nextId++)
    const path = join(this.dir, id)
    let size = 0
    const limit = new Transform({
      transform (chunk: Buffer, _enc, done) {
        size += chunk.byteLength
        done(size > MAX_UPLOAD_BYTES ? new Error(`upload larger than ${MAX_UPLOAD_BYTES} bytes`) : null, chunk)
      }
    })
    try {
      await pipeline(req, limit, createWriteStream(`${path}.part`, { mode: 0o600 }))
      await rename(`${path}.part`, path)
    } catch (err) {
      await rm(`${path}.part`, { force: true })
      throw err
    }
    const file: StoredFile = { id, name, size }
    this.files.set(id, file)
    this.counters.uploads++
    sendJson(res, 201, file)
  }

  private async download (res: ServerResponse, id: string): Promise<void> {
    const file = this.files.get(id)
    if (file == null) {
      sendJson(res, 404, { error: `no file ${id}` })
      return
    }
    const path = join(this.dir, id)
    const { size } = await stat(path)
    this.counters.downloads.started++
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
    const counters = this.counters
    let sent = 0
    const count = new Transform({
      transform (chunk: Buffer, _enc, done) {
        counters.bytesSent += chunk.byteLength
        sent += chunk.byteLength
        done(null, chunk)
      }
    })
    try {
      await pipeline(createReadStream(path), count, res)
      this.counters.downloads.completed++
    } catch {
      // the client went away or the server was killed: the response is already destroyed. A client
      // that has every byte (Content-Length) closes its connection at once, which can land before the
      // server's own stream has ended: every byte went out, so that download completed
      if (sent === size) this.counters.downloads.completed++
      else this.counters.downloads.aborted++
    }
  }

  async kill (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const done = new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
    this.server.closeAllConnections()
    await done
  }

  async close (): Promise<void> {
    await this.kill()
  }
}

/** Starts a file server on 127.0.0.1 (a free port) storing uploads in `init.dir`. */
export async function createFileServer (init: FileServerInit): Promise<FileServer> {
  const ready: { impl?: HttpFileServer } = {}
  const server = createServer((req, res) => { ready.impl?.handle(req, res) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  ready.impl = new HttpFileServer(server, init.dir)
  return ready.impl
}
