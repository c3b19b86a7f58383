/**
 * Want queries (docs/PROTOCOL.md §7): asking the swarm who has a CID the
 * catalog does not list, and answering others' Wants with Have.
 */
import { MAX_PENDING_ANSWERS, WANT_ANSWERS_PER_S, WANT_ENOUGH_ANSWERS } from './constants.js'
import { PeerRateLimiter } from './limits.js'
import type { ProtocolContext } from './context.js'
import { jitter, randomId } from './context.js'
import type { WantOptions } from './types.js'

interface WantAnswerState {
  completeAnswers: Set<string>
  heardAt: number
}

export class Wants {
  private readonly ctx: ProtocolContext
  /** Whether this node holds `cid`: true complete, false partial, undefined not at all. */
  private readonly holds: (cid: string) => Promise<boolean | undefined>
  /** Wants we are about to answer: who else answered them. */
  private readonly answers = new Map<string, WantAnswerState>()
  private readonly waiters = new Map<string, Set<() => void>>()
  /** Haves this node may publish in answer to Wants (one bucket for the whole node). */
  private readonly answerBudget = new PeerRateLimiter({ rate: WANT_ANSWERS_PER_S, burst: 2 * WANT_ANSWERS_PER_S, maxPeers: 1 })

  constructor (ctx: ProtocolContext, holds: (cid: string) => Promise<boolean | undefined>) {
    this.ctx = ctx
    this.holds = holds
  }

  /** Remote providers of `cid` (a key): the catalog's, or the first answers to a Want. */
  async want (cid: string, options: WantOptions = {}): Promise<string[]> {
    const { ctx } = this
    const known = this.providers(cid)
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
      resolve(this.providers(cid))
    }
    const onProvider = (): void => {
      if (!ctx.started) {
        finish()
        return
      }
      if (settleTimer != null || this.providers(cid).length === 0) return
      settleTimer = setTimeout(finish, ctx.timing.wantSettle)
    }
    const onAbort = (): void => {
      cleanup()
      reject(options.signal?.reason)
    }
    const timeout = setTimeout(finish, options.timeout ?? ctx.timing.wantTimeout)
    const cleanup = (): void => {
      clearTimeout(timeout)
      clearTimeout(settleTimer)
      const set = this.waiters.get(cid)
      set?.delete(onProvider)
      if (set?.size === 0) this.waiters.delete(cid)
      options.signal?.removeEventListener('abort', onAbort)
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    let set = this.waiters.get(cid)
    if (set == null) {
      set = new Set()
      this.waiters.set(cid, set)
    }
    set.add(onProvider)
    try {
      await ctx.publish({ type: 'want', requestId: randomId(), cid })
    } catch (err) {
      cleanup()
      throw err
    }
    return promise
  }

  /** Remote providers of `cid` in the catalog, this node excluded. */
  providers (cid: string): string[] {
    return this.ctx.catalog.providers(cid).map(p => p.peer).filter(p => p !== this.ctx.self)
  }

  /** Someone wants `cid`: answer with Have after a random delay, unless enough others did. */
  async onWant (requestId: string, cid: string): Promise<void> {
    const { ctx } = this
    const complete = await this.holds(cid)
    if (complete == null || !ctx.started) return
    if (!this.answerBudget.take('*')) {
      ctx.counters.suppressed++
      return
    }
    const state: WantAnswerState = { completeAnswers: new Set(), heardAt: Date.now() }
    if (this.answers.size < MAX_PENDING_ANSWERS * 4) this.answers.set(requestId, state)
    ctx.counters.pendingAnswers++
    ctx.setTimer(() => {
      this.answers.delete(requestId)
      if (state.completeAnswers.size >= WANT_ENOUGH_ANSWERS) {
        ctx.counters.suppressed++
        ctx.answerDone()
        return
      }
      ctx.background('answering a want', ctx.publish({ type: 'have', cid, complete, requestId }).finally(() => { ctx.answerDone() }))
    }, jitter(ctx.timing.wantAnswerWindow))
  }

  /** A Have answering `requestId` came from `from`. */
  onAnswer (from: string, requestId: string | undefined, complete: boolean): void {
    if (requestId != null && complete) this.answers.get(requestId)?.completeAnswers.add(from)
  }

  /** The catalog learnt a provider of `cid`: wake want() calls waiting for it. */
  wake (cid: string): void {
    const waiters = this.waiters.get(cid)
    if (waiters == null) return
    for (const wake of [...waiters]) wake()
  }

  stop (): void {
    this.answers.clear()
    for (const waiters of this.waiters.values()) for (const wake of waiters) wake()
  }
}
