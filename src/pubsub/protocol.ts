/**
 * The swarm protocol: announcements, requests and the catalog over the two
 * gossipsub topics of a swarm (docs/PROTOCOL.md is the spec of what goes on
 * the wire; this is one implementation of it). This file wires the parts:
 * validation.ts (decode and check once), presence.ts (Hello), own-files.ts
 * (announce, withdraw, have, re-announce), catalog-sync.ts (late joiners),
 * wants.ts (Want/Have), over catalog.ts (the state).
 */
import type { TopicMessage } from '../net/index.js'
import { TypedEventEmitter } from '../util/events.js'
import { createComponentLogger } from '../util/logger.js'
import { Catalog, type AddResult, type CatalogEntry } from './catalog.js'
import { checkNickname, normalizeCid, type TopicKind, type WireMessage } from './codec.js'
import {
  CATALOG_ANSWER_WINDOW_MS, CATALOG_FALLBACK_DELAY_MS, CATALOG_RETRY_MS, INVALID_MESSAGE_PENALTY, JOIN_DELAY_MS,
  PROVIDER_TTL_MS, REANNOUNCE_INTERVAL_MS, REANNOUNCE_JITTER, SWEEP_INTERVAL_MS, WANT_ANSWER_WINDOW_MS, WANT_SETTLE_MS, WANT_TIMEOUT_MS
} from './constants.js'
import { ProtocolContext, type Timing } from './context.js'
import { CatalogSync } from './catalog-sync.js'
import { InvalidProtocolOptionError, ProtocolNotStartedError } from './errors.js'
import { OwnFiles, cidOrThrow, fileMeta } from './own-files.js'
import { Presence } from './presence.js'
import { swarmTopics, type SwarmTopics } from './topics.js'
import type { FileAnnouncement, SwarmProtocol, SwarmProtocolEvents, SwarmProtocolInit, SwarmProtocolStats, WantOptions } from './types.js'
import { MessageValidator } from './validation.js'
import { Wants } from './wants.js'

export type { LocalFile, FileAnnouncement, SwarmProtocolOptions, SwarmProtocolInit, SwarmProtocolEvents, SwarmProtocolStats, WantOptions, SwarmProtocol } from './types.js'
export { fileMeta }

function positive (name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidProtocolOptionError(name, `${value} is not a duration in ms`)
  return value
}

function resolveTiming (init: SwarmProtocolInit): Timing {
  const timing: Timing = {
    providerTtl: positive('providerTtl', init.providerTtl ?? PROVIDER_TTL_MS),
    reannounceInterval: positive('reannounceInterval', init.reannounceInterval ?? REANNOUNCE_INTERVAL_MS),
    reannounceJitter: init.reannounceJitter ?? REANNOUNCE_JITTER,
    joinDelay: positive('joinDelay', init.joinDelay ?? JOIN_DELAY_MS),
    catalogFallbackDelay: positive('catalogFallbackDelay', init.catalogFallbackDelay ?? CATALOG_FALLBACK_DELAY_MS),
    catalogAnswerWindow: positive('catalogAnswerWindow', init.catalogAnswerWindow ?? CATALOG_ANSWER_WINDOW_MS),
    catalogRetry: positive('catalogRetry', init.catalogRetry ?? CATALOG_RETRY_MS),
    wantTimeout: positive('wantTimeout', init.wantTimeout ?? WANT_TIMEOUT_MS),
    wantSettle: positive('wantSettle', init.wantSettle ?? WANT_SETTLE_MS),
    wantAnswerWindow: positive('wantAnswerWindow', init.wantAnswerWindow ?? WANT_ANSWER_WINDOW_MS),
    penalty: positive('invalidMessagePenalty', init.invalidMessagePenalty ?? INVALID_MESSAGE_PENALTY)
  }
  if (!(timing.reannounceJitter >= 0 && timing.reannounceJitter < 1)) throw new InvalidProtocolOptionError('reannounceJitter', 'use a fraction from 0 to below 1')
  if (timing.reannounceInterval <= 0) throw new InvalidProtocolOptionError('reannounceInterval', 'must be above 0')
  if (timing.reannounceInterval * (1 + timing.reannounceJitter) >= timing.providerTtl) {
    throw new InvalidProtocolOptionError('providerTtl', `${timing.providerTtl} ms expires providers before they re-announce (every ${timing.reannounceInterval} ms ± ${timing.reannounceJitter * 100}%)`)
  }
  return timing
}

class SwarmProtocolImpl extends TypedEventEmitter<SwarmProtocolEvents> implements SwarmProtocol {
  readonly topics: SwarmTopics
  private readonly ctx: ProtocolContext
  private readonly kinds: Map<string, TopicKind>
  private readonly validator: MessageValidator
  private readonly presence: Presence
  private readonly own: OwnFiles
  private readonly sync: CatalogSync
  private readonly wants: Wants
  private joined = false
  private sweepTimer?: ReturnType<typeof setInterval>
  private reannounceTimer?: ReturnType<typeof setTimeout>

  constructor (init: SwarmProtocolInit) {
    super()
    this.topics = swarmTopics(init.swarm)
    this.kinds = new Map([[this.topics.announce, 'announce'], [this.topics.request, 'request']])
    const timing = resolveTiming(init)
    const dispatch = (type: string, detail: unknown): void => { this.safeDispatchEvent(type, detail as any) }
    const catalog = new Catalog(init.network.peerId, dispatch, {
      ...(init.maxCatalogPairs != null ? { maxPairs: init.maxCatalogPairs } : {}),
      ...(init.maxCatalogBytes != null ? { maxBytes: init.maxCatalogBytes } : {}),
      connected: () => new Set(init.network.connections().map(c => c.peer))
    })
    const log = (init.logger ?? createComponentLogger()).forComponent('pubsub')
    this.ctx = new ProtocolContext({ network: init.network, catalog, log, topics: this.topics, timing, dispatch })
    this.validator = new MessageValidator(this.ctx)
    this.presence = new Presence(this.ctx, checkNickname(init.name) == null ? init.name : 'unnamed')
    this.own = new OwnFiles(this.ctx, init.localFiles ?? (async () => []))
    this.wants = new Wants(this.ctx, async (cid) => await this.own.holds(cid))
    this.sync = new CatalogSync(this.ctx, (cid) => { this.wants.wake(cid) })
  }

  isStarted (): boolean {
    return this.ctx.started
  }

  async start (): Promise<void> {
    const { ctx } = this
    if (ctx.started) return
    ctx.started = true
    this.joined = false
    for (const [topic, kind] of this.kinds) {
      ctx.network.setTopicValidator(topic, (msg) => this.validator.validate(kind, msg))
      ctx.network.subscribe(topic)
    }
    ctx.network.addEventListener('message', this.onMessage)
    ctx.network.addEventListener('subscription-change', this.onSubscriptionChange)
    this.sweepTimer = setInterval(() => { this.sweep() }, Math.min(SWEEP_INTERVAL_MS, Math.max(10, ctx.timing.providerTtl / 4)))
    this.scheduleReannounce()
    await this.own.sync()
    if (ctx.network.getSubscribers(this.topics.request).length > 0) this.scheduleJoin()
    ctx.log('started on %s and %s', this.topics.announce, this.topics.request)
  }

  async stop (): Promise<void> {
    const { ctx } = this
    if (!ctx.started) return
    ctx.started = false
    ctx.network.removeEventListener('message', this.onMessage)
    ctx.network.removeEventListener('subscription-change', this.onSubscriptionChange)
    for (const [topic] of this.kinds) {
      ctx.network.removeTopicValidator(topic)
      if (ctx.network.isStarted()) ctx.network.unsubscribe(topic)
    }
    clearInterval(this.sweepTimer)
    clearTimeout(this.reannounceTimer)
    ctx.clearTimers()
    this.presence.stop()
    this.sync.stop()
    this.wants.stop()
    ctx.log('stopped')
  }

  // --- public API ---

  async announce (file: FileAnnouncement, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const meta = fileMeta(file)
    this.requireStarted()
    await this.own.announce(meta)
  }

  async withdraw (cid: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    await this.own.withdraw(c)
  }

  async have (cid: string, complete: boolean, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    await this.own.have(c, complete)
  }

  async want (cid: string, options: WantOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    return await this.wants.want(c, options)
  }

  catalog (): CatalogEntry[] {
    return this.ctx.catalog.list()
  }

  entry (cid: string): CatalogEntry | undefined {
    const c = normalizeCid(cid)
    return c == null ? undefined : this.ctx.catalog.get(c)
  }

  providers (cid: string): string[] {
    const c = normalizeCid(cid)
    return c == null ? [] : this.wants.providers(c)
  }

  stats (): SwarmProtocolStats {
    const usage = this.ctx.catalog.usage()
    return { ...structuredClone(this.ctx.counters), catalogPairs: usage.pairs, catalogBytes: usage.bytes }
  }

  // --- receiving ---

  private readonly onMessage = (evt: CustomEvent<TopicMessage>): void => {
    const msg = evt.detail
    const kind = this.kinds.get(msg.topic)
    if (kind == null || msg.from === this.ctx.self) return
    const message = this.validator.take(kind, msg)
    if (message == null) return
    const { counters } = this.ctx
    counters.received++
    counters.receivedByType[message.type] = (counters.receivedByType[message.type] ?? 0) + 1
    try {
      this.handle(msg.from, message)
    } catch (err) {
      this.ctx.log.error('handling a %s from %s failed: %e', message.type, msg.from, err)
    }
  }

  private handle (from: string, msg: WireMessage): void {
    const { catalog } = this.ctx
    const now = Date.now()
    switch (msg.type) {
      case 'hello':
        this.presence.onHello(from, msg.name)
        return
      case 'announce':
        for (const f of msg.files) {
          this.countStale(catalog.add({ cid: f.meta.cid, peer: from, meta: f.meta, complete: f.complete, lastSeen: now, firstHand: true, issued: msg.issued ?? 0 }), from, f.meta.cid)
          this.wants.wake(f.meta.cid)
        }
        return
      case 'withdraw':
        for (const cid of msg.cids) catalog.remove(cid, from, 'withdrawn', now, msg.issued ?? 0)
        return
      case 'have':
        this.countStale(catalog.add({ cid: msg.cid, peer: from, complete: msg.complete, lastSeen: now, firstHand: true, issued: msg.issued ?? 0 }), from, msg.cid)
        this.wants.onAnswer(from, msg.requestId, msg.complete)
        this.wants.wake(msg.cid)
        return
      case 'catalog-answer':
        this.sync.onAnswer(from, msg.requestId, msg.records, now)
        return
      case 'want':
        this.ctx.background('answering a want', this.wants.onWant(msg.requestId, msg.cid))
        return
      case 'catalog-request':
        this.sync.onRequest(msg.requestId, msg.responder, now)
    }
  }

  /** Counts a claim the catalog refused as a replay (stats().stale), so a test or an operator can see replays arrive. */
  private countStale (result: AddResult, from: string, cid: string): void {
    if (result !== 'stale') return
    this.ctx.counters.stale++
    this.ctx.log('refused a replayed claim of %s by %s: not newer than its withdrawal', cid, from)
  }

  // --- joining, re-announcing, expiring ---

  private readonly onSubscriptionChange = (evt: CustomEvent<{ peer: string, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    const subscribed = evt.detail.subscriptions.filter(s => s.subscribe && this.kinds.has(s.topic))
    if (subscribed.length === 0) return
    if (!this.joined) this.scheduleJoin()
    else if (subscribed.some(s => s.topic === this.topics.announce)) this.presence.onSubscribed()
  }

  private scheduleJoin (): void {
    if (this.joined) return
    this.joined = true
    this.ctx.setTimer(() => { this.ctx.background('joining', this.join()) }, this.ctx.timing.joinDelay)
  }

  /** Hello, catalog request, own files: what a node says when it meets the swarm. */
  private async join (): Promise<void> {
    await this.presence.hello()
    await this.sync.request()
    await this.own.publish()
  }

  private scheduleReannounce (): void {
    const { timing } = this.ctx
    const delay = timing.reannounceInterval * (1 - timing.reannounceJitter + 2 * timing.reannounceJitter * Math.random())
    this.reannounceTimer = setTimeout(() => {
      if (!this.ctx.started) return
      this.scheduleReannounce()
      this.ctx.background('re-announce', (async () => {
        if (this.joined) await this.presence.hello()
        await this.own.publish()
      })())
    }, delay)
  }

  private sweep (): void {
    const now = Date.now()
    this.ctx.catalog.expire(now, this.ctx.timing.providerTtl)
    this.sync.sweep(now)
    // alone: every peer of the swarm is gone (this laptop lost its Wi-Fi, or slept). The first peer
    // back is met as at start (Hello, catalog request, own files), not with a Hello alone, which left
    // the entries that expired meanwhile, on either side, out of the catalogs until each provider's
    // next re-announce (up to 25 s: `get NAME` failed in that time)
    if (this.joined && this.ctx.network.getSubscribers(this.topics.request).length === 0) {
      this.joined = false
      this.ctx.counters.rejoins++
      this.ctx.log('alone in the swarm: the first peer back is met as at start')
    }
  }

  private requireStarted (): void {
    if (!this.ctx.started || !this.ctx.network.isStarted()) throw new ProtocolNotStartedError()
  }
}

/** Builds the protocol of one swarm on a network (not started: the node starts it after the network). */
export function createSwarmProtocol (init: SwarmProtocolInit): SwarmProtocol {
  return new SwarmProtocolImpl(init)
}
