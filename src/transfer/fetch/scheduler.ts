/**
 * The scheduler of a download, a pure function: given what is missing, who has what and how
 * loaded each provider is, `plan(state, now)` says which blocks to ask of whom, and when it
 * wants to be asked again (a LATER or BUSY expiring). It changes nothing; the session applies
 * the plan and must arm a timer for `wakeAt` (issue 18: a block deferred without a timer was
 * never asked again).
 *
 * Rules (docs/PROTOCOL.md, `### Requester`):
 * - a provider is asked only for blocks it announced (HAVE), never more outstanding than its
 *   window, nor more than its fair share of what is missing (missing / live providers);
 * - dag-pb nodes first, then the rarest blocks, ties at random;
 * - a block goes to the least loaded holder, holders that answered LATER last;
 * - a holder that answered LATER for a block is not asked for it before `later` expires, nor
 *   afterwards while another usable holder that did not say LATER (and is not BUSY) is known;
 * - a provider that answered BUSY is left alone until `busyUntil`;
 * - endgame: once every block is asked for, free slots duplicate the oldest requests, at most
 *   `maxDuplicates` requests per block.
 */

/** What the scheduler reads of a missing block. */
export interface PlanWant {
  readonly key: string
  readonly internal: boolean
  /** Random priority among blocks of equal rarity. */
  readonly prio: number
  /** Received, being verified and written: nothing to ask. */
  readonly landing: boolean
  readonly haveAt: ReadonlySet<string>
  /** Providers it is asked of now, with the time of the request. */
  readonly requested: ReadonlyMap<string, number>
  /** Providers that answered LATER, with the time they may be asked again. */
  readonly later: ReadonlyMap<string, number>
}

/** What the scheduler reads of a provider. */
export interface PlanProvider {
  readonly peer: string
  /** Its stream is open and it answers (not stalled, broken, gone or banned). */
  readonly usable: boolean
  /** Counts toward the fair share (usable, or expected back). */
  readonly live: boolean
  readonly window: number
  /** Blocks asked of it and not answered yet. */
  readonly outstanding: number
  readonly busyUntil: number
  /** Answered LATER at least once: it serves this file to many (a first sharer). */
  readonly saidLater: boolean
  /** Measured rate, bytes per second: the faster wins ties. */
  readonly rate: number
}

export interface PlanState {
  readonly wants: Iterable<PlanWant>
  /** Number of missing blocks (tracked or not). */
  readonly missing: number
  readonly providers: ReadonlyMap<string, PlanProvider>
  readonly minWindow: number
  readonly maxDuplicates: number
}

export interface Plan {
  /** Blocks to ask of each provider (WANT_BLOCK), best first. */
  readonly requests: Map<string, string[]>
  /** When the plan may change with nothing else happening (a LATER or BUSY expiring). */
  readonly wakeAt?: number
}

/** The `n` best items by `compare` (ascending), without sorting all of them. */
export function bestOf<T> (items: T[], n: number, compare: (a: T, b: T) => number): T[] {
  if (items.length <= n) return [...items].sort(compare)
  const best: T[] = []
  for (const item of items) {
    const last = best[best.length - 1]
    if (best.length === n && last != null && compare(item, last) >= 0) continue
    let i = best.length
    while (i > 0 && compare(item, best[i - 1] as T) < 0) i--
    best.splice(i, 0, item)
    if (best.length > n) best.pop()
  }
  return best
}

const better = (a: PlanWant, b: PlanWant): number =>
  (Number(b.internal) - Number(a.internal)) || (a.haveAt.size - b.haveAt.size) || (a.prio - b.prio)

export function plan (state: PlanState, now: number): Plan {
  const requests = new Map<string, string[]>()
  let wakeAt: number | undefined
  const wake = (at: number): void => { if (wakeAt == null || at < wakeAt) wakeAt = at }

  let live = 0
  for (const p of state.providers.values()) if (p.live) live++
  const share = Math.max(state.minWindow, Math.ceil(state.missing / Math.max(1, live)))
  const free = new Map<string, number>()
  let totalFree = 0
  for (const p of state.providers.values()) {
    if (!p.usable) continue
    if (p.busyUntil > now) {
      wake(p.busyUntil)
      continue
    }
    const n = Math.min(p.window, share) - p.outstanding
    if (n > 0) {
      free.set(p.peer, n)
      totalFree += n
    }
  }

  // what this plan assigned, on top of the state's own requests
  const assigned = new Map<PlanWant, Set<string>>()
  const assign = (w: PlanWant, peer: string): void => {
    let set = assigned.get(w)
    if (set == null) {
      set = new Set()
      assigned.set(w, set)
    }
    set.add(peer)
    const left = (free.get(peer) ?? 0) - 1
    if (left > 0) free.set(peer, left)
    else free.delete(peer)
    totalFree--
    let list = requests.get(peer)
    if (list == null) {
      list = []
      requests.set(peer, list)
    }
    list.push(w.key)
  }

  const usable = (peer: string): PlanProvider | undefined => {
    const p = state.providers.get(peer)
    return p?.usable === true ? p : undefined
  }

  /** The holder to ask for `w`, or undefined (arming a wake-up when a LATER is what stops it). */
  const pick = (w: PlanWant, endgame: boolean): string | undefined => {
    let best: PlanProvider | undefined
    let bestLoad = Infinity
    for (const peer of w.haveAt) {
      const p = usable(peer)
      if (p == null) continue
      if (endgame && (w.requested.has(peer) || assigned.get(w)?.has(peer) === true)) continue
      const later = w.later.get(peer)
      if (later != null) {
        if (later > now) {
          wake(later)
          continue
        }
        // it said: ask the others first (those that can be asked now: a holder that keeps
        // answering BUSY must not keep the block from the one that said LATER)
        let other = false
        for (const q of w.haveAt) {
          const qp = q !== peer && !w.later.has(q) ? usable(q) : undefined
          if (qp != null && qp.busyUntil <= now) {
            other = true
            break
          }
        }
        if (other) continue
      }
      if (!free.has(peer)) continue
      // fewest outstanding first (every provider gets a share from the start), a provider
      // that said LATER (a first sharer serving many) last, the faster on ties
      const load = (p.saidLater ? 1_000 : 0) + p.outstanding + (requests.get(peer)?.length ?? 0)
      if (best == null || load < bestLoad || (load === bestLoad && p.rate > best.rate)) {
        best = p
        bestLoad = load
      }
    }
    return best?.peer
  }

  // 1. blocks nobody is asked for, best first: internal nodes, rarest, random
  const candidates: PlanWant[] = []
  let unrequested = 0
  const inFlight: PlanWant[] = []
  for (const w of state.wants) {
    if (w.landing) continue
    let asked = false
    for (const peer of w.requested.keys()) {
      if (usable(peer) != null) {
        asked = true
        break
      }
    }
    if (asked) {
      if (w.requested.size < state.maxDuplicates) inFlight.push(w)
      continue
    }
    unrequested++
    for (const peer of w.haveAt) {
      if (free.has(peer) || w.later.has(peer)) {
        candidates.push(w)
        break
      }
    }
  }
  if (candidates.length > 0 && totalFree > 0) {
    // a few slots are free per event while thousands of blocks may be missing: try the best
    // few first (a bounded selection), and sort everything only if slots are still free
    const few = bestOf(candidates, totalFree * 4, better)
    for (const w of few) {
      if (totalFree === 0) break
      const peer = pick(w, false)
      if (peer != null) assign(w, peer)
    }
    if (totalFree > 0 && few.length < candidates.length) {
      candidates.sort(better)
      for (const w of candidates) {
        if (totalFree === 0) break
        if (assigned.has(w)) continue
        const peer = pick(w, false)
        if (peer != null) assign(w, peer)
      }
    }
  } else {
    // no slot: still note when a LATER expires, so a deferred block is asked again
    for (const w of candidates) for (const until of w.later.values()) if (until > now) wake(until)
  }

  // 2. endgame: everything is asked for; idle providers duplicate the oldest requests
  if (unrequested === 0 && totalFree > 0 && inFlight.length > 0) {
    const oldest = (w: PlanWant): number => Math.min(...w.requested.values())
    inFlight.sort((a, b) => oldest(a) - oldest(b))
    for (const w of inFlight) {
      if (totalFree === 0) break
      const peer = pick(w, true)
      if (peer != null) assign(w, peer)
    }
  }

  return wakeAt == null ? { requests } : { requests, wakeAt }
}
