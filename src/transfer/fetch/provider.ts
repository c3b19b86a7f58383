/**
 * One provider of a download and its health. A provider is never dropped for being slow or
 * unreachable: a stall or a broken stream backs it off (exponential, bounded) and it is asked
 * again on a fresh stream; only a wrong block bans it for the download.
 *
 *   connecting ──open──▶ open ──stall──▶ open+stalled ──retry──▶ connecting
 *        │                 │ stream ends                              ▲
 *        ▼                 ▼                                          │
 *   left (dial refused, peer:disconnect)   down (stream broke, open timed out) ──retry──┘
 */
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, CHUNK_SIZE } from '../constants.js'
import type { LinkHandle } from './peer-link.js'
import type { PlanProvider } from './scheduler.js'

export type ProviderState = 'connecting' | 'open' | 'down' | 'left' | 'banned'

/** Wait before the n-th consecutive retry: the first at once, then BACKOFF_BASE_MS doubling up to BACKOFF_MAX_MS. */
export function backoffMs (failures: number, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS): number {
  if (failures <= 1) return 0
  return Math.min(max, base * 2 ** Math.min(failures - 2, 30))
}

export interface WindowLimits {
  minWindow: number
  maxWindow: number
  windowSeconds: number
}

export class FetchProvider implements PlanProvider {
  state: ProviderState = 'connecting'
  /** This download's handle on the peer's shared block stream (peer-link.ts). */
  link?: LinkHandle
  /** Blocks asked on the current stream and not answered, with the time asked. */
  readonly asked = new Map<string, number>()
  window: number
  rate = 0
  busyUntil = 0
  busyStrikes = 0
  saidLater = false
  /** Said HAVE for something in this download. */
  everHad = false
  /** Found as a provider of the file (the catalog, a want's answers): the swarm says it has blocks of it. */
  listed = false
  /** Last frame received. */
  lastHeard: number
  /** Since when it owes an answer: its last frame, or the first request after a quiet spell. */
  owingSince: number
  /** Set while it has outstanding blocks and has said nothing for the stall timeout. */
  stalledSince?: number
  /** Failures in a row (stalls, broken streams, failed opens); a block resets it. */
  failures = 0
  retryAt = 0
  /** When it was seen leaving (peer:disconnect, or a dial refused). */
  leftAt?: number
  /** Aborts this download's wait for the stream being opened (connect()); replaced by each new attempt. */
  dial?: AbortController
  lastError?: string
  /** When a dropped connection was last retried at once, out of the backoff (providers.ts, linkDown). */
  quickRetryAt = -Infinity
  /** The last open failed because this node has no network (ENETUNREACH), not because of the peer. */
  offline = false
  bytes = 0
  blocks = 0

  constructor (readonly peer: string, initialWindow: number, now: number) {
    this.window = initialWindow
    this.lastHeard = now
    this.owingSince = now
  }

  get usable (): boolean {
    return this.state === 'open' && this.stalledSince == null
  }

  get live (): boolean {
    return this.state !== 'banned' && this.state !== 'left'
  }

  get outstanding (): number {
    return this.asked.size
  }

  /** A frame arrived. True when it had stalled and is answering again. */
  heard (now: number): boolean {
    this.lastHeard = now
    this.owingSince = now
    if (this.stalledSince == null) return false
    this.stalledSince = undefined
    return true
  }

  asking (key: string, now: number): void {
    if (this.asked.size === 0) this.owingSince = now
    this.asked.set(key, now)
  }

  /** Stalled: owes blocks and said nothing for `stallTimeout`. */
  stalls (now: number, stallTimeout: number): boolean {
    return this.state === 'open' && this.stalledSince == null && this.asked.size > 0 && now - this.owingSince > stallTimeout
  }

  /** A stall, a broken stream or a failed open: back off. */
  failed (now: number, reason: string): void {
    this.failures++
    this.retryAt = now + backoffMs(this.failures)
    this.lastError = reason
  }

  /** Time for a new stream (after a failure, once the backoff is over). */
  due (now: number): boolean {
    const waiting = this.state === 'down' || this.state === 'left' || (this.state === 'open' && this.stalledSince != null)
    return waiting && now >= this.retryAt
  }

  /** A block it was asked for arrived (`since`: when it last answered before): its rate and window follow. */
  delivered (now: number, since: number, bytes: number, limits: WindowLimits): void {
    const dt = Math.max(1, now - since) / 1000
    const sample = bytes / dt
    this.rate = this.rate === 0 ? sample : this.rate * 0.75 + sample * 0.25
    this.window = Math.max(limits.minWindow, Math.min(limits.maxWindow, Math.ceil(this.rate * limits.windowSeconds / CHUNK_SIZE) + 1))
    this.failures = 0
    this.busyStrikes = 0
  }
}

/**
 * Receive rate over the last two seconds, bytes per second: the `rate` of progress events (what
 * `--json` and the web page show live). The bar, the summary and the log show one figure, the
 * average of the bytes received over the time taken. Bytes older than the window no longer
 * count when the rate is read, so a stall shows as a rate falling to 0 within two seconds,
 * not as the last burst spread over ever more time.
 */
/** RateMeter's window. */
const RATE_WINDOW_MS = 2000

export class RateMeter {
  private readonly samples: Array<[number, number]> = []
  /** When the first bytes came: until the window is full, the rate is over the time since. */
  private since?: number

  record (now: number, bytes: number): void {
    this.since ??= now
    this.samples.push([now, bytes])
    this.prune(now)
  }

  rate (now: number): number {
    this.prune(now)
    if (this.since == null || this.samples.length === 0) return 0
    // over the whole window once it is full, not from the oldest sample left in it: a block that
    // landed just after the window's start would otherwise count as if it had taken no time
    const span = Math.max(250, Math.min(RATE_WINDOW_MS, now - this.since)) / 1000
    let sum = 0
    for (const [, b] of this.samples) sum += b
    return sum / span
  }

  private prune (now: number): void {
    while ((this.samples[0]?.[0] ?? now) <= now - RATE_WINDOW_MS) this.samples.shift()
  }
}
