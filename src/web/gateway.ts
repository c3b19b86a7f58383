/**
 * The read-only IPFS gateway: `GET /ipfs/{cid}[/path]`, in the forms of the path gateway
 * and trustless gateway specifications (specs.ipfs.tech/http-gateways/):
 *
 * - the file, with Range, Content-Type, Content-Disposition and `ETag: "{cid}"`;
 * - a UnixFS folder (plain or HAMT-sharded): `/ipfs/{cid}/sub/path` resolves inside it
 *   (ipfs-unixfs-exporter walks the path), a folder itself answers an HTML listing
 *   (redirected to its URL with a trailing `/`, as the path gateway specification says);
 * - `?format=raw` or `Accept: application/vnd.ipld.raw`: the one block, as stored;
 * - `?format=car` or `Accept: application/vnd.ipld.car`: the DAG as a CARv1, depth-first
 *   (`dag-scope=block` sends the root block only);
 * - `?format=tar` or `Accept: application/x-tar`: a folder (or a file) as a tar archive
 *   named after it (./tar.ts).
 *
 * A block not in the store is fetched from the swarm first (the catalog's providers, else
 * every connected peer) and kept without a record: a cache that gc may drop. When nobody
 * has it within the timeout the answer is 504 with a sentence saying so.
 *
 * Every answer carries `Content-Security-Policy: sandbox`: the page and its API share this
 * origin, and a shared HTML file must not run script in it.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseCid, decodeNode, RAW_CODEC, type CID } from '../content/index.js'
import type { WebNode } from './adapter.js'
import { guessMediaType, safeFileName } from '../storage/index.js'
import { carBlock, carHeader, dagBlocks } from './car.js'
import { folderListing, resolvePath } from './folder.js'
import { pack } from 'it-tar'
import { folderTar } from './tar.js'

export interface GatewayOptions {
  node: WebNode
  /** ms to wait for a block the store lacks (idle timeout of the swarm fetch). */
  timeout: number
}

const RAW = 'application/vnd.ipld.raw'
const CAR = 'application/vnd.ipld.car'
const TAR = 'application/x-tar'
const IMMUTABLE = 'public, max-age=29030400, immutable'

/** The headers of every content answer: cached for good (a CID never changes), its path, never sniffed, sandboxed. */
function immutable (ipfsPath: string): Record<string, string> {
  return { 'Cache-Control': IMMUTABLE, 'X-Ipfs-Path': ipfsPath, 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': 'sandbox' }
}

function text (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff', ...headers })
  res.end(body + '\n')
}

function wantedFormat (req: IncomingMessage, url: URL): 'raw' | 'car' | 'tar' | 'file' | undefined {
  const f = url.searchParams.get('format')
  if (f === 'raw') return 'raw'
  if (f === 'car') return 'car'
  if (f === 'tar') return 'tar'
  if (f != null && f !== '') return undefined
  const accept = req.headers.accept ?? ''
  if (accept.includes(RAW)) return 'raw'
  if (accept.includes(CAR)) return 'car'
  if (accept.includes(TAR)) return 'tar'
  return 'file'
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against `size`; undefined for a form we do not serve (multiple ranges: whole file); 'bad' when unsatisfiable. */
export function parseRange (header: string | undefined, size: number): { start: number, end: number } | 'bad' | undefined {
  if (header == null) return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m == null) return undefined
  const [, a = '', b = ''] = m
  if (a === '' && b === '') return 'bad'
  let start: number
  let end: number
  if (a === '') {
    const n = Number(b)
    if (n === 0) return 'bad'
    start = Math.max(0, size - n)
    end = size - 1
  } else {
    start = Number(a)
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
  }
  if (start >= size || end < start) return 'bad'
  return { start, end }
}

/** `filename="ascii"; filename*=UTF-8''utf8` (RFC 6266). */
function disposition (kind: 'inline' | 'attachment', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

/** Makes sure the blocks are here: the root alone (raw) or the whole DAG. Answers 504/502 itself and returns false when they cannot be had. */
async function ensure (o: GatewayOptions, cid: CID, whole: boolean, res: ServerResponse, signal: AbortSignal): Promise<boolean> {
  const need = whole ? await o.node.missing(cid, signal) > 0 : !await o.node.hasBlock(cid)
  if (!need) return true
  try {
    await o.node.fetchBlocks(cid, { signal, timeout: o.timeout })
    return true
  } catch (err: any) {
    if (signal.aborted) return false
    if (err?.name === 'NotFoundInSwarmError' || err?.name === 'TransferTimeoutError') {
      text(res, 504, `504 Gateway Timeout: no peer of this swarm sent ${cid.toString()} within ${Math.round(o.timeout / 1000)} s (${err.message}). Nobody who is connected has it; try again when its provider is online.`)
    } else {
      text(res, 502, `502 Bad Gateway: fetching ${cid.toString()} from the swarm failed: ${err?.message ?? String(err)}`)
    }
    return false
  }
}

export async function handleGateway (o: GatewayOptions, req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    text(res, 405, '405 Method Not Allowed: the gateway is read-only (GET, HEAD)', { Allow: 'GET, HEAD' })
    return
  }
  const [cidText = '', ...rest] = url.pathname.slice('/ipfs/'.length).split('/')
  let cid: CID
  try {
    cid = parseCid(decodeURIComponent(cidText))
  } catch (err: any) {
    text(res, 400, `400 Bad Request: ${err.message}`)
    return
  }
  const format = wantedFormat(req, url)
  if (format == null) {
    text(res, 400, `400 Bad Request: format=${url.searchParams.get('format') ?? ''} is not served (raw, car, tar or none)`)
    return
  }
  const key = cid.toString()
  let path: string[]
  try {
    path = rest.filter(s => s !== '').map(s => decodeURIComponent(s))
  } catch {
    text(res, 400, '400 Bad Request: the path is not valid percent-encoding')
    return
  }
  if (format === 'raw') {
    if (!await ensure(o, cid, false, res, signal)) return
    const bytes = await o.node.getBlock(cid, signal)
    res.writeHead(200, {
      'Content-Type': RAW,
      'Content-Length': String(bytes.byteLength),
      'Content-Disposition': disposition('attachment', `${key}.bin`),
      ETag: `"${key}.raw"`,
      ...immutable(`/ipfs/${key}`)
    })
    res.end(req.method === 'HEAD' ? undefined : bytes)
    return
  }
  const scope = url.searchParams.get('dag-scope') === 'block' ? 'block' : 'all'
  if (!await ensure(o, cid, scope === 'all', res, signal)) return
  const rootBytes = await o.node.getBlock(cid, signal)
  const root = cid.code === RAW_CODEC ? undefined : decodeNode(cid, rootBytes)
  if (format === 'car') {
    res.writeHead(200, {
      'Content-Type': `${CAR}; version=1; order=dfs; dups=n`,
      'Content-Disposition': disposition('attachment', `${key}.car`),
      ETag: `"${key}.car.${scope}"`,
      ...immutable(`/ipfs/${key}`)
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    const node = o.node
    const body = async function * (): AsyncGenerator<Uint8Array> {
      yield carHeader(cid)
      for await (const b of dagBlocks(cid, async (c) => node.getBlock(c, signal), scope)) yield carBlock(b.cid, b.bytes)
    }
    await pipeline(Readable.from(body()), res, { signal }).catch(() => { res.destroy() })
    return
  }
  if (root != null && root.type !== 'file' && root.type !== 'raw' && root.type !== 'directory' && root.type !== 'hamt-sharded-directory') {
    text(res, 501, `501 Not Implemented: ${key} is a UnixFS ${root.type}; this gateway serves files and folders (use ?format=car for the blocks)`)
    return
  }
  if (path.length > 0 && (root == null || root.type === 'file' || root.type === 'raw')) {
    text(res, 404, `404 Not Found: ${key} is a file, so /ipfs/${key}/${path.join('/')} names nothing inside it`)
    return
  }
  let target = { cid, size: root?.fileSize ?? rootBytes.byteLength, folder: root?.type === 'directory' || root?.type === 'hamt-sharded-directory' }
  if (path.length > 0 || target.folder) {
    const found = await resolvePath(o.node, cid, path, signal)
    if (found == null) {
      text(res, 404, `404 Not Found: the folder ${key} has no ${path.join('/')}`)
      return
    }
    target = found
  }
  if (format === 'tar') {
    await sendTar(o, req, res, url, key, path, target, signal)
    return
  }
  if (target.folder) {
    if (!url.pathname.endsWith('/')) {
      res.writeHead(301, { Location: `${url.pathname}/${url.search}`, 'Content-Security-Policy': 'sandbox' })
      res.end()
      return
    }
    const html = await folderListing(o.node, target.cid, `/ipfs/${[key, ...path.map(encodeURIComponent)].join('/')}`, signal)
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      ETag: `"${target.cid.toString()}.dir"`,
      ...immutable(`/ipfs/${[key, ...path.map(encodeURIComponent)].join('/')}`)
    })
    res.end(req.method === 'HEAD' ? undefined : html)
    return
  }
  cid = target.cid
  const size = target.size
  const etag = `"${cid.toString()}"`
  const record = path.length > 0 ? undefined : await o.node.record(key)
  const announced = path.length > 0 ? undefined : o.node.announced(key)
  const name = url.searchParams.get('filename') ?? (path.length > 0 ? path[path.length - 1] : (record != null && record.name !== key ? record.name : announced?.name))
  const type = record?.mediaType ?? announced?.mediaType ?? (name != null ? guessMediaType(name) : 'application/octet-stream')
  const headers: Record<string, string> = {
    'Content-Type': type,
    ETag: etag,
    'Accept-Ranges': 'bytes',
    ...immutable(`/ipfs/${[key, ...path.map(encodeURIComponent)].join('/')}`)
  }
  if (name != null) headers['Content-Disposition'] = disposition(url.searchParams.get('download') === 'true' ? 'attachment' : 'inline', name)
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  const range = parseRange(req.headers.range, size)
  if (range === 'bad') {
    text(res, 416, `416 Range Not Satisfiable: the file has ${size} bytes`, { 'Content-Range': `bytes */${size}` })
    return
  }
  const start = range?.start ?? 0
  const length = range == null ? size : range.end - range.start + 1
  if (range != null) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`
  headers['Content-Length'] = String(length)
  res.writeHead(range != null ? 206 : 200, headers)
  if (req.method === 'HEAD' || length === 0) {
    res.end()
    return
  }
  await pipeline(Readable.from(o.node.cat(cid, { offset: start, length, signal })), res, { signal }).catch(() => { res.destroy() })
}

/** `?format=tar`: the folder (or the one file) as a tar archive named after it, streamed. */
async function sendTar (o: GatewayOptions, req: IncomingMessage, res: ServerResponse, url: URL, key: string, path: string[], target: { cid: CID, size: number, folder: boolean }, signal: AbortSignal): Promise<void> {
  const record = path.length > 0 ? undefined : await o.node.record(key)
  const announced = path.length > 0 ? undefined : o.node.announced(key)
  const given = url.searchParams.get('filename')?.replace(/\.tar$/u, '')
  const name = safeFileName(given ?? (path.length > 0 ? path[path.length - 1]! : (record != null && record.name !== key ? record.name : announced?.name ?? key)))
  res.writeHead(200, {
    'Content-Type': TAR,
    'Content-Disposition': disposition('attachment', `${name}.tar`),
    ETag: `"${target.cid.toString()}.tar"`,
    ...immutable(`/ipfs/${[key, ...path.map(encodeURIComponent)].join('/')}`)
  })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const body = target.folder
    ? folderTar(o.node, target.cid, name, signal)
    : pack()([{ header: { name, type: 'file', size: target.size, mode: 0o644, mtime: new Date() }, body: o.node.cat(target.cid, { signal }) }])
  await pipeline(Readable.from(body), res, { signal }).catch(() => { res.destroy() })
}
