/**
 * The swarm protocol: announcements, requests and the catalog over the two
 * gossipsub topics of a swarm (docs/PROTOCOL.md is the spec of what goes on
 * the wire; this file is one implementation of it).
 */
import type { Network, TopicMessage, Verdict } from '../net/index.js'
import { createLogger } from '../util/logger.js'
import { TypedEventEmitter } from '../util/events.js'
import { Catalog, type CatalogEntry, type CatalogEvents } from './catalog.js'
import {
  announcedFileBytes, batches, catalogRecordBytes, checkFileName, checkMediaType, checkNickname, checkSize,
  decodeWire, encodeWire, normalizeCid,
  type AnnouncedFileInfo, type CatalogRecordInfo, type FileMeta, type RejectReason, type TopicKind, type WireMessage, type WireType
} from './codec.js'
import {
  CATALOG_ANSWER_WINDOW_MS, CATALOG_FALLBACK_DELAY_MS, CATALOG_REQUEST_BURST, CATALOG_REQUEST_RATE_PER_S, CATALOG_RETRIES, CATALOG_RETRY_MS,
  DEFAULT_MEDIA_TYPE, INVALID_MESSAGE_PENALTY, JOIN_DELAY_MS, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE, MAX_PENDING_ANSWERS,
  MAX_PROVIDERS_PER_RECORD, MAX_RATE_LIMITED_PEERS, PROVIDER_TTL_MS, REANNOUNCE_INTERVAL_MS, REANNOUNCE_JITTER,
  REQUEST_ID_BYTES, SWEEP_INTERVAL_MS, WANT_ANSWER_WINDOW_MS, WANT_BURST, WANT_ENOUGH_ANSWERS, WANT_RATE_PER_S,
  WANT_SETTLE_MS, WANT_TIMEOUT_MS
} from './constants.js'
import { InvalidFileError, InvalidProtocolOptionError, ProtocolNotStartedError } from './errors.js'
import { PeerRateLimiter } from './limits.js'
import { swarmTopics, type SwarmTopics } from './topics.js'

/** A file this node holds, as the store lists it. */
export interface LocalFile {
  cid: string
  name: string
  size: number
  mediaType: string
  encrypted?: boolean
  complete: boolean
}

/** A file to announce. */
export interface FileAnnouncement {
  cid: string
  name: string
  size: number
  /** Empty means application/octet-stream. */
  mediaType: string
  encrypted?: boolean
}

/** Timing and scoring options; every one has a default in constants.ts. */
export interface SwarmProtocolOptions {
  /** A provider not heard from for this long leaves the catalog (default PROVIDER_TTL_MS, 90 s). Must exceed reannounceInterval × (1 + reannounceJitter). */
  providerTtl?: number
  /** Own files are re-announced this often (default REANNOUNCE_INTERVAL_MS, 20 s). */
  reannounceInterval?: number
  /** Re-announce jitter as a fraction of the interval (default REANNOUNCE_JITTER, 0.25). */
  reannounceJitter?: number
  /** Delay from the first subscribed peer to hello, catalog request and own files (default JOIN_DELAY_MS, 50 ms). */
  joinDelay?: number
  /** Catalog answers by peers other than the named responder wait this long first (default CATALOG_FALLBACK_DELAY_MS, 250 ms)... */
  catalogFallbackDelay?: number
  /** ...plus a uniform random delay up to this (default CATALOG_ANSWER_WINDOW_MS, 400 ms). */
  catalogAnswerWindow?: number
  /** A catalog request with no answer is repeated after this (default CATALOG_RETRY_MS, 1 s), at most CATALOG_RETRIES times. */
  catalogRetry?: number
  /** want() resolves with no providers after this (default WANT_TIMEOUT_MS, 5 s). */
  wantTimeout?: number
  /** want() waits this long after the first provider for more (default WANT_SETTLE_MS, 50 ms). */
  wantSettle?: number
  /** Want answers wait a uniform random delay up to this (default WANT_ANSWER_WINDOW_MS, 50 ms). */
  wantAnswerWindow?: number
  /** Score penalty per rejected message, charged to its signer (default INVALID_MESSAGE_PENALTY, 10; 0 turns it off). */
  invalidMessagePenalty?: number
}

export interface SwarmProtocolInit extends SwarmProtocolOptions {
  network: Network
  swarm: string
  /** This node's nickname, sent in hello. */
  name: string
  /** What this node has, to answer catalog requests and wants and to re-announce (default: nothing). */
  localFiles?: () => Promise<LocalFile[]>
}

export interface SwarmProtocolEvents extends CatalogEvents, Record<string, unknown> {
  /** A peer said hello with its nickname. */
  'peer:hello': { peer: string, name: string }
  /** A validator rejected a message; `peer` is its signer. */
  'message:rejected': { peer: string, topic: string, reason: RejectReason }
}

/** Counters for tests, benchmarks and `swarmdrop status`. */
export interface SwarmProtocolStats {
  /** Messages this node published, in total and per type. */
  published: number
  publishedByType: Partial<Record<WireType, number>>
  /** Valid messages received from others. */
  received: number
  receivedByType: Partial<Record<WireType, number>>
  /** Messages rejected by the validators, in total and per reason. */
  rejected: number
  rejectedByReason: Partial<Record<RejectReason, number>>
  /** Valid requests ignored because their signer went over its rate limit. */
  ignored: number
  /** Catalog and want answers not sent because others had already answered. */
  suppressed: number
  /** Answers waiting for their timer. */
  pendingAnswers: number
  /** This node's own catalog request awaiting answers (1) or settled (0). */
  pendingRequests: number
}

export interface WantOptions {
  /** Resolve with no providers after this many ms (default 5 s). */
  timeout?: number
  signal?: AbortSignal
}

export interface SwarmProtocol {
  readonly topics: SwarmTopics
  start: () => Promise<void>
  stop: () => Promise<void>
  isStarted: () => boolean
  /** Tells the swarm this node provides a (complete) file. */
  announce: (file: FileAnnouncement, options?: { signal?: AbortSignal }) => Promise<void>
  /** Tells the swarm this node no longer provides `cid`. */
  withdraw: (cid: string, options?: { signal?: AbortSignal }) => Promise<void>
  /** Tells the swarm this node holds `cid`, completely or in part (used while downloading). */
  have: (cid: string, complete: boolean, options?: { signal?: AbortSignal }) => Promise<void>
  /**
   * Remote providers of `cid`: at once if the catalog knows some, else asks the swarm
   * and resolves after the first answers (or with [] after the timeout).
   */
  want: (cid: string, options?: WantOptions) => Promise<string[]>
  /** Every file heard of, with its providers. */
  catalog: () => CatalogEntry[]
  entry: (cid: string) => CatalogEntry | undefined
  /** Remote peers that provide `cid` (this node excluded), complete ones first, then the most recently heard. */
  providers: (cid: string) => string[]
  stats: () => SwarmProtocolStats
  addEventListener: TypedEventEmitter<SwarmProtocolEvents>['addEventListener']
  removeEventListener: TypedEventEmitter<SwarmProtocolEvents>['removeEventListener']
}

interface OwnFile { meta: FileMeta, complete: boolean }

/** A catalog request this node heard: what answers to it covered, and our own answer timer. */
interface RequestState {
  covered: Set<string>
  heardAt: number
  /** Our answer is scheduled or sent. */
  answering: boolean
}

interface WantAnswerState {
  completeAnswers: Set<string>
  heardAt: number
}

function randomId (): string {
  const bytes = new Uint8Array(REQUEST_ID_BYTES)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

function positive (name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidProtocolOptionError(name, `${value} is not a duration in ms`)
  return value
}

/** Checks a file's metadata and returns it in canonical form; throws InvalidFileError. */
export function fileMeta (file: FileAnnouncement): FileMeta {
  const cid = normalizeCid(file.cid)
  if (cid == null) throw new InvalidFileError(`"${String(file.cid).slice(0, 80)}" is not a UnixFS CID (CIDv0/v1, dag-pb or raw, sha2-256)`)
  const mediaType = file.mediaType === '' || file.mediaType == null ? DEFAULT_MEDIA_TYPE : file.mediaType
  const reason = checkFileName(file.name) ?? checkSize(file.size) ?? checkMediaType(mediaType)
  if (reason != null) throw new InvalidFileError(reason)
  return { cid, name: file.name, size: file.size, mediaType, encrypted: file.encrypted === true }
}

function cidOrThrow (value: string): string {
  const cid = normalizeCid(value)
  if (cid == null) throw new InvalidFileError(`"${String(value).slice(0, 80)}" is not a UnixFS CID (CIDv0/v1, dag-pb or raw, sha2-256)`)
  return cid
}

function jitter (max: number): number {
  return Math.random() * max
}

class SwarmProtocolImpl extends TypedEventEmitter<SwarmProtocolEvents> implements SwarmProtocol {
  readonly topics: SwarmTopics
  private readonly network: Network
  private readonly name: string
  private readonly localFiles: () => Promise<LocalFile[]>
  private readonly log = createLogger('pubsub')
  private readonly catalogState: Catalog
  private readonly kinds: Map<string, TopicKind>

  private readonly providerTtl: number
  private readonly reannounceInterval: number
  private readonly reannounceJitter: number
  private readonly joinDelay: number
  private readonly catalogFallbackDelay: number
  private readonly catalogAnswerWindow: number
  private readonly catalogRetry: number
  private readonly wantTimeout: number
  private readonly wantSettle: number
  private readonly wantAnswerWindow: number
  private readonly penalty: number

  private started = false
  private joined = false
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private sweepTimer?: ReturnType<typeof setInterval>
  private reannounceTimer?: ReturnType<typeof setTimeout>

  /** Files announce() was called for (the store may not list them). */
  private readonly announced = new Map<string, OwnFile>()
  /** Files withdraw() was called for: not re-announced even if the store lists them. */
  private readonly withdrawnOwn = new Set<string>()
  /** CIDs have() was called for without known metadata: cid → complete. */
  private readonly ownHaves = new Map<string, boolean>()

  /** Our own latest catalog request, whether anyone answered it, and who could hear it. */
  private myRequest?: { id: string, answered: boolean, retries: number, subscribers: number }
  private readonly requests = new Map<string, RequestState>()
  private readonly wantAnswers = new Map<string, WantAnswerState>()
  private readonly wantWaiters = new Map<string, Set<() => void>>()

  private readonly catalogLimiter = new PeerRateLimiter({ rate: CATALOG_REQUEST_RATE_PER_S, burst: CATALOG_REQUEST_BURST, maxPeers: MAX_RATE_LIMITED_PEERS })
  private readonly wantLimiter = new PeerRateLimiter({ rate: WANT_RATE_PER_S, burst: WANT_BURST, maxPeers: MAX_RATE_LIMITED_PEERS })

  private readonly counters: SwarmProtocolStats = {
    published: 0, publishedByType: {}, received: 0, receivedByType: {}, rejected: 0, rejectedByReason: {}, ignored: 0, suppressed: 0, pendingAnswers: 0, pendingRequests: 0
  }

  constructor (init: SwarmProtocolInit) {
    super()
    this.network = init.network
    this.topics = swarmTopics(init.swarm)
    this.kinds = new Map([[this.topics.announce, 'announce'], [this.topics.request, 'request']])
    const nameProblem = checkNickname(init.name)
    this.name = nameProblem == null ? init.name : 'unnamed'
    this.localFiles = init.localFiles ?? (async () => [])
    this.providerTtl = positive('providerTtl', init.providerTtl ?? PROVIDER_TTL_MS)
    this.reannounceInterval = positive('reannounceInterval', init.reannounceInterval ?? REANNOUNCE_INTERVAL_MS)
    this.reannounceJitter = init.reannounceJitter ?? REANNOUNCE_JITTER
    if (!(this.reannounceJitter >= 0 && this.reannounceJitter < 1)) throw new InvalidProtocolOptionError('reannounceJitter', 'use a fraction from 0 to below 1')
    if (this.reannounceInterval <= 0) throw new InvalidProtocolOptionError('reannounceInterval', 'must be above 0')
    if (this.reannounceInterval * (1 + this.reannounceJitter) >= this.providerTtl) {
      throw new InvalidProtocolOptionError('providerTtl', `${this.providerTtl} ms expires providers before they re-announce (every ${this.reannounceInterval} ms ± ${this.reannounceJitter * 100}%)`)
    }
    this.joinDelay = positive('joinDelay', init.joinDelay ?? JOIN_DELAY_MS)
    this.catalogFallbackDelay = positive('catalogFallbackDelay', init.catalogFallbackDelay ?? CATALOG_FALLBACK_DELAY_MS)
    this.catalogAnswerWindow = positive('catalogAnswerWindow', init.catalogAnswerWindow ?? CATALOG_ANSWER_WINDOW_MS)
    this.catalogRetry = positive('catalogRetry', init.catalogRetry ?? CATALOG_RETRY_MS)
    this.wantTimeout = positive('wantTimeout', init.wantTimeout ?? WANT_TIMEOUT_MS)
    this.wantSettle = positive('wantSettle', init.wantSettle ?? WANT_SETTLE_MS)
    this.wantAnswerWindow = positive('wantAnswerWindow', init.wantAnswerWindow ?? WANT_ANSWER_WINDOW_MS)
    this.penalty = positive('invalidMessagePenalty', init.invalidMessagePenalty ?? INVALID_MESSAGE_PENALTY)
    this.catalogState = new Catalog(this.network.peerId, (type, detail) => { this.safeDispatchEvent(type, detail as any) })
  }

  private get self (): string {
    return this.network.peerId
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    this.joined = false
    for (const [topic, kind] of this.kinds) {
      this.network.setTopicValidator(topic, (msg) => this.validate(kind, msg))
      this.network.subscribe(topic)
    }
    this.network.addEventListener('message', this.onMessage)
    this.network.addEventListener('subscription-change', this.onSubscriptionChange)
    this.sweepTimer = setInterval(() => { this.sweep() }, Math.min(SWEEP_INTERVAL_MS, Math.max(10, this.providerTtl / 4)))
    this.scheduleReannounce()
    await this.syncOwn()
    if (this.network.getSubscribers(this.topics.request).length > 0) this.scheduleJoin()
    this.log('started on %s and %s', this.topics.announce, this.topics.request)
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.network.removeEventListener('message', this.onMessage)
    this.network.removeEventListener('subscription-change', this.onSubscriptionChange)
    for (const [topic] of this.kinds) {
      this.network.removeTopicValidator(topic)
      if (this.network.isStarted()) this.network.unsubscribe(topic)
    }
    clearInterval(this.sweepTimer)
    clearTimeout(this.reannounceTimer)
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.requests.clear()
    this.wantAnswers.clear()
    this.counters.pendingAnswers = 0
    this.counters.pendingRequests = 0
    for (const waiters of this.wantWaiters.values()) for (const wake of waiters) wake()
    this.log('stopped')
  }

  // --- public API ---

  async announce (file: FileAnnouncement, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const meta = fileMeta(file)
    this.requireStarted()
    this.announced.set(meta.cid, { meta, complete: true })
    this.withdrawnOwn.delete(meta.cid)
    this.ownHaves.delete(meta.cid)
    this.catalogState.add({ cid: meta.cid, peer: this.self, meta, complete: true, lastSeen: Date.now(), firstHand: true })
    await this.publish({ type: 'announce', files: [{ meta, complete: true }] })
  }

  async withdraw (cid: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    this.announced.delete(c)
    this.ownHaves.delete(c)
    this.withdrawnOwn.add(c)
    this.catalogState.remove(c, this.self, 'withdrawn')
    await this.publish({ type: 'withdraw', cids: [c] })
  }

  async have (cid: string, complete: boolean, options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    this.withdrawnOwn.delete(c)
    const own = this.announced.get(c)
    if (own != null) own.complete = complete
    else this.ownHaves.set(c, complete)
    const meta = this.catalogState.meta(c)
    this.catalogState.add({ cid: c, peer: this.self, complete, lastSeen: Date.now(), firstHand: true, ...(meta != null ? { meta } : {}) })
    await this.publish({ type: 'have', cid: c, complete })
  }

  async want (cid: string, options: WantOptions = {}): Promise<string[]> {
    options.signal?.throwIfAborted()
    const c = cidOrThrow(cid)
    this.requireStarted()
    const known = this.providers(c)
    if (known.length > 0) return known

    let resolve!: (providers: string[]) => void
    let reject!: (err: unknown) => void
    const promise = new Promise<string[]>((_resolve, _reject) => {
      resolve = _resolve
      reject = _reject
    })
    let settleTimer: ReturnType<typeof setTimeout> | undefined
    const finish = (): void => {
      cleanup()
      resolve(this.providers(c))
    }
    const onProvider = (): void => {
      if (!this.started) {
        finish()
        return
      }
      if (settleTimer != null || this.providers(c).length === 0) return
      settleTimer = setTimeout(finish, this.wantSettle)
    }
    const onAbort = (): void => {
      cleanup()
      reject(options.signal?.reason)
    }
    const timeout = setTimeout(finish, options.timeout ?? this.wantTimeout)
    const cleanup = (): void => {
      clearTimeout(timeout)
      clearTimeout(settleTimer)
      const set = this.wantWaiters.get(c)
      set?.delete(onProvider)
      if (set?.size === 0) this.wantWaiters.delete(c)
      options.signal?.removeEventListener('abort', onAbort)
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    let set = this.wantWaiters.get(c)
    if (set == null) {
      set = new Set()
      this.wantWaiters.set(c, set)
    }
    set.add(onProvider)
    try {
      await this.publish({ type: 'want', requestId: randomId(), cid: c })
    } catch (err) {
      cleanup()
      throw err
    }
    return promise
  }

  catalog (): CatalogEntry[] {
    return this.catalogState.list()
  }

  entry (cid: string): CatalogEntry | undefined {
    const c = normalizeCid(cid)
    return c == null ? undefined : this.catalogState.get(c)
  }

  providers (cid: string): string[] {
    const c = normalizeCid(cid)
    if (c == null) return []
    return this.catalogState.providers(c).map(p => p.peer).filter(p => p !== this.self)
  }

  stats (): SwarmProtocolStats {
    return structuredClone(this.counters)
  }

  // --- validation ---

  private validate (kind: TopicKind, msg: TopicMessage): Verdict {
    const result = decodeWire(kind, msg.data)
    if (!result.ok) {
      this.counters.rejected++
      this.counters.rejectedByReason[result.reason] = (this.counters.rejectedByReason[result.reason] ?? 0) + 1
      this.log('rejected a message from %s on %s: %s', msg.from, msg.topic, result.reason)
      if (this.penalty > 0) this.network.penalize(msg.from, this.penalty)
      this.safeDispatchEvent('message:rejected', { peer: msg.from, topic: msg.topic, reason: result.reason })
      return 'reject'
    }
    const type = result.message.type
    if ((type === 'catalog-request' && !this.catalogLimiter.take(msg.from)) ||
        (type === 'want' && !this.wantLimiter.take(msg.from))) {
      this.counters.ignored++
      this.log('ignored a %s from %s: over its rate limit', type, msg.from)
      return 'ignore'
    }
    return 'accept'
  }

  // --- receiving ---

  private readonly onMessage = (evt: CustomEvent<TopicMessage>): void => {
    const msg = evt.detail
    const kind = this.kinds.get(msg.topic)
    if (kind == null || msg.from === this.self) return
    const result = decodeWire(kind, msg.data)
    if (!result.ok) return
    this.counters.received++
    this.counters.receivedByType[result.message.type] = (this.counters.receivedByType[result.message.type] ?? 0) + 1
    try {
      this.handle(msg.from, result.message)
    } catch (err) {
      this.log.error('handling a %s from %s failed: %e', result.message.type, msg.from, err)
    }
  }

  private handle (from: string, msg: WireMessage): void {
    const now = Date.now()
    switch (msg.type) {
      case 'hello':
        this.safeDispatchEvent('peer:hello', { peer: from, name: msg.name })
        return
      case 'announce':
        for (const f of msg.files) {
          this.catalogState.add({ cid: f.meta.cid, peer: from, meta: f.meta, complete: f.complete, lastSeen: now, firstHand: true })
          this.wakeWanters(f.meta.cid)
        }
        return
      case 'withdraw':
        for (const cid of msg.cids) this.catalogState.remove(cid, from, 'withdrawn', now)
        return
      case 'have':
        this.catalogState.add({ cid: msg.cid, peer: from, complete: msg.complete, lastSeen: now, firstHand: true })
        if (msg.requestId != null && msg.complete) {
          this.wantAnswers.get(msg.requestId)?.completeAnswers.add(from)
        }
        this.wakeWanters(msg.cid)
        return
      case 'catalog-answer':
        this.onCatalogAnswer(from, msg.requestId, msg.records, now)
        return
      case 'want':
        void this.onWant(msg.requestId, msg.cid).catch(err => { this.log.error('answering a want failed: %e', err) })
        return
      case 'catalog-request':
        this.onCatalogRequest(msg.requestId, msg.responder, now)
    }
  }

  private onCatalogAnswer (from: string, requestId: string, records: CatalogRecordInfo[], now: number): void {
    if (this.myRequest?.id === requestId) this.myRequest.answered = true
    const state = this.requestState(requestId, now)
    for (const record of records) {
      for (const p of record.providers) {
        state?.covered.add(`${record.meta.cid} ${p.peer}`)
        // claims about this node come from this node only; reports older than the TTL are already expired
        if (p.peer === this.self || p.ageMs > this.providerTtl) continue
        this.catalogState.add({
          cid: record.meta.cid,
          peer: p.peer,
          meta: record.meta,
          complete: p.complete,
          lastSeen: now - p.ageMs,
          firstHand: p.peer === from
        })
      }
      this.wakeWanters(record.meta.cid)
    }
  }

  /**
   * The state of a catalog request (created when first heard of, by request or answer). When too many
   * are open the oldest one not waiting on our answer is dropped, so a flood of answers to made-up
   * requests cannot keep us from answering real ones; undefined only when all are waiting.
   */
  private requestState (requestId: string, now: number): RequestState | undefined {
    let state = this.requests.get(requestId)
    if (state == null) {
      if (this.requests.size >= MAX_PENDING_ANSWERS * 4) {
        const victim = [...this.requests].find(([, s]) => !s.answering)
        if (victim == null) return undefined
        this.requests.delete(victim[0])
      }
      state = { covered: new Set(), heardAt: now, answering: false }
      this.requests.set(requestId, state)
    }
    return state
  }

  private onCatalogRequest (requestId: string, responder: string | undefined, now: number): void {
    const state = this.requestState(requestId, now)
    if (state == null || state.answering || this.counters.pendingAnswers >= MAX_PENDING_ANSWERS) return
    state.answering = true
    this.counters.pendingAnswers++
    this.setTimer(() => {
      void this.answerCatalogRequest(requestId, state)
        .catch(err => { this.log.error('answering a catalog request failed: %e', err) })
        .finally(() => { this.answerDone() })
    }, responder === this.self ? 0 : (responder == null ? 0 : this.catalogFallbackDelay) + jitter(this.catalogAnswerWindow))
  }

  /** Answers from the catalog as it is (own files are synced at start and every re-announce: no store read on this path). */
  private async answerCatalogRequest (requestId: string, state: RequestState): Promise<void> {
    if (!this.started) return
    const now = Date.now()
    const byCid = new Map<string, CatalogRecordInfo>()
    for (const pair of this.catalogState.pairs()) {
      if (state.covered.has(`${pair.meta.cid} ${pair.peer}`)) continue
      const ageMs = pair.peer === this.self ? 0 : Math.max(0, now - pair.lastSeen)
      if (ageMs > this.providerTtl) continue
      let record = byCid.get(pair.meta.cid)
      if (record == null) {
        record = { meta: pair.meta, providers: [] }
        byCid.set(pair.meta.cid, record)
      }
      record.providers.push({ peer: pair.peer, complete: pair.complete, ageMs })
    }
    this.log('catalog request %s: %d pairs already answered, %d files left to answer', requestId, state.covered.size, byCid.size)
    if (byCid.size === 0) {
      this.counters.suppressed++
      return
    }
    const records = [...byCid.values()].map(r => ({
      meta: r.meta,
      providers: r.providers.sort((a, b) => a.ageMs - b.ageMs).slice(0, MAX_PROVIDERS_PER_RECORD)
    }))
    for (const r of records) for (const p of r.providers) state.covered.add(`${r.meta.cid} ${p.peer}`)
    for (const batch of batches(records, catalogRecordBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE)) {
      await this.publish({ type: 'catalog-answer', requestId, records: batch })
    }
  }

  private async onWant (requestId: string, cid: string): Promise<void> {
    const own = await this.ownFiles()
    const complete = own.get(cid)?.complete ?? this.ownHaves.get(cid)
    if (complete == null || !this.started) return
    const state: WantAnswerState = { completeAnswers: new Set(), heardAt: Date.now() }
    if (this.wantAnswers.size < MAX_PENDING_ANSWERS * 4) this.wantAnswers.set(requestId, state)
    this.counters.pendingAnswers++
    this.setTimer(() => {
      this.wantAnswers.delete(requestId)
      if (state.completeAnswers.size >= WANT_ENOUGH_ANSWERS) {
        this.counters.suppressed++
        this.answerDone()
        return
      }
      void this.publish({ type: 'have', cid, complete, requestId })
        .catch(err => { this.log.error('answering a want failed: %e', err) })
        .finally(() => { this.answerDone() })
    }, jitter(this.wantAnswerWindow))
  }

  private wakeWanters (cid: string): void {
    const waiters = this.wantWaiters.get(cid)
    if (waiters == null) return
    for (const wake of [...waiters]) wake()
  }

  // --- joining, re-announcing, expiring ---

  private readonly onSubscriptionChange = (evt: CustomEvent<{ peer: string, subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    if (this.joined) return
    if (evt.detail.subscriptions.some(s => s.subscribe && this.kinds.has(s.topic))) this.scheduleJoin()
  }

  private scheduleJoin (): void {
    if (this.joined) return
    this.joined = true
    this.setTimer(() => { void this.join().catch(err => { this.log.error('joining failed: %e', err) }) }, this.joinDelay)
  }

  /** Hello, catalog request, own files: what a node says when it meets the swarm. */
  private async join (): Promise<void> {
    await this.publish({ type: 'hello', name: this.name })
    await this.requestCatalog(0)
    await this.publishOwnFiles()
  }

  /**
   * Publishes a catalog request naming a random subscribed peer as the responder. Unanswered after
   * catalogRetry, it is repeated (at most CATALOG_RETRIES times) only if more peers subscribed
   * meanwhile: the peers that heard it had nothing to say.
   */
  private async requestCatalog (retries: number): Promise<void> {
    const id = randomId()
    const peers = this.network.getSubscribers(this.topics.request)
    const subscribers = (): number => this.network.getSubscribers(this.topics.request).length
    this.myRequest = { id, answered: false, retries, subscribers: peers.length }
    this.counters.pendingRequests = 1
    const responder = peers[Math.floor(Math.random() * peers.length)]
    await this.publish({ type: 'catalog-request', requestId: id, ...(responder != null ? { responder } : {}) })
    this.setTimer(() => {
      const mine = this.myRequest
      this.counters.pendingRequests = 0
      if (mine?.id !== id || mine.answered || retries >= CATALOG_RETRIES || subscribers() <= mine.subscribers) return
      void this.requestCatalog(retries + 1).catch(err => { this.log.error('catalog request failed: %e', err) })
    }, this.catalogRetry)
  }

  private scheduleReannounce (): void {
    const delay = this.reannounceInterval * (1 - this.reannounceJitter + 2 * this.reannounceJitter * Math.random())
    this.reannounceTimer = setTimeout(() => {
      if (!this.started) return
      this.scheduleReannounce()
      void this.publishOwnFiles().catch(err => { this.log.error('re-announce failed: %e', err) })
    }, delay)
  }

  /** Announces every own file (in batches) and re-sends have for partial files without metadata. */
  private async publishOwnFiles (): Promise<void> {
    const own = await this.syncOwn()
    if (!this.started) return
    const files: AnnouncedFileInfo[] = [...own.values()].map(f => ({ meta: f.meta, complete: f.complete }))
    for (const batch of batches(files, announcedFileBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE)) {
      await this.publish({ type: 'announce', files: batch })
    }
    for (const [cid, complete] of this.ownHaves) {
      if (!own.has(cid)) await this.publish({ type: 'have', cid, complete })
    }
  }

  /** Own files: the store's list plus announce() calls, minus withdraw() calls. */
  private async ownFiles (): Promise<Map<string, OwnFile>> {
    const out = new Map<string, OwnFile>()
    let listed: LocalFile[] = []
    try {
      listed = await this.localFiles()
    } catch (err) {
      this.log.error('could not list local files: %e', err)
    }
    for (const f of listed) {
      try {
        const meta = fileMeta(f)
        if (!this.withdrawnOwn.has(meta.cid)) out.set(meta.cid, { meta, complete: f.complete })
      } catch (err) {
        this.log('not announcing local file %s: %e', f.cid, err)
      }
    }
    for (const [cid, f] of this.announced) if (!out.has(cid)) out.set(cid, f)
    return out
  }

  /** Brings this node's own listings in the catalog in line with ownFiles(). */
  private async syncOwn (): Promise<Map<string, OwnFile>> {
    const own = await this.ownFiles()
    const now = Date.now()
    for (const f of own.values()) {
      this.catalogState.add({ cid: f.meta.cid, peer: this.self, meta: f.meta, complete: f.complete, lastSeen: now, firstHand: true })
    }
    return own
  }

  private sweep (): void {
    const now = Date.now()
    this.catalogState.expire(now, this.providerTtl)
    const keep = 2 * this.catalogAnswerWindow + this.catalogRetry
    for (const [id, state] of this.requests) {
      if (now - state.heardAt > keep) this.requests.delete(id)
    }
  }

  // --- sending ---

  private async publish (msg: WireMessage): Promise<void> {
    if (!this.started || !this.network.isStarted()) return
    const topic = msg.type === 'want' || msg.type === 'catalog-request' ? this.topics.request : this.topics.announce
    const data = encodeWire(msg)
    this.counters.published++
    this.counters.publishedByType[msg.type] = (this.counters.publishedByType[msg.type] ?? 0) + 1
    await this.network.publish(topic, data)
  }

  private answerDone (): void {
    if (this.counters.pendingAnswers > 0) this.counters.pendingAnswers--
  }

  private setTimer (fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.started) fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  private requireStarted (): void {
    if (!this.started || !this.network.isStarted()) throw new ProtocolNotStartedError()
  }
}

/** Builds the protocol of one swarm on a network (not started: the node starts it after the network). */
export function createSwarmProtocol (init: SwarmProtocolInit): SwarmProtocol {
  return new SwarmProtocolImpl(init)
}
