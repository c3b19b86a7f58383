/**
 * Catalog sync, the late-joiner procedure of docs/PROTOCOL.md §6: a newcomer
 * asks for the catalog (CatalogRequest naming one responder), the responder
 * answers at once, the others after a delay and only with what earlier
 * answers left out; answers heard are added to the catalog as reports.
 */
import { batches, catalogRecordBytes, type CatalogRecordInfo } from './codec.js'
import {
  CATALOG_ANSWER_BURST_BYTES, CATALOG_ANSWER_BYTES_PER_S, CATALOG_RETRIES, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE,
  MAX_PENDING_ANSWERS, MAX_PROVIDERS_PER_RECORD
} from './constants.js'
import { PeerRateLimiter } from './limits.js'
import type { ProtocolContext } from './context.js'
import { jitter, randomId } from './context.js'

/** A catalog request this node heard: what answers to it covered, and our own answer timer. */
interface RequestState {
  covered: Set<string>
  heardAt: number
  /** Our answer is scheduled or sent. */
  answering: boolean
}

export class CatalogSync {
  private readonly ctx: ProtocolContext
  /** Called for every CID an answer brought providers for. */
  private readonly onProviders: (cid: string) => void
  /** Our own latest catalog request, whether anyone answered it, and who could hear it. */
  private mine?: { id: string, answered: boolean, retries: number, subscribers: number }
  private readonly requests = new Map<string, RequestState>()
  /** Ids of this node's own recent requests: only answers to these may add providers heard second-hand. */
  private readonly ownIds: string[] = []
  /** Bytes of answers this node may publish (one bucket for the whole node). */
  private readonly answerBytes = new PeerRateLimiter({ rate: CATALOG_ANSWER_BYTES_PER_S, burst: CATALOG_ANSWER_BURST_BYTES, maxPeers: 1 })

  constructor (ctx: ProtocolContext, onProviders: (cid: string) => void) {
    this.ctx = ctx
    this.onProviders = onProviders
  }

  /**
   * Publishes a catalog request naming a random subscribed peer as the responder. Unanswered after
   * catalogRetry, it is repeated (at most CATALOG_RETRIES times) only if more peers subscribed
   * meanwhile: the peers that heard it had nothing to say.
   */
  async request (retries = 0): Promise<void> {
    const { ctx } = this
    const id = randomId()
    const peers = ctx.network.getSubscribers(ctx.topics.request)
    const subscribers = (): number => ctx.network.getSubscribers(ctx.topics.request).length
    this.mine = { id, answered: false, retries, subscribers: peers.length }
    this.ownIds.push(id)
    if (this.ownIds.length > CATALOG_RETRIES + 1) this.ownIds.shift()
    ctx.counters.pendingRequests = 1
    const responder = peers[Math.floor(Math.random() * peers.length)]
    await ctx.publish({ type: 'catalog-request', requestId: id, ...(responder != null ? { responder } : {}) })
    ctx.setTimer(() => {
      const mine = this.mine
      ctx.counters.pendingRequests = 0
      if (mine?.id !== id || mine.answered || retries >= CATALOG_RETRIES || subscribers() <= mine.subscribers) return
      ctx.background('catalog request', this.request(retries + 1))
    }, ctx.timing.catalogRetry)
  }

  /**
   * A catalog answer: every pair it lists counts as answered for that request (so we need not repeat
   * it). The answerer's own listings are first-hand claims; listings of third peers (reports) are
   * taken only in answers to this node's own requests, so answers to made-up request ids cannot
   * fill the catalog with made-up providers.
   */
  onAnswer (from: string, requestId: string, records: CatalogRecordInfo[], now: number): void {
    const { ctx } = this
    if (this.mine?.id === requestId) this.mine.answered = true
    const asked = this.ownIds.includes(requestId)
    const state = this.state(requestId, now)
    for (const record of records) {
      for (const p of record.providers) {
        state?.covered.add(`${record.meta.cid} ${p.peer}`)
        // claims about this node come from this node only; reports older than the TTL are already expired
        if (p.peer === ctx.self || p.ageMs > ctx.timing.providerTtl || (p.peer !== from && !asked)) continue
        ctx.catalog.add({
          cid: record.meta.cid,
          peer: p.peer,
          meta: record.meta,
          complete: p.complete,
          lastSeen: now - p.ageMs,
          firstHand: p.peer === from
        })
      }
      this.onProviders(record.meta.cid)
    }
  }

  onRequest (requestId: string, responder: string | undefined, now: number): void {
    const { ctx } = this
    const state = this.state(requestId, now)
    if (state == null || state.answering || ctx.counters.pendingAnswers >= MAX_PENDING_ANSWERS) return
    state.answering = true
    ctx.counters.pendingAnswers++
    const delay = responder === ctx.self ? 0 : (responder == null ? 0 : ctx.timing.catalogFallbackDelay) + jitter(ctx.timing.catalogAnswerWindow)
    ctx.setTimer(() => {
      ctx.background('answering a catalog request', this.answer(requestId, state).finally(() => { ctx.answerDone() }))
    }, delay)
  }

  /** Forgets requests older than any answer to them can be. */
  sweep (now: number): void {
    const keep = 2 * this.ctx.timing.catalogAnswerWindow + this.ctx.timing.catalogRetry
    for (const [id, state] of this.requests) {
      if (now - state.heardAt > keep) this.requests.delete(id)
    }
  }

  stop (): void {
    this.requests.clear()
    this.ctx.counters.pendingAnswers = 0
    this.ctx.counters.pendingRequests = 0
  }

  /**
   * The state of a catalog request (created when first heard of, by request or answer). When too many
   * are open the oldest one not waiting on our answer is dropped, so a flood of answers to made-up
   * requests cannot keep us from answering real ones; undefined only when all are waiting.
   */
  private state (requestId: string, now: number): RequestState | undefined {
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

  /** Answers from the catalog as it is (own files are synced at start and every re-announce: no store read on this path). */
  private async answer (requestId: string, state: RequestState): Promise<void> {
    const { ctx } = this
    if (!ctx.started) return
    const now = Date.now()
    const byCid = new Map<string, CatalogRecordInfo>()
    for (const pair of ctx.catalog.pairs()) {
      if (state.covered.has(`${pair.meta.cid} ${pair.peer}`)) continue
      const ageMs = pair.peer === ctx.self ? 0 : Math.max(0, now - pair.lastSeen)
      if (ageMs > ctx.timing.providerTtl) continue
      let record = byCid.get(pair.meta.cid)
      if (record == null) {
        record = { meta: pair.meta, providers: [] }
        byCid.set(pair.meta.cid, record)
      }
      record.providers.push({ peer: pair.peer, complete: pair.complete, ageMs })
    }
    ctx.log('catalog request %s: %d pairs already answered, %d files left to answer', requestId, state.covered.size, byCid.size)
    if (byCid.size === 0) {
      ctx.counters.suppressed++
      return
    }
    const records = [...byCid.values()].map(r => ({
      meta: r.meta,
      providers: r.providers.sort((a, b) => a.ageMs - b.ageMs).slice(0, MAX_PROVIDERS_PER_RECORD)
    }))
    for (const r of records) for (const p of r.providers) state.covered.add(`${r.meta.cid} ${p.peer}`)
    for (const batch of batches(records, catalogRecordBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE)) {
      const bytes = batch.reduce((sum, r) => sum + catalogRecordBytes(r), 0)
      if (!this.answerBytes.take('*', Date.now(), bytes)) {
        ctx.counters.suppressed++
        ctx.log('catalog request %s: answer cut, over the answer budget', requestId)
        return
      }
      await ctx.publish({ type: 'catalog-answer', requestId, records: batch })
    }
  }
}
