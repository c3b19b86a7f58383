/**
 * The network: the one class that drives libp2p (src/net/index.ts names the folder's jobs).
 *
 * Everything above it (pubsub protocol, transfer, CLI) sees peers as base58 strings, pubsub as
 * topics of bytes, and streams as duplexes of bytes (types.ts), so a later move to libp2p 3
 * changes this folder and nothing else. The libp2p configuration is in config.ts, peer exchange
 * in peer-exchange.ts, the stable listening port in stable-port.ts.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { TopicValidatorResult, type Connection, type Message, type PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from '../util/events.js'
import { NotStartedError } from '../util/errors.js'
import { InvalidMultiaddrError, ListenError } from './errors.js'
import { createLogger } from '../util/logger.js'
import { flatString } from '../util/strings.js'
import { TopicCaps } from './topic-caps.js'
import { counted, isRelayed, RelayDialer, wanConfig } from './relay.js'
import { libp2pOptions, type Services } from './config.js'
import { PeerExchange } from './peer-exchange.js'
import { AddressLimiter } from './address-limit.js'
import { LINK_WATCH_MS, MAX_CONNECTIONS_PER_ADDRESS } from './constants.js'
import { isDead, LinkWatch, type Family, type OwnAddress } from './link-watch.js'
import type { SwarmKeyMismatch } from './private-swarm.js'
import type { ByteStream, ConnectionInfo, Network, NetworkEvents, NetworkInit, StreamHandlerOptions, TopicValidator, Verdict } from './types.js'

/**
 * libp2p 2.10's address manager writes our addresses to the peer store 1 s after the last change
 * (a `debounce` of `@libp2p/utils`), and stopping the transports is a change: its timer, not
 * unref'd and not cleared by `libp2p.stop()`, kept a process alive 1 s after every node in it
 * had stopped. The debounced function's own `stop()` clears it. The component is not part of
 * libp2p's public surface, so it is reached for by name and skipped when not there.
 */
function stopAddressUpdates (libp2p: unknown): void {
  const update = (libp2p as { components?: { addressManager?: { _updatePeerStoreAddresses?: { stop?: () => void } } } })
    .components?.addressManager?._updatePeerStoreAddresses
  update?.stop?.()
}

/** A peer id as text, flat in memory (see flatString): peer ids are held per catalog pair, per stream, per message. */
function idOf (peer: { toString: () => string }): string {
  return flatString(peer.toString())
}

export type { ByteStream, ConnectionInfo, GossipsubOptions, Network, NetworkEvents, NetworkInit, StreamHandlerOptions, TopicMessage, TopicValidator, Verdict } from './types.js'

/** Most addresses a node remembers having reported a swarm-key mismatch for (each is reported once). */
const MAX_MISMATCH_REPORTS = 1024

export function parseMultiaddr (value: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(value)
  } catch (err: any) {
    throw new InvalidMultiaddrError(value, err.message)
  }
  return ma
}

function toByteStream (stream: any, remotePeer: string, count?: (n: number) => void): ByteStream {
  return {
    remotePeer,
    protocol: stream.protocol ?? '',
    source: count == null ? stream.source : counted(stream.source, count),
    sink: async (source) => { await stream.sink(count == null ? source : counted(source, count)) },
    close: async (options) => { await stream.close(options) },
    abort: (err) => { stream.abort(err) },
    // AbstractStream (@libp2p/utils) documents it for this use: "to prevent large amounts of
    // data building up when the stream consumer is too slow"
    unread: () => typeof stream.sourceReadableLength === 'function' ? stream.sourceReadableLength() : 0
  }
}

class Libp2pNetwork extends TypedEventEmitter<NetworkEvents> implements Network {
  readonly peerId: string
  private readonly libp2p: Libp2p<Services>
  private readonly penalties = new Map<string, number>()
  private readonly log = createLogger('network')
  private readonly listen: string[]
  private readonly topicCaps: TopicCaps
  private readonly relayDialer: RelayDialer
  private readonly peerExchange?: PeerExchange
  private readonly mismatches = new Set<string>()
  private readonly linkWatch: LinkWatch

  constructor (libp2p: Libp2p<Services>, listen: string[], discovery: EventTarget[], relayListen: string[] = [], peerExchangeTopic?: string, linkWatch: NetworkInit['linkWatch'] = {}) {
    super()
    this.linkWatch = new LinkWatch((gone, allGone) => { this.closeDeadConnections(gone, allGone) }, linkWatch.interval ?? LINK_WATCH_MS, linkWatch.interfaces)
    if (peerExchangeTopic != null) this.peerExchange = new PeerExchange(libp2p, peerExchangeTopic)
    this.relayDialer = new RelayDialer(libp2p as any, relayListen)
    this.relayDialer.onLimit = (err) => { this.safeDispatchEvent('relay:limit', { peer: err.peer, relay: err.relay, message: err.message }) }
    // every mDNS answer, not only the first (libp2p's own peer:discovery fires once per peer),
    // so a peer that comes back after a disconnect is dialled again
    for (const d of discovery) {
      d.addEventListener('peer', (evt: any) => {
        this.safeDispatchEvent('peer:discovery', {
          peer: idOf(evt.detail.id),
          addrs: evt.detail.multiaddrs.map((ma: Multiaddr) => ma.toString())
        })
      })
    }
    this.libp2p = libp2p
    this.listen = listen
    this.peerId = idOf(libp2p.peerId)
    this.topicCaps = new TopicCaps(libp2p, this.log)

    libp2p.addEventListener('peer:connect', (evt) => {
      this.safeDispatchEvent('peer:connect', { peer: idOf(evt.detail) })
    })
    libp2p.addEventListener('peer:disconnect', (evt) => {
      this.topicCaps.onDisconnect(evt.detail)
      this.safeDispatchEvent('peer:disconnect', { peer: idOf(evt.detail) })
    })
    libp2p.addEventListener('peer:identify', (evt) => {
      this.safeDispatchEvent('peer:identify', { peer: idOf(evt.detail.peerId), agent: evt.detail.agentVersion })
    })
    libp2p.services.pubsub.addEventListener('message', (evt) => {
      const msg: Message = evt.detail
      if (msg.type !== 'signed') return
      // a peer heard of through a relay's gossip: reach it through the relay (WAN)
      void this.relayDialer.dialViaRelays(msg.from)
      this.safeDispatchEvent('message', { topic: msg.topic, from: idOf(msg.from), data: msg.data })
    })
    libp2p.services.pubsub.addEventListener('subscription-change', (evt) => {
      this.topicCaps.onSubscriptions(evt.detail.peerId, evt.detail.subscriptions)
      this.safeDispatchEvent('subscription-change', {
        peer: idOf(evt.detail.peerId),
        subscriptions: evt.detail.subscriptions.map(s => ({ topic: s.topic, subscribe: s.subscribe }))
      })
    })
  }

  async start (): Promise<void> {
    try {
      await this.libp2p.start()
    } catch (err: any) {
      await Promise.resolve(this.libp2p.stop()).catch(() => {})
      throw new ListenError(this.listen, err.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(err.message)) ? 'the address is already in use' : (err.message ?? String(err)))
    }
    if (this.listen.length > 0 && this.libp2p.getMultiaddrs().length === 0) {
      await Promise.resolve(this.libp2p.stop()).catch(() => {})
      throw new ListenError(this.listen, 'no address could be bound')
    }
    this.relayDialer.start()
    await this.peerExchange?.start()
    this.linkWatch.start()
  }

  /** Closes the connections that the loss of these addresses of this host left dead (link-watch.ts). */
  private closeDeadConnections (gone: OwnAddress[], allGone: Set<Family>): void {
    const dead = this.libp2p.getConnections().filter(c => {
      try {
        return isDead(c.remoteAddr.toOptions().host, gone, allGone)
      } catch {
        return false
      }
    })
    this.log('this host lost the address(es) %s%s: closing %d connection(s) that were made through them', gone.map(g => g.cidr).join(', '), allGone.size > 0 ? ` (no ${[...allGone].join(' or ')} address left)` : '', dead.length)
    for (const c of dead) c.abort(new Error(`this host lost its address ${gone.map(g => g.address).join(', ')}`))
  }

  async stop (): Promise<void> {
    this.linkWatch.stop()
    await this.peerExchange?.stop()
    this.topicCaps.stop()
    this.relayDialer.stop()
    await this.libp2p.stop()
    stopAddressUpdates(this.libp2p)
  }

  /** A swarm-key mismatch from the protector: an event, once per address (a redial does not repeat it). */
  onMismatch (mismatch: SwarmKeyMismatch): void {
    const key = `${mismatch.direction} ${mismatch.addr}`
    if (this.mismatches.has(key) || this.mismatches.size >= MAX_MISMATCH_REPORTS) return
    this.mismatches.add(key)
    this.log('%s', mismatch.message)
    this.safeDispatchEvent('swarm-key:mismatch', { ...mismatch })
  }

  isStarted (): boolean {
    return this.libp2p.status === 'started'
  }

  getMultiaddrs (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  connections (): ConnectionInfo[] {
    return this.libp2p.getConnections()
      .filter(c => c.status === 'open')
      .map(c => ({ peer: idOf(c.remotePeer), addr: c.remoteAddr.toString(), direction: c.direction, relayed: isRelayed(c) }))
  }

  async peerAddrs (peer: string): Promise<string[]> {
    try {
      const p = await this.libp2p.peerStore.get(peerIdFromString(peer))
      return p.addresses.map(a => a.multiaddr.toString())
    } catch {
      return []
    }
  }

  async forgetPeer (peer: string): Promise<void> {
    if (this.connections().some(c => c.peer === peer)) return
    try {
      await this.libp2p.peerStore.delete(peerIdFromString(peer))
    } catch (err) {
      this.log('could not forget peer %s: %s', peer, (err as Error).message)
    }
  }

  private requireStarted (): void {
    if (!this.isStarted()) throw new NotStartedError()
  }

  async dial (target: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    this.requireStarted()
    const t: PeerId | Multiaddr = target.startsWith('/') ? parseMultiaddr(target) : peerIdFromString(target)
    const conn = await this.libp2p.dial(t, options)
    return idOf(conn.remotePeer)
  }

  async hangUp (peer: string): Promise<void> {
    await this.libp2p.hangUp(peerIdFromString(peer))
  }

  subscribe (topic: string): void {
    this.libp2p.services.pubsub.subscribe(topic)
  }

  unsubscribe (topic: string): void {
    this.libp2p.services.pubsub.unsubscribe(topic)
  }

  async publish (topic: string, data: Uint8Array): Promise<string[]> {
    this.requireStarted()
    const result = await this.libp2p.services.pubsub.publish(topic, data)
    return result.recipients.map(idOf)
  }

  setTopicValidator (topic: string, validator: TopicValidator): void {
    this.libp2p.services.pubsub.topicValidators.set(topic, async (source, msg) => {
      if (msg.type !== 'signed') return TopicValidatorResult.Reject
      let verdict: Verdict
      try {
        verdict = await validator({ topic: msg.topic, from: idOf(msg.from), data: msg.data, via: idOf(source) })
      } catch (err) {
        this.log.error('validator for %s threw %e', topic, err)
        verdict = 'reject'
      }
      return verdict === 'accept' ? TopicValidatorResult.Accept : verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
    })
  }

  removeTopicValidator (topic: string): void {
    this.libp2p.services.pubsub.topicValidators.delete(topic)
  }

  getSubscribers (topic: string): string[] {
    return this.libp2p.services.pubsub.getSubscribers(topic).map(idOf)
  }

  getMeshPeers (topic: string): string[] {
    return this.libp2p.services.pubsub.getMeshPeers(topic)
  }

  penalize (peer: string, amount: number): void {
    this.penalties.set(peer, (this.penalties.get(peer) ?? 0) + amount)
    this.log('penalized %s by %d, score now %d', peer, amount, this.score(peer))
  }

  appScore (peer: string): number {
    return -(this.penalties.get(peer) ?? 0)
  }

  score (peer: string): number {
    return this.libp2p.services.pubsub.getScore(peer)
  }

  async handle (protocol: string, handler: (stream: ByteStream) => void, options: StreamHandlerOptions = {}): Promise<void> {
    await this.libp2p.handle(protocol, ({ stream, connection }) => {
      handler(toByteStream(stream, idOf(connection.remotePeer), this.counter(connection)))
    }, { ...options, runOnLimitedConnection: true }) // relayed peers too: the relay's limits bound what it carries
  }

  async unhandle (protocol: string): Promise<void> {
    await this.libp2p.unhandle(protocol)
  }

  async openStream (peer: string, protocol: string, options: { signal?: AbortSignal } = {}): Promise<ByteStream> {
    this.requireStarted()
    // a direct connection when there is one, a relayed one only when nothing better exists (relay.ts)
    const connection = await this.relayDialer.connectionFor(peerIdFromString(peer), options)
    const stream = await connection.newStream(protocol, { ...options, runOnLimitedConnection: isRelayed(connection) })
    return toByteStream(stream, peer, this.counter(connection))
  }

  private counter (connection: Connection): ((n: number) => void) | undefined {
    return connection.limits == null ? undefined : (n) => { this.relayDialer.count(connection, n) }
  }
}

/** Builds a network (not started). */
export async function createNetwork (init: NetworkInit): Promise<Network & { start: () => Promise<void>, stop: () => Promise<void> }> {
  const listen = init.listen.map(a => parseMultiaddr(a).toString())
  // the score function and the protector are built before the network object they report to
  const ref: { net?: Libp2pNetwork } = {}
  const discovery: EventTarget[] = []
  const wan = wanConfig(init)
  const limiter = new AddressLimiter(init.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS, createLogger('network:limits'), init.limitLoopback === true)
  const libp2p = await createLibp2p<Services>(libp2pOptions(init, {
    listen,
    wan,
    withDiscovery: (factory) => (components) => {
      const service = factory(components)
      discovery.push(service)
      return service
    },
    appScore: (p) => ref.net?.appScore(p) ?? 0,
    onMismatch: (m) => { ref.net?.onMismatch(m) },
    denyInbound: (addr) => limiter.denyInbound(addr)
  }))
  limiter.attach(libp2p)
  ref.net = new Libp2pNetwork(libp2p, listen, discovery, wan.listen, init.peerExchangeTopic, init.linkWatch)
  return ref.net
}
