/**
 * What the parts of the protocol (presence, catalog sync, wants, own files,
 * validation) share: the network, the catalog, the resolved timing, the
 * counters, one way to publish and one set of timers that stop() clears.
 * protocol.ts builds it; each part takes it in its constructor.
 */
import type { Network } from '../net/index.js'
import type { Logger } from '../util/logger.js'
import type { Catalog } from './catalog.js'
import { encodeWire, type WireMessage } from './codec.js'
import { REQUEST_ID_BYTES } from './constants.js'
import type { SwarmTopics } from './topics.js'
import type { SwarmProtocolEvents, SwarmProtocolStats } from './types.js'

/** Every timing option, resolved to its value (see SwarmProtocolOptions). */
export interface Timing {
  providerTtl: number
  reannounceInterval: number
  reannounceJitter: number
  joinDelay: number
  catalogFallbackDelay: number
  catalogAnswerWindow: number
  catalogRetry: number
  wantTimeout: number
  wantSettle: number
  wantAnswerWindow: number
  penalty: number
}

export type Dispatch = <K extends keyof SwarmProtocolEvents & string>(type: K, detail: SwarmProtocolEvents[K]) => void

export class ProtocolContext {
  readonly network: Network
  readonly catalog: Catalog
  readonly log: Logger
  readonly topics: SwarmTopics
  readonly timing: Timing
  readonly dispatch: Dispatch
  readonly counters: SwarmProtocolStats = {
    published: 0, publishedByType: {}, received: 0, receivedByType: {}, rejected: 0, rejectedByReason: {}, ignored: 0, ignoredByLimit: {}, stale: 0, suppressed: 0, rejoins: 0, pendingAnswers: 0, pendingRequests: 0, catalogPairs: 0, catalogBytes: 0
  }

  started = false
  private lastIssued = 0
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()

  constructor (init: { network: Network, catalog: Catalog, log: Logger, topics: SwarmTopics, timing: Timing, dispatch: Dispatch }) {
    this.network = init.network
    this.catalog = init.catalog
    this.log = init.log
    this.topics = init.topics
    this.timing = init.timing
    this.dispatch = init.dispatch
  }

  get self (): string {
    return this.network.peerId
  }

  /** Publishes a message on its topic (a no-op when stopped). */
  async publish (msg: WireMessage): Promise<void> {
    if (!this.started || !this.network.isStarted()) return
    const topic = msg.type === 'want' || msg.type === 'catalog-request' ? this.topics.request : this.topics.announce
    const data = encodeWire(msg)
    this.counters.published++
    this.counters.publishedByType[msg.type] = (this.counters.publishedByType[msg.type] ?? 0) + 1
    await this.network.publish(topic, data)
  }

  /** This node's time for Envelope.issued_ms: the clock, but strictly increasing even if the clock steps back. */
  issued (): number {
    this.lastIssued = Math.max(this.lastIssued + 1, Date.now())
    return this.lastIssued
  }

  /** Runs `fn` after `ms` unless the protocol stops first. */
  setTimer (fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.started) fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  clearTimer (t: ReturnType<typeof setTimeout> | undefined): void {
    if (t == null) return
    clearTimeout(t)
    this.timers.delete(t)
  }

  clearTimers (): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  /** Runs a background task, logging its failure. */
  background (what: string, task: Promise<unknown>): void {
    void task.catch(err => { this.log.error('%s failed: %e', what, err) })
  }

  answerDone (): void {
    if (this.counters.pendingAnswers > 0) this.counters.pendingAnswers--
  }
}

export function randomId (): string {
  const bytes = new Uint8Array(REQUEST_ID_BYTES)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

export function jitter (max: number): number {
  return Math.random() * max
}
