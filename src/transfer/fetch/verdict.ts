/**
 * Why a download gives up, in words: the provider left, it stopped answering, nobody had the
 * CID, or blocks simply stopped coming. Pure functions over the providers' health.
 */
import { NotFoundInSwarmError, ProviderBannedError, ProviderLeftError, ProviderStalledError, TransferTimeoutError, type PeerLabel } from '../errors.js'
import type { FetchProvider } from './provider.js'

/**
 * ProviderLeftError when every provider that had blocks of the download (said HAVE, or was found
 * as a provider of the file) has left for `grace` ms and no other provider can deliver; else
 * undefined. An open provider that said HAVE for
 * none of the missing blocks (`holds`) and has sent nothing for `silent` ms cannot: it is
 * another downloader that got its blocks from those who left (a complete copy hiding blocks
 * reveals some within `silent`). A provider that is connecting or down may come back with
 * anything, and holds the verdict.
 */
export function leftError (cid: string, providers: Iterable<FetchProvider>, missing: number, now: number, grace: number, holds: (peer: string) => boolean = () => true, silent = Infinity, label?: PeerLabel): ProviderLeftError | undefined {
  const left: string[] = []
  let others = 0
  for (const p of providers) {
    if (p.state === 'banned') continue
    // a provider that left and is being dialled again is undecided until the dial ends: refused
    // (left), or its host does not answer (down: a blip, the idle timeout decides)
    if (p.state === 'left') {
      // one that said HAVE, or that the swarm named as a provider of the file (it left before
      // its first HAVE): either left with blocks of this download
      if (!p.everHad && !p.listed) continue
      if (p.leftAt == null || now - p.leftAt < grace) return undefined
      left.push(p.peer)
      continue
    }
    if (p.state === 'open' && now - p.lastHeard >= silent && !holds(p.peer)) {
      others++
      continue
    }
    // open with some of the missing blocks (or lately heard from), connecting or down: it may still deliver
    return undefined
  }
  return left.length > 0 ? new ProviderLeftError(cid, left, missing, others, label) : undefined
}

export interface TimeoutContext {
  cid: string
  timeout: number
  /** Some provider said it has the root (or the root is here). */
  found: boolean
  providers: FetchProvider[]
  missing: number
  now: number
  /** `peer` may hold a missing block (said HAVE for one); default: any provider may. */
  holds?: (peer: string) => boolean
  /** How the error names a peer (default: its id). */
  label?: PeerLabel
}

/** The error of a download in which no block arrived for the whole idle timeout. */
export function explainTimeout (c: TimeoutContext): Error {
  // every provider that was ever useful (or, before any was, every provider) sent a wrong block
  const banned = c.providers.filter(p => p.state === 'banned')
  if (banned.length > 0 && !c.providers.some(p => p.state !== 'banned' && (p.everHad || !c.found))) {
    return new ProviderBannedError(c.cid, banned.map(p => p.peer), c.missing, c.label)
  }
  if (!c.found) {
    // never reached: refused or lost before a stream carried an answer
    const unreachable = c.providers.filter(p => !p.everHad && p.state !== 'open' && p.state !== 'banned').length
    const asked = c.providers.length - unreachable
    return new NotFoundInSwarmError(c.cid, c.timeout, asked + unreachable, unreachable)
  }
  const had = c.providers.filter(p => p.everHad && p.state !== 'banned')
  // those that may hold a missing block: connected downloaders that have none of them say nothing
  // about why the missing ones stopped coming (all of them, when none is known to hold one)
  const holding = had.filter(p => c.holds?.(p.peer) ?? true)
  const holders = holding.length > 0 ? holding : had
  if (holders.length > 0 && holders.every(p => p.state === 'left')) {
    return new ProviderLeftError(c.cid, holders.map(p => p.peer), c.missing, 0, c.label)
  }
  // silent: stalled, down, or owing blocks for the whole timeout (one that owes nothing is idle, not silent)
  const silent = holders.filter(p => !p.usable || (p.asked.size > 0 && c.now - p.owingSince >= c.timeout))
  if (holders.length > 0 && silent.length === holders.length) {
    // name the one heard from last: the others were silent even longer
    const last = silent.reduce((a, b) => (b.lastHeard > a.lastHeard ? b : a))
    return new ProviderStalledError(c.cid, last.peer, c.now - last.lastHeard, c.missing, silent.length - 1, holders.every(p => p.offline), c.label)
  }
  return new TransferTimeoutError(c.cid, c.timeout, c.missing)
}
