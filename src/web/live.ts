/**
 * What the page sees change: transfers (fed by the node's fetch progress events, the
 * same ones the CLI draws its bar from), upload/download rates sampled once a second over
 * the last five minutes, and a nudge when peers or files change. Sent to every open page
 * as server-sent events (`text/event-stream`): EventSource reconnects by itself, needs no
 * library, and goes one way, which is all the page needs.
 */
import type { ServerResponse } from 'node:http'
import type { WebNode } from './adapter.js'

export interface Transfer {
  cid: string
  name: string
  /** `browser`: the page downloads it once the node has it; `node`: written to the download folder. */
  to: 'browser' | 'node'
  state: 'running' | 'done' | 'failed'
  bytes: number
  total?: number
  rate: number
  providers: number
  error?: string
  /** Where the node wrote it (`to: 'node'`). */
  path?: string
}

export interface RateSample { t: number, up: number, down: number }

/** Samples kept: one a second, five minutes. */
export const RATE_HISTORY = 300
const SAMPLE_MS = 1000
/** Finished transfers kept for the page (running ones are always kept). */
const MAX_TRANSFERS = 50
/** Progress events are sent at most this often per transfer. */
const PROGRESS_MS = 200

export class LiveFeed {
  private readonly node: WebNode
  private readonly clients = new Set<ServerResponse>()
  readonly transfers = new Map<string, Transfer>()
  readonly rates: RateSample[] = []
  private last: { up: number, down: number }
  private readonly timer: NodeJS.Timeout
  private readonly unsubscribe: () => void
  private readonly lastSent = new Map<string, number>()
  private nudge?: NodeJS.Timeout

  constructor (node: WebNode) {
    this.node = node
    this.last = node.traffic()
    this.timer = setInterval(() => { this.sample() }, SAMPLE_MS)
    this.timer.unref()
    this.unsubscribe = node.onChange((what) => { this.changed(what) })
  }

  /** Opens an event stream to a page: the transfers and rate history first, then changes. */
  attach (res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    res.write('retry: 1000\n\n')
    this.clients.add(res)
    res.on('close', () => { this.clients.delete(res) })
    this.send(res, 'rates', this.rates)
    for (const t of this.transfers.values()) this.send(res, 'transfer', t)
  }

  /** Records a transfer's progress and tells the pages (throttled while it runs). */
  update (t: Transfer): void {
    this.transfers.delete(t.cid)
    this.transfers.set(t.cid, t)
    // keep the newest; drop the oldest finished ones
    for (const [cid, old] of this.transfers) {
      if (this.transfers.size <= MAX_TRANSFERS) break
      if (old.state !== 'running') this.transfers.delete(cid)
    }
    const now = Date.now()
    if (t.state === 'running' && now - (this.lastSent.get(t.cid) ?? 0) < PROGRESS_MS) return
    // the throttle's clock is kept only while the transfer runs: one entry per download ever
    // started from the page would grow for the life of the node
    if (t.state === 'running') this.lastSent.set(t.cid, now)
    else this.lastSent.delete(t.cid)
    this.broadcast('transfer', t)
  }

  /** Files changed (a share, a download, a removal): the pages reload their lists. */
  changed (what: 'peers' | 'files'): void {
    if (this.nudge != null) return
    this.nudge = setTimeout(() => {
      this.nudge = undefined
      this.broadcast('changed', what)
    }, 50)
    this.nudge.unref()
  }

  close (): void {
    clearInterval(this.timer)
    if (this.nudge != null) clearTimeout(this.nudge)
    this.unsubscribe()
    for (const res of this.clients) res.end()
    this.clients.clear()
  }

  private sample (): void {
    const now = this.node.traffic()
    const s: RateSample = { t: Date.now(), up: Math.max(0, now.up - this.last.up) * 1000 / SAMPLE_MS, down: Math.max(0, now.down - this.last.down) * 1000 / SAMPLE_MS }
    this.last = now
    this.rates.push(s)
    if (this.rates.length > RATE_HISTORY) this.rates.shift()
    this.broadcast('rate', s)
  }

  private broadcast (event: string, data: unknown): void {
    for (const res of this.clients) this.send(res, event, data)
  }

  private send (res: ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  }
}
