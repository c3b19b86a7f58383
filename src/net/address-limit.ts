/**
 * Open connections per remote IP address. Identities are free, so libp2p's `maxConnections`
 * alone lets one host fill every slot with throw-away peer ids (300 connections from one
 * attacker kept an honest peer out, issue 18). The connection gater refuses an inbound
 * connection from an address that already holds `max` open connections; loopback is exempt
 * (tests, the demo and several nodes on one laptop all share 127.0.0.1), and so are relayed
 * connections (their address is the relay's: the relay service has its own limits).
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../util/logger.js'

/** The IP of a direct `/ip4|ip6/…` address; undefined for a relayed or other address. */
export function ipOf (ma: Multiaddr | string): string | undefined {
  const text = ma.toString()
  if (text.includes('/p2p-circuit')) return undefined
  return /^\/ip[46]\/([^/]+)/u.exec(text)?.[1]
}

export function isLoopback (ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1'
}

export class AddressLimiter {
  private readonly open = new Map<string, number>()
  /** Inbound connections refused so far (for logs and tests). */
  refused = 0

  constructor (private readonly max: number, private readonly log: Logger, private readonly limitLoopback = false) {}

  /**
   * Counts every connection libp2p opens and closes (both directions). Connections accepted
   * together all passed the gater before any was open: an inbound one over the limit is closed
   * as soon as it opens.
   */
  attach (libp2p: Pick<Libp2p, 'addEventListener'>): void {
    libp2p.addEventListener('connection:open', (evt) => {
      const conn = evt.detail
      const n = this.add(conn.remoteAddr, 1)
      if (n > this.max && conn.direction === 'inbound' && this.limited(conn.remoteAddr)) {
        this.refused++
        this.log('closed a connection from %s: it holds %d', ipOf(conn.remoteAddr), n - 1)
        conn.abort(new Error('too many connections from this address'))
      }
    })
    libp2p.addEventListener('connection:close', (evt) => { this.add(evt.detail.remoteAddr, -1) })
  }

  private limited (addr: Multiaddr): boolean {
    const ip = ipOf(addr)
    return ip != null && (this.limitLoopback || !isLoopback(ip))
  }

  /** The gater's question: refuse this incoming connection? */
  denyInbound (remoteAddr: Multiaddr): boolean {
    if (!this.limited(remoteAddr)) return false
    const ip = ipOf(remoteAddr)!
    if ((this.open.get(ip) ?? 0) < this.max) return false
    this.refused++
    this.log('refused a connection from %s: it already holds %d', ip, this.max)
    return true
  }

  /** Open connections from `ip`. */
  count (ip: string): number {
    return this.open.get(ip) ?? 0
  }

  private add (addr: Multiaddr, delta: number): number {
    const ip = ipOf(addr)
    if (ip == null) return 0
    const n = (this.open.get(ip) ?? 0) + delta
    if (n > 0) this.open.set(ip, n)
    else this.open.delete(ip)
    return n
  }
}
