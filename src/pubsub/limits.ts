/**
 * Token buckets per key (a signer, a delivering peer, or one key for the node
 * as a whole), applied in the topic validators so that a flood is neither
 * answered nor relayed. Bounded: at most `maxPeers` buckets, the least
 * recently used dropped first.
 */
import { setNewest } from '../util/newest-map.js'

export interface TokenBucketInit {
  /** Tokens added per second. */
  rate: number
  /** Most tokens a bucket holds (and starts with). */
  burst: number
  maxPeers: number
}

export class PeerRateLimiter {
  private readonly rate: number
  private readonly burst: number
  private readonly maxPeers: number
  private readonly buckets = new Map<string, { tokens: number, at: number }>()

  constructor (init: TokenBucketInit) {
    this.rate = init.rate
    this.burst = init.burst
    this.maxPeers = init.maxPeers
  }

  /** Whether `peer`'s bucket holds at least `cost` tokens now (nothing taken, no bucket made). */
  holds (peer: string, now = Date.now(), cost = 1): boolean {
    const bucket = this.buckets.get(peer)
    if (bucket == null) return this.burst >= cost
    return Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.rate / 1000) >= cost
  }

  /** Takes `cost` tokens (default 1) from `peer`'s bucket; false (and nothing taken) when it holds fewer. */
  take (peer: string, now = Date.now(), cost = 1): boolean {
    let bucket = this.buckets.get(peer)
    if (bucket == null) {
      bucket = { tokens: this.burst, at: now }
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.rate / 1000)
      bucket.at = now
    }
    setNewest(this.buckets, peer, bucket, this.maxPeers)
    if (bucket.tokens < cost) return false
    bucket.tokens -= cost
    return true
  }
}
