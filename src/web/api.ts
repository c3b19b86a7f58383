/**
 * The page's JSON API (token required; POSTs same-origin, checked by server.ts):
 *
 *   GET  /api/state          { self, peers, files, transfers }
 *   GET  /api/events         server-sent events: transfer, rate, rates, changed
 *   POST /api/share?name=N   body: the file's bytes → { cid, name, size } (imported and announced)
 *   POST /api/fetch          { cid, to: 'browser'|'node' } → 202; progress on /api/events
 *   POST /api/pin|unpin|rm   { cid }
 */
import { basename } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseCid } from '../content/index.js'
import type { WebNode } from './adapter.js'
import { WebRequestError } from './errors.js'
import type { LiveFeed, Transfer } from './live.js'

export interface ApiContext {
  node: WebNode
  live: LiveFeed
  /** Folder of "save on the node". */
  downloadDir: string
  /** Aborted when the server stops: background fetches end with it. */
  signal: AbortSignal
  log: (fmt: string, ...args: unknown[]) => void
}

const MAX_JSON_BYTES = 64 * 1024

export function json (res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(data)) })
  res.end(data)
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0
  const parts: Buffer[] = []
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > MAX_JSON_BYTES) throw new WebRequestError(413, `request body over ${MAX_JSON_BYTES} bytes`)
    parts.push(chunk)
  }
  try {
    const v = JSON.parse(Buffer.concat(parts).toString('utf8'))
    if (v == null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v
  } catch (err: any) {
    throw new WebRequestError(400, `the body is not a JSON object (${err.message})`)
  }
}

function cidParam (body: Record<string, unknown>): string {
  if (typeof body.cid !== 'string') throw new WebRequestError(400, 'cid is missing')
  try {
    return parseCid(body.cid).toString()
  } catch (err: any) {
    throw new WebRequestError(400, err.message)
  }
}

async function state (ctx: ApiContext): Promise<unknown> {
  return { self: ctx.node.identity(), peers: await ctx.node.peers(), files: await ctx.node.files(), transfers: [...ctx.live.transfers.values()] }
}

/** Starts fetching `cid` into the node (once: a second click joins the running transfer). */
function startFetch (ctx: ApiContext, cid: string, to: 'browser' | 'node'): Transfer {
  const running = ctx.live.transfers.get(cid)
  if (running?.state === 'running') return running
  const name = ctx.node.announced(cid)?.name ?? cid
  const t: Transfer = { cid, name, to, state: 'running', bytes: 0, rate: 0, providers: 0 }
  ctx.live.update(t)
  void (async () => {
    try {
      const r = await ctx.node.fetch(cid, {
        signal: ctx.signal,
        onProgress: (p) => {
          ctx.live.update({ ...t, bytes: p.bytes, ...(p.total != null ? { total: p.total } : {}), rate: p.rate, providers: p.providers })
        }
      })
      const done: Transfer = { ...t, state: 'done', bytes: r.size, total: r.size, rate: 0 }
      if (to === 'node') done.path = await ctx.node.save(cid, ctx.downloadDir, ctx.signal)
      ctx.live.update(done)
    } catch (err: any) {
      ctx.log('fetch of %s for the page failed: %s', cid, err?.message)
      ctx.live.update({ ...t, state: 'failed', error: err?.message ?? String(err) })
    }
    ctx.live.changed('files')
  })()
  return t
}

export async function handleApi (ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname}`
  switch (route) {
    case 'GET /api/state':
      json(res, 200, await state(ctx))
      return
    case 'GET /api/events':
      ctx.live.attach(res)
      return
    case 'POST /api/share': {
      const name = basename(url.searchParams.get('name') ?? '').trim()
      if (name === '' || name === '.' || name === '..') throw new WebRequestError(400, 'name is missing: POST /api/share?name=FILE with the bytes as the body')
      const shared = await ctx.node.share(req as AsyncIterable<Uint8Array>, name, signal)
      ctx.log('shared %s (%s) from the page', shared.name, shared.cid)
      ctx.live.changed('files')
      json(res, 200, shared)
      return
    }
    case 'POST /api/fetch': {
      const body = await readJson(req)
      const to = body.to === 'node' ? 'node' : 'browser'
      json(res, 202, startFetch(ctx, cidParam(body), to))
      return
    }
    case 'POST /api/pin':
    case 'POST /api/unpin':
    case 'POST /api/rm': {
      const cid = cidParam(await readJson(req))
      if (route === 'POST /api/pin') await ctx.node.pin(cid, signal)
      else if (route === 'POST /api/unpin') await ctx.node.unpin(cid)
      else await ctx.node.remove(cid, signal)
      ctx.live.changed('files')
      json(res, 200, { cid, ok: true })
      return
    }
    default:
      throw new WebRequestError(url.pathname.startsWith('/api/') && ['state', 'events', 'share', 'fetch', 'pin', 'unpin', 'rm'].includes(url.pathname.slice(5)) ? 405 : 404, `${route} is not part of the API`)
  }
}
