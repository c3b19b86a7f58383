/**
 * Beyond the LAN: circuit relay v2 (server and client), DCUtR, AutoNAT, and
 * the two things libp2p leaves to the application:
 *
 * - reaching a peer first heard of on a swarm topic (gossip forwarded by a
 *   relay): it is dialled on `/…/p2p/RELAY/p2p-circuit/p2p/PEER` through each
 *   relay this node is connected to;
 * - the direct upgrade of a relayed connection. DCUtR (below) does it on the
 *   internet, but libp2p's DCUtR, identify and AutoNAT ignore private
 *   addresses by design (`@libp2p/utils/private-ip`), and Node's TCP cannot
 *   bind an outbound socket to its listening port (no SO_REUSEPORT), so a
 *   synchronised TCP punch rarely works from Node. swarmdrop therefore also
 *   dials, once identify over the relayed connection told it the other
 *   side's addresses, every non-relayed address it was given (listen and
 *   `--announce` addresses, private ones too: two offices joined by a VPN are
 *   10/8 networks); the first that answers replaces the relayed connection.
 *
 * What is relayed and how much is bounded by the relay's limits
 * (RELAY_SERVICE_LIMITS, docs/WAN.md).
 */
import { circuitRelayServer, circuitRelayTransport, RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { autoNAT } from '@libp2p/autonat'
import type { Connection, IdentifyResult, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLogger } from '../util/logger.js'
import { DIRECT_DIAL_TIMEOUT_MS, RELAY_DIAL_RETRY_MS, RELAY_LIMIT_HOLD_MS, RELAY_SERVICE_LIMITS } from './constants.js'
import { InvalidMultiaddrError, RelayLimitError } from './errors.js'

/** Limits of a relay service (defaults: RELAY_SERVICE_LIMITS). */
export interface RelayServiceLimits {
  /** Most peers holding a reservation at once. */
  maxReservations?: number
  /** How long a reservation lasts before the client must renew it, ms. */
  reservationTtl?: number
  /** Most bytes relayed per relayed connection, both directions together. */
  dataLimit?: number
  /** Longest a relayed connection may stay open, ms. */
  durationLimit?: number
}

/** The part of libp2p the relay helpers drive. */
interface Host {
  peerId: PeerId
  getConnections: (peer?: PeerId) => Connection[]
  dial: (target: PeerId | Multiaddr | Multiaddr[], options?: { signal?: AbortSignal, force?: boolean }) => Promise<Connection>
  peerStore: { get: (peer: PeerId) => Promise<{ protocols: string[] }> }
  getMultiaddrs: () => Multiaddr[]
  addEventListener: ((type: 'peer:identify', listener: (evt: CustomEvent<IdentifyResult>) => void) => void) & ((type: 'peer:connect', listener: (evt: CustomEvent<PeerId>) => void) => void) & ((type: 'connection:close' | 'connection:open', listener: (evt: CustomEvent<Connection>) => void) => void)
  components?: { transportManager?: { listen: (addrs: Multiaddr[]) => Promise<void> } }
}

const log = createLogger('network:relay')

/** The circuit transport: dials `/p2p-circuit` addresses and keeps the reservations of `/p2p-circuit` listen addresses. */
export function relayTransport (): ReturnType<typeof circuitRelayTransport> {
  return circuitRelayTransport({ reservationCompletionTimeout: 10_000 })
}

/** Services every node runs (DCUtR, AutoNAT), plus the relay server when asked. */
export function relayServices (relayService: RelayServiceLimits | undefined): Record<string, (components: any) => unknown> {
  const services: Record<string, (components: any) => unknown> = {
    dcutr: dcutr(),
    autoNAT: autoNAT()
  }
  if (relayService != null) {
    const limits = { ...RELAY_SERVICE_LIMITS, ...relayService }
    services.relay = circuitRelayServer({
      reservations: {
        maxReservations: limits.maxReservations,
        reservationTtl: limits.reservationTtl,
        applyDefaultLimit: true,
        defaultDataLimit: BigInt(limits.dataLimit),
        defaultDurationLimit: limits.durationLimit
      }
    })
  }
  return services
}

/** True for a connection that runs through a relay. */
export function isRelayed (conn: Pick<Connection, 'remoteAddr' | 'limits'>): boolean {
  return conn.limits != null || conn.remoteAddr.protoNames().includes('p2p-circuit')
}

/** Addresses worth a direct dial: TCP over IP, not relayed, not loopback or link-local. */
function directCandidates (addrs: Multiaddr[], peer: PeerId): Multiaddr[] {
  return addrs.filter(ma => {
    const names = ma.protoNames()
    if (names.includes('p2p-circuit') || !names.includes('tcp')) return false
    const host = ma.toOptions().host
    return !(host.startsWith('127.') || host === '::1' || host.startsWith('169.254.') || host.toLowerCase().startsWith('fe80'))
  }).map(ma => ma.getPeerId() == null ? ma.encapsulate(`/p2p/${peer.toString()}`) : ma)
}

/**
 * The relay's duration limit in seconds. The circuit relay v2 spec counts it in seconds, but
 * js-libp2p's relay server sends its `defaultDurationLimit`, which it enforces in milliseconds
 * (circuit-relay-v2 3.2, `createLimitedRelay`); a limit over a day is taken to be milliseconds.
 */
function limitSeconds (value: number): number {
  return value > 86_400 ? Math.round(value / 1000) : value
}

/** Share of a relayed connection's byte (or time) limit used before its close counts as the relay's limit. */
const RELAY_LIMIT_FRACTION = 0.8

/** Dials peers through relays and upgrades relayed connections to direct ones (see the header). */
export class RelayDialer {
  private readonly host: Host
  private readonly pending = new Map<string, Promise<boolean>>()
  private readonly lastTried = new Map<string, number>()
  private stopped = false
  /** libp2p's start made the first reservations; only later reconnections reserve again here. */
  private armed = false
  /** Stream bytes seen per relayed connection (by connection id), to tell a relay limit from other closes. */
  private readonly relayedBytes = new Map<string, number>()
  /** The limits a relayed connection opened with (libp2p's `limits` count down what is left). */
  private readonly openedWith = new Map<string, { bytes?: number, seconds?: number, at: number }>()
  /** Peers whose relayed connection the relay closed at its limit: not redialled through it for RELAY_LIMIT_HOLD_MS. */
  private readonly limited = new Map<string, { error: RelayLimitError, until: number }>()
  /** Called with each RelayLimitError when it happens. */
  onLimit?: (err: RelayLimitError) => void

  private readonly relayListen: Multiaddr[]

  /** `relayListen`: the `…/p2p/RELAY/p2p-circuit` addresses of the configured relays. */
  constructor (host: Host, relayListen: string[] = []) {
    this.host = host
    this.relayListen = relayListen.map(a => multiaddr(a))
    // libp2p reserves on a configured relay once, at start; when the relay comes back after a
    // restart (the bootstrap dialer redials it) the reservation is made again here
    host.addEventListener('peer:connect', (evt) => {
      const ma = this.relayListen.find(a => a.decapsulate('/p2p-circuit').getPeerId() === evt.detail.toString())
      if (ma == null || this.stopped || !this.armed) return
      if (this.host.getMultiaddrs().some(a => a.toString().startsWith(ma.toString()))) return
      log('relay %s is back: reserving again', evt.detail.toString())
      this.host.components?.transportManager?.listen([ma]).catch((err: any) => { log('reservation on %s failed: %s', ma.toString(), err.message) })
    })
    host.addEventListener('connection:open', (evt) => {
      const l = evt.detail.limits
      if (l == null) return
      this.openedWith.set(evt.detail.id, { ...(l.bytes != null ? { bytes: Number(l.bytes) } : {}), ...(l.seconds != null ? { seconds: limitSeconds(l.seconds) } : {}), at: Date.now() })
    })
    host.addEventListener('connection:close', (evt) => { if (isRelayed(evt.detail)) this.closed(evt.detail) })
    host.addEventListener('peer:identify', (evt) => {
      const conn = evt.detail.connection
      if (conn.status !== 'open' || !isRelayed(conn)) return
      void this.upgrade(conn, evt.detail.listenAddrs)
    })
  }

  /** Counts stream bytes on a relayed connection (call for every chunk read or written). */
  count (conn: Connection, bytes: number): void {
    if (conn.limits == null) return
    this.relayedBytes.set(conn.id, (this.relayedBytes.get(conn.id) ?? 0) + bytes)
  }

  /** The RelayLimitError of a peer whose relayed connection hit the relay's limit recently, if any. */
  limitError (peer: PeerId): RelayLimitError | undefined {
    const l = this.limited.get(peer.toString())
    if (l == null) return undefined
    if (Date.now() > l.until) {
      this.limited.delete(peer.toString())
      return undefined
    }
    return l.error
  }

  /** A relayed connection closed: was it the relay's limit (most of its bytes used, or its time up)? */
  private closed (conn: Connection): void {
    const counted = this.relayedBytes.get(conn.id) ?? 0
    this.relayedBytes.delete(conn.id)
    const limits = this.openedWith.get(conn.id)
    this.openedWith.delete(conn.id)
    if (limits == null) return
    const bytes = limits.bytes
    const atBytes = bytes != null && counted >= RELAY_LIMIT_FRACTION * bytes
    const atTime = limits.seconds != null && Date.now() - limits.at >= RELAY_LIMIT_FRACTION * limits.seconds * 1000
    if (!atBytes && !atTime) return
    const relay = conn.remoteAddr.decapsulate('/p2p-circuit').getPeerId() ?? conn.remoteAddr.toString()
    const error = new RelayLimitError(conn.remotePeer.toString(), relay, { bytes, seconds: limits.seconds })
    log('%s', error.message)
    this.limited.set(conn.remotePeer.toString(), { error, until: Date.now() + RELAY_LIMIT_HOLD_MS })
    this.onLimit?.(error)
  }

  /** Called once libp2p has started. */
  start (): void {
    this.armed = true
  }

  stop (): void {
    this.stopped = true
  }

  private hasDirect (peer: PeerId): boolean {
    return this.host.getConnections(peer).some(c => c.status === 'open' && !isRelayed(c))
  }

  /** Tries the other side's non-relayed addresses; on success closes the relayed connection. */
  private async upgrade (relayed: Connection, addrs: Multiaddr[]): Promise<void> {
    const peer = relayed.remotePeer
    const candidates = directCandidates(addrs, peer)
    if (candidates.length === 0 || this.hasDirect(peer)) return
    log('trying a direct connection to %s on %s', peer.toString(), candidates.map(String).join(', '))
    for (const ma of candidates) {
      if (this.stopped || this.hasDirect(peer)) break
      try {
        const conn = await this.host.dial(ma, { signal: AbortSignal.timeout(DIRECT_DIAL_TIMEOUT_MS), force: true })
        if (isRelayed(conn)) continue
        log('direct connection to %s via %s; closing the relayed one', peer.toString(), conn.remoteAddr.toString())
        break
      } catch (err: any) {
        log('direct dial to %s failed: %s', ma.toString(), err.message)
      }
    }
    if (this.hasDirect(peer) && relayed.status === 'open') await relayed.close().catch(() => {})
  }

  /**
   * The connection to open a stream on: a direct one when there is one; otherwise a dial (known
   * addresses, then through the relays this node is connected to), and a relayed connection only
   * when nothing better exists and its relay has not closed one at its limit lately.
   */
  async connectionFor (peer: PeerId, options: { signal?: AbortSignal } = {}): Promise<Connection> {
    const open = (): Connection[] => this.host.getConnections(peer).filter(c => c.status === 'open')
    const direct = open().find(c => !isRelayed(c))
    if (direct != null) return direct
    if (open().length === 0) {
      try {
        await this.host.dial(peer, options)
      } catch (err) {
        const limited = this.limitError(peer)
        if (limited != null) throw limited
        if (!await this.dialViaRelays(peer, { signal: options.signal, retry: true })) throw err
      }
    }
    const best = open().find(c => !isRelayed(c)) ?? open()[0]
    const limited = this.limitError(peer)
    if (limited != null && (best == null || isRelayed(best))) throw limited
    if (best == null) return await this.host.dial(peer, options)
    return best
  }

  /** Relays this node is connected to (peers speaking the circuit relay hop protocol), with the address used. */
  async relays (): Promise<Multiaddr[]> {
    const out: Multiaddr[] = []
    for (const c of this.host.getConnections()) {
      if (c.status !== 'open' || isRelayed(c)) continue
      try {
        const p = await this.host.peerStore.get(c.remotePeer)
        if (!p.protocols.includes(RELAY_V2_HOP_CODEC)) continue
      } catch {
        continue
      }
      const addr = c.remoteAddr.getPeerId() == null ? c.remoteAddr.encapsulate(`/p2p/${c.remotePeer.toString()}`) : c.remoteAddr
      out.push(addr)
    }
    return out
  }

  /**
   * Dials a peer that has no connection through each connected relay (once per RELAY_DIAL_RETRY_MS);
   * resolves true when connected.
   */
  async dialViaRelays (peer: PeerId, options: { signal?: AbortSignal, retry?: boolean } = {}): Promise<boolean> {
    const id = peer.toString()
    if (peer.equals(this.host.peerId) || this.host.getConnections(peer).some(c => c.status === 'open')) return true
    if (this.limitError(peer) != null) return false
    const pending = this.pending.get(id)
    if (pending != null) return await pending
    const last = this.lastTried.get(id)
    if (options.retry !== true && last != null && Date.now() - last < RELAY_DIAL_RETRY_MS) return false
    this.lastTried.set(id, Date.now())
    const attempt = (async () => {
      for (const relay of await this.relays()) {
        if (relay.getPeerId() === id) continue
        const target = relay.encapsulate(`/p2p-circuit/p2p/${id}`)
        try {
          await this.host.dial(target, { signal: options.signal ?? AbortSignal.timeout(DIRECT_DIAL_TIMEOUT_MS) })
          log('reached %s through %s', id, relay.toString())
          return true
        } catch (err: any) {
          log('could not reach %s through %s: %s', id, relay.toString(), err.message)
        }
      }
      return false
    })()
    this.pending.set(id, attempt)
    try {
      return await attempt
    } finally {
      this.pending.delete(id)
    }
  }
}

/** Passes chunks through, telling `count` their sizes (relayed connections: RelayDialer.count). */
export async function * counted<T extends { byteLength: number }> (source: AsyncIterable<T> | Iterable<T>, count: (n: number) => void): AsyncGenerator<T> {
  for await (const chunk of source) {
    count(chunk.byteLength)
    yield chunk
  }
}

/** WAN parts of the libp2p config: relay reservations, announced addresses, relay/DCUtR/AutoNAT services. */
export function wanConfig (init: { relays?: string[], announce?: string[], relayService?: RelayServiceLimits }): { listen: string[], announce: string[], services: Record<string, (components: any) => unknown> } {
  const parse = (value: string, what: string): Multiaddr => {
    try {
      return multiaddr(value)
    } catch (err: any) {
      throw new InvalidMultiaddrError(value, `${what}: ${err.message as string}`)
    }
  }
  const listen = (init.relays ?? []).map(r => {
    const ma = parse(r, 'a relay address')
    if (ma.getPeerId() == null) throw new InvalidMultiaddrError(r, 'a relay address needs /p2p/<relay peer id>')
    return ma.encapsulate('/p2p-circuit').toString()
  })
  const announce = (init.announce ?? []).map(a => parse(a, 'an announced address').toString())
  return { listen, announce, services: relayServices(init.relayService) }
}
