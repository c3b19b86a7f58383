/**
 * The clients of the central file server: upload, list, download to disk.
 * Each request opens its own connection (no keep-alive agent), so nothing
 * stays open after the last response.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { request, type IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { HttpStatusError, IncompleteDownloadError } from './errors.js'
import type { StoredFile } from './http-server.js'

interface RequestOptions {
  method?: string
  signal?: AbortSignal
  headers?: Record<string, string | number>
}

async function send (url: string, options: RequestOptions, body?: (req: NodeJS.WritableStream) => Promise<void>): Promise<IncomingMessage> {
  options.signal?.throwIfAborted()
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false, headers: options.headers, signal: options.signal }, resolve)
    req.once('error', reject)
    if (body == null) {
      req.end()
    } else {
      body(req).catch((err) => {
        req.destroy(err)
        reject(err)
      })
    }
  })
}

async function readJson<T> (res: IncomingMessage, url: string): Promise<T> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  if (res.statusCode == null || res.statusCode >= 300) throw new HttpStatusError(res.statusCode ?? 0, url)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T
}

/** POST /upload: streams the file at `path` to the server. */
export async function uploadFile (server: string, path: string, name: string, options: { signal?: AbortSignal } = {}): Promise<StoredFile> {
  const url = `${server}/upload?name=${encodeURIComponent(name)}`
  const { size } = await stat(path)
  const res = await send(url, { method: 'POST', signal: options.signal, headers: { 'content-type': 'application/octet-stream', 'content-length': size } },
    async (req) => { await pipeline(createReadStream(path), req) })
  return readJson<StoredFile>(res, url)
}

/** GET /files. */
export async function listFiles (server: string, options: { signal?: AbortSignal } = {}): Promise<StoredFile[]> {
  const url = `${server}/files`
  return readJson<StoredFile[]>(await send(url, { signal: options.signal }), url)
}

export interface DownloadOptions {
  signal?: AbortSignal
  /** Called with the bytes written so far, after each chunk. */
  onBytes?: (bytes: number) => void
}

/**
 * GET /files/ID into `dest`. Resolves with the bytes written; rejects with
 * IncompleteDownloadError when the connection ends before Content-Length bytes.
 */
export async function downloadFile (server: string, id: string, dest: string, options: DownloadOptions = {}): Promise<number> {
  const url = `${server}/files/${encodeURIComponent(id)}`
  const res = await send(url, { signal: options.signal })
  if (res.statusCode !== 200) {
    res.resume()
    throw new HttpStatusError(res.statusCode ?? 0, url)
  }
  const expected = Number(res.headers['content-length'])
  let bytes = 0
  const count = new Transform({
    transform (chunk: Buffer, _enc, done) {
      bytes += chunk.byteLength
      options.onBytes?.(bytes)
      done(null, chunk)
    }
  })
  try {
    await pipeline(res, count, createWriteStream(dest, { mode: 0o600 }), { signal: options.signal })
  } catch (err) {
    options.signal?.throwIfAborted()
    if (Number.isFinite(expected) && bytes < expected) throw new IncompleteDownloadError(bytes, expected)
    throw err
  }
  if (!res.complete || (Number.isFinite(expected) && bytes !== expected)) throw new IncompleteDownloadError(bytes, expected)
  return bytes
}
