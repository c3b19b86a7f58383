/**
 * The topic validators: each message is decoded and checked once (codec.ts
 * decodeWire), here, before gossipsub relays it; requests over a rate limit
 * are ignored. The decoded message is kept (keyed by the message's data, which
 * gossipsub hands to the validator and then to the `message` event as the same
 * object) so that the receiving side does not decode it again.
 */
import type { TopicMessage, Verdict } from '../net/index.js'
import { decodeWire, type TopicKind, type WireMessage } from './codec.js'
import {
  ANNOUNCE_BURST_BYTES_PER_PEER, ANNOUNCE_BURST_BYTES_TOTAL, ANNOUNCE_BYTES_PER_PEER_S, ANNOUNCE_BYTES_TOTAL_S, CATALOG_REQUEST_BURST,
  MAX_MESSAGE_BYTES, CATALOG_REQUEST_BURST_PER_PEER, CATALOG_REQUEST_BURST_TOTAL, CATALOG_REQUEST_RATE_PER_PEER_S,
  CATALOG_REQUEST_RATE_PER_S, CATALOG_REQUEST_RATE_TOTAL_S, MAX_RATE_LIMITED_PEERS, WANT_BURST, WANT_BURST_PER_PEER,
  WANT_BURST_TOTAL, WANT_RATE_PER_PEER_S, WANT_RATE_PER_S, WANT_RATE_TOTAL_S
} from './constants.js'
import type { ProtocolContext } from './context.js'
import { PeerRateLimiter } from './limits.js'

/** A request's three buckets: per signer, per delivering peer, and one for the whole node. */
class RequestLimits {
  private readonly signer: PeerRateLimiter
  private readonly via: PeerRateLimiter
  private readonly total: PeerRateLimiter

  constructor (perSigner: [number, number], perPeer: [number, number], total: [number, number]) {
    this.signer = new PeerRateLimiter({ rate: perSigner[0], burst: perSigner[1], maxPeers: MAX_RATE_LIMITED_PEERS })
    this.via = new PeerRateLimiter({ rate: perPeer[0], burst: perPeer[1], maxPeers: MAX_RATE_LIMITED_PEERS })
    this.total = new PeerRateLimiter({ rate: total[0], burst: total[1], maxPeers: 1 })
  }

  /** Which limit the message is over, if any (a token is taken from each bucket it passes). */
  take (msg: TopicMessage, now = Date.now()): 'peer' | 'signer' | 'total' | undefined {
    if (!this.via.take(msg.via ?? msg.from, now)) return 'peer'
    if (!this.signer.take(msg.from, now)) return 'signer'
    if (!this.total.take('*', now)) return 'total'
    return undefined
  }
}

export class MessageValidator {
  private readonly ctx: ProtocolContext
  /** Messages accepted and not yet handled. A WeakMap: a message gossipsub drops after validation leaves nothing behind. */
  private readonly decoded = new WeakMap<Uint8Array, WireMessage>()
  private readonly limits = {
    'catalog-request': new RequestLimits([CATALOG_REQUEST_RATE_PER_S, CATALOG_REQUEST_BURST], [CATALOG_REQUEST_RATE_PER_PEER_S, CATALOG_REQUEST_BURST_PER_PEER], [CATALOG_REQUEST_RATE_TOTAL_S, CATALOG_REQUEST_BURST_TOTAL]),
    want: new RequestLimits([WANT_RATE_PER_S, WANT_BURST], [WANT_RATE_PER_PEER_S, WANT_BURST_PER_PEER], [WANT_RATE_TOTAL_S, WANT_BURST_TOTAL])
  }

  /** Bytes of valid announce-topic messages, per delivering peer and in total (checked before decoding, charged after). */
  private readonly announceBytes = {
    peer: new PeerRateLimiter({ rate: ANNOUNCE_BYTES_PER_PEER_S, burst: ANNOUNCE_BURST_BYTES_PER_PEER, maxPeers: MAX_RATE_LIMITED_PEERS }),
    total: new PeerRateLimiter({ rate: ANNOUNCE_BYTES_TOTAL_S, burst: ANNOUNCE_BURST_BYTES_TOTAL, maxPeers: 1 })
  }

  constructor (ctx: ProtocolContext) {
    this.ctx = ctx
  }

  private ignore (msg: TopicMessage, what: string, limit: string): Verdict {
    const { counters } = this.ctx
    counters.ignored++
    const key = `${what} ${limit}`
    counters.ignoredByLimit[key] = (counters.ignoredByLimit[key] ?? 0) + 1
    this.ctx.log('ignored a %s from %s via %s: over the %s rate limit', what, msg.from, msg.via, limit)
    return 'ignore'
  }

  /** The verdict on a message received on a `kind` topic. */
  validate (kind: TopicKind, msg: TopicMessage): Verdict {
    const { ctx } = this
    // the announce topic's byte budget: a message is decoded only while the buckets hold its size, and a
    // valid one is charged it. Invalid messages are not charged (they are rejected and penalised, which
    // graylists their deliverer); an oversized one is rejected below whatever the budget.
    const via = msg.via ?? msg.from
    const now = Date.now()
    const budgeted = kind === 'announce' && msg.data.byteLength <= MAX_MESSAGE_BYTES
    if (budgeted) {
      if (!this.announceBytes.peer.holds(via, now, msg.data.byteLength)) return this.ignore(msg, 'announce-bytes', 'peer')
      if (!this.announceBytes.total.holds('*', now, msg.data.byteLength)) return this.ignore(msg, 'announce-bytes', 'total')
    }
    const result = decodeWire(kind, msg.data)
    if (!result.ok) {
      ctx.counters.rejected++
      ctx.counters.rejectedByReason[result.reason] = (ctx.counters.rejectedByReason[result.reason] ?? 0) + 1
      ctx.log('rejected a message from %s via %s on %s: %s', msg.from, msg.via, msg.topic, result.reason)
      // charged to the peer that delivered it (a signer costs nothing to mint; the connection is what gossipsub graylists)
      if (ctx.timing.penalty > 0) ctx.network.penalize(msg.via ?? msg.from, ctx.timing.penalty)
      ctx.dispatch('message:rejected', { peer: msg.from, ...(msg.via != null ? { via: msg.via } : {}), topic: msg.topic, reason: result.reason })
      return 'reject'
    }
    if (budgeted) {
      this.announceBytes.peer.take(via, now, msg.data.byteLength)
      this.announceBytes.total.take('*', now, msg.data.byteLength)
    }
    const type = result.message.type
    const replayed = this.replayed(msg.from, result.message)
    if (replayed > 0) {
      // a valid signed message, so not rejected or penalised; ignored, so gossipsub neither delivers nor relays it
      ctx.counters.stale += replayed
      ctx.log('ignored a replayed %s signed by %s via %s: not newer than its withdrawal', type, msg.from, msg.via)
      return 'ignore'
    }
    if (type === 'catalog-request' || type === 'want') {
      const over = this.limits[type].take(msg)
      if (over != null) return this.ignore(msg, type, over)
    }
    this.decoded.set(msg.data, result.message)
    return 'accept'
  }

  /** How many files of an Announce or Have are replays (catalog.isReplay), when every one is; else 0. */
  private replayed (signer: string, m: WireMessage): number {
    const { catalog } = this.ctx
    if (m.type === 'have') return catalog.isReplay(m.cid, signer, m.issued) ? 1 : 0
    if (m.type !== 'announce' || m.files.length === 0) return 0
    return m.files.every(f => catalog.isReplay(f.meta.cid, signer, m.issued)) ? m.files.length : 0
  }

  /**
   * The message a validator accepted, decoded once; a message that reached no validator
   * (none installed at the time) is decoded here. Undefined when it is invalid.
   */
  take (kind: TopicKind, msg: TopicMessage): WireMessage | undefined {
    const cached = this.decoded.get(msg.data)
    if (cached != null) {
      this.decoded.delete(msg.data)
      return cached
    }
    const result = decodeWire(kind, msg.data)
    return result.ok ? result.message : undefined
  }
}
