/**
 * The network: the one module that builds and drives libp2p.
 *
 * Everything above it (pubsub protocol, transfer, CLI) sees peers as base58
 * strings, pubsub as topics of bytes, and streams as duplexes of bytes, so a
 * later move to libp2p 3 changes this file and nothing else.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mdns } from '@libp2p/mdns'
import { identify, type Identify } from '@libp2p/identify'
import { gossipsub, type GossipsubOpts, type GossipSub } from '@chainsafe/libp2p-gossipsub'
import { createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { FaultTolerance, TopicValidatorResult, type Connection, type PrivateKey, type Message, type PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Uint8ArrayList } from 'uint8arraylist'
import { TypedEventEmitter } from '../util/events.js'
import { GOSSIP_DECODE_LIMITS, HEARTBEAT_MS, MAX_GOSSIP_OUTBOUND_BYTES, MAX_STREAM_WINDOW_BYTES, MAX_MUX_MESSAGE_BYTES, PING_TIMEOUT_MS, MDNS_INTERVAL_MS, MDNS_SERVICE_TAG, SWARM_TOPIC_SCORE } from './constants.js'
import { NotStartedError } from '../util/errors.js'
import { InvalidMultiaddrError, ListenError } from './errors.js'
import { createLogger } from '../util/logger.js'
import { swarmProtector } from './private-swarm.js'
import { TopicCaps } from './topic-caps.js'
import { counted, isRelayed, RelayDialer, relayTransport, wanConfig, type RelayServiceLimits } from './relay.js'

/** A bidirectional byte stream to one peer over one protocol. */
export interface ByteStream {
  readonly remotePeer: string
  readonly protocol: string
  readonly source: AsyncIterable<Uint8ArrayList | Uint8Array>
  sink: (source: AsyncIterable<Uint8ArrayList | Uint8Array> | Iterable<Uint8ArrayList | Uint8Array>) => Promise<void>
  /** Closes both directions gracefully. */
  close: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Tears the stream down at once, telling the other side it failed. */
  abort: (err: Error) => void
}

/** A message received on a topic. `from` is the signer (StrictSign), never a field a sender can fill in. */
export interface TopicMessage {
  topic: string
  from: string
  data: Uint8Array
  /** The connected peer that delivered it (the signer or a relay); set for topic validators. */
  via?: string
}

/** Verdict of a topic validator: `reject` scores the forwarding peer down, `ignore` drops silently. */
export type Verdict = 'accept' | 'reject' | 'ignore'

export type TopicValidator = (msg: TopicMessage) => Verdict | Promise<Verdict>

export interface StreamHandlerOptions {
  /** Most inbound streams a peer may hold open on this protocol at once. */
  maxInboundStreams?: number
  /** Most outbound streams this node opens to one peer on this protocol. */
  maxOutboundStreams?: number
}

export interface NetworkEvents {
  'peer:connect': { peer: string }
  'peer:disconnect': { peer: string }
  /** A peer's identify exchange finished; `agent` is its agent string. */
  'peer:identify': { peer: string, agent?: string }
  /** mDNS (or another discovery) found a peer. */
  'peer:discovery': { peer: string, addrs: string[] }
  message: TopicMessage
  'subscription-change': { peer: string, subscriptions: Array<{ topic: string, subscribe: boolean }> }
  /** WAN: a relay closed a relayed connection at its limit (the error says which limit and what to do). */
  'relay:limit': { peer: string, relay: string, message: string }
}

export interface NetworkInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Discover peers with mDNS and dial them. */
  mdns: boolean
  /** mDNS query interval in ms (default MDNS_INTERVAL_MS). */
  mdnsInterval?: number
  /** Sent to peers by identify. */
  agent: string
  /** A swarm key in kubo's format: every connection is wrapped in a pre-shared-key cipher. */
  swarmKey?: Uint8Array
  /** Topics scored with SWARM_TOPIC_SCORE (invalid messages graylist their sender). */
  scoredTopics?: string[]
  /** Overrides for gossipsub. */
  gossipsub?: GossipsubOptions
  /** WAN (docs/WAN.md): run a circuit relay v2 server for other peers, with these limits. */
  relayService?: RelayServiceLimits
  /** WAN: relays (`/ip4/…/tcp/…/p2p/ID`) to reserve a slot on; the node then also listens on `…/p2p-circuit`. */
  relays?: string[]
  /** WAN: addresses to advertise besides the listen addresses (a router's forwarded port, a public IP). */
  announce?: string[]
  /** Overrides of the yamux sizes (benchmarks measure them; default MAX_STREAM_WINDOW_BYTES, MAX_MUX_MESSAGE_BYTES). */
  muxer?: { maxStreamWindowSize?: number, maxMessageSize?: number }
}

/** Gossipsub overrides a caller may pass (heartbeat, mesh sizes, scoring). */
export type GossipsubOptions = Partial<GossipsubOpts>

export interface ConnectionInfo {
  peer: string
  addr: string
  direction: 'inbound' | 'outbound'
  /** Runs through a circuit relay (limited by the relay), not a direct connection. */
  relayed: boolean
}

/** The libp2p peer as the rest of swarmdrop sees it. */
export interface Network {
  readonly peerId: string
  isStarted: () => boolean
  getMultiaddrs: () => string[]
  connections: () => ConnectionInfo[]
  /** Known addresses of a peer (from the peer store). */
  peerAddrs: (peer: string) => Promise<string[]>
  /** Dials a multiaddr (with or without /p2p/) or a known peer id; resolves with the peer id. */
  dial: (target: string, options?: { signal?: AbortSignal }) => Promise<string>
  hangUp: (peer: string) => Promise<void>
  subscribe: (topic: string) => void
  unsubscribe: (topic: string) => void
  /** Publishes on a topic; resolves with the peers it was sent to (none is not an error). */
  publish: (topic: string, data: Uint8Array) => Promise<string[]>
  setTopicValidator: (topic: string, validator: TopicValidator) => void
  removeTopicValidator: (topic: string) => void
  getSubscribers: (topic: string) => string[]
  getMeshPeers: (topic: string) => string[]
  /** Lowers a peer's gossipsub score (app-specific component); graylisted past the threshold. */
  penalize: (peer: string, amount: number) => void
  score: (peer: string) => number
  handle: (protocol: string, handler: (stream: ByteStream) => void, options?: StreamHandlerOptions) => Promise<void>
  unhandle: (protocol: string) => Promise<void>
  openStream: (peer: string, protocol: string, options?: { signal?: AbortSignal }) => Promise<ByteStream>
  addEventListener: TypedEventEmitter<NetworkEvents>['addEventListener']
  removeEventListener: TypedEventEmitter<NetworkEvents>['removeEventListener']
}

export function parseMultiaddr (value: string): Multiaddr {
  let ma: Multiaddr
  try {
    ma = multiaddr(value)
  } catch (err: any) {
    throw new InvalidMultiaddrError(value, err.message)
  }
  return ma
}

type Services = { identify: Identify, pubsub: GossipSub }

function toByteStream (stream: any, remotePeer: string, count?: (n: number) => void): ByteStream {
  return {
    remotePeer,
    protocol: stream.protocol ?? '',
    source: count == null ? stream.source : counted(stream.source, count),
    sink: async (source) => { await stream.sink(count == null ? source : counted(source, count)) },
    close: async (options) => { await stream.close(options) },
    abort: (err) => { stream.abort(err) }
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

  constructor (libp2p: Libp2p<Services>, listen: string[], discovery: EventTarget[], relayListen: string[] = []) {
    super()
    this.relayDialer = new RelayDialer(libp2p as any, relayListen)
    this.relayDialer.onLimit = (err) => { this.safeDispatchEvent('relay:limit', { peer: err.peer, relay: err.relay, message: err.message }) }
    // every mDNS answer, not only the first (libp2p's own peer:discovery fires once per peer),
    // so a peer that comes back after a disconnect is dialled again
    for (const d of discovery) {
      d.addEventListener('peer', (evt: any) => {
        this.safeDispatchEvent('peer:discovery', {
          peer: evt.detail.id.toString(),
          addrs: evt.detail.multiaddrs.map((ma: Multiaddr) => ma.toString())
        })
      })
    }
    this.libp2p = libp2p
    this.listen = listen
    this.peerId = libp2p.peerId.toString()
    this.topicCaps = new TopicCaps(libp2p, this.log)

    libp2p.addEventListener('peer:connect', (evt) => {
      this.safeDispatchEvent('peer:connect', { peer: evt.detail.toString() })
    })
    libp2p.addEventListener('peer:disconnect', (evt) => {
      this.topicCaps.onDisconnect(evt.detail)
      this.safeDispatchEvent('peer:disconnect', { peer: evt.detail.toString() })
    })
    libp2p.addEventListener('peer:identify', (evt) => {
      this.safeDispatchEvent('peer:identify', { peer: evt.detail.peerId.toString(), agent: evt.detail.agentVersion })
    })
    libp2p.services.pubsub.addEventListener('message', (evt) => {
      const msg: Message = evt.detail
      if (msg.type !== 'signed') return
      // a peer heard of through a relay's gossip: reach it through the relay (WAN)
      void this.relayDialer.dialViaRelays(msg.from)
      this.safeDispatchEvent('message', { topic: msg.topic, from: msg.from.toString(), data: msg.data })
    })
    libp2p.services.pubsub.addEventListener('subscription-change', (evt) => {
      this.topicCaps.onSubscriptions(evt.detail.peerId, evt.detail.subscriptions)
      this.safeDispatchEvent('subscription-change', {
        peer: evt.detail.peerId.toString(),
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
  }

  async stop (): Promise<void> {
    this.topicCaps.stop()
    this.relayDialer.stop()
    await this.libp2p.stop()
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
      .map(c => ({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction, relayed: isRelayed(c) }))
  }

  async peerAddrs (peer: string): Promise<string[]> {
    try {
      const p = await this.libp2p.peerStore.get(peerIdFromString(peer))
      return p.addresses.map(a => a.multiaddr.toString())
    } catch {
      return []
    }
  }

  private requireStarted (): void {
    if (!this.isStarted()) throw new NotStartedError()
  }

  async dial (target: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    this.requireStarted()
    const t: PeerId | Multiaddr = target.startsWith('/') ? parseMultiaddr(target) : peerIdFromString(target)
    const conn = await this.libp2p.dial(t, options)
    return conn.remotePeer.toString()
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
    return result.recipients.map(p => p.toString())
  }

  setTopicValidator (topic: string, validator: TopicValidator): void {
    this.libp2p.services.pubsub.topicValidators.set(topic, async (source, msg) => {
      if (msg.type !== 'signed') return TopicValidatorResult.Reject
      let verdict: Verdict
      try {
        verdict = await validator({ topic: msg.topic, from: msg.from.toString(), data: msg.data, via: source.toString() })
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
    return this.libp2p.services.pubsub.getSubscribers(topic).map(p => p.toString())
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
      handler(toByteStream(stream, connection.remotePeer.toString(), this.counter(connection)))
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

// gossipsub's factory is typed as returning the generic PubSub; the instance is a GossipSub
const gossipsubService = gossipsub as unknown as (init: Partial<GossipsubOpts>) => (components: any) => GossipSub

/** Builds a network (not started). */
export async function createNetwork (init: NetworkInit): Promise<Network & { start: () => Promise<void>, stop: () => Promise<void> }> {
  const listen = init.listen.map(a => parseMultiaddr(a).toString())
  // the score function is built before the network object that holds the penalties
  const ref: { net?: Libp2pNetwork } = {}
  const discovery: EventTarget[] = []
  const withDiscovery = <T extends EventTarget>(factory: (components: any) => T) => (components: any): T => {
    const service = factory(components)
    discovery.push(service)
    return service
  }
  const wan = wanConfig(init)
  const libp2p = await createLibp2p<Services>({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: [...listen, ...wan.listen], appendAnnounce: wan.announce },
    transports: [tcp(), relayTransport()],
    // a configured relay that is down at start must not stop the node: it reserves when the relay is back
    transportManager: { faultTolerance: wan.listen.length > 0 ? FaultTolerance.NO_FATAL : FaultTolerance.FATAL_ALL },
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({
      maxStreamWindowSize: init.muxer?.maxStreamWindowSize ?? MAX_STREAM_WINDOW_BYTES,
      maxMessageSize: init.muxer?.maxMessageSize ?? MAX_MUX_MESSAGE_BYTES
    })],
    connectionProtector: swarmProtector(init.swarmKey),
    peerDiscovery: init.mdns
      ? [withDiscovery(mdns({ interval: init.mdnsInterval ?? MDNS_INTERVAL_MS, serviceTag: MDNS_SERVICE_TAG }))]
      : [],
    connectionManager: {
      maxConnections: 300,
      // libp2p limits inbound connections per remote IP to 5 a second; on one host (tests, demo)
      // or a LAN where a dozen peers start together that refuses honest peers
      inboundConnectionThreshold: 100,
      maxIncomingPendingConnections: 100
    },
    connectionMonitor: {
      // libp2p pings every connection every 10 s and aborts it when a ping takes more than 5 s;
      // behind megabytes of block data on a busy machine a ping can, and the abort kills a healthy
      // transfer. 20 s still finds a dead peer (a laptop that went to sleep) within half a minute.
      pingTimeout: { minTimeout: PING_TIMEOUT_MS }
    },
    services: {
      ...wan.services,
      identify: identify({ agentVersion: init.agent }),
      pubsub: gossipsubService({
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        floodPublish: true,
        heartbeatInterval: HEARTBEAT_MS,
        maxOutboundBufferSize: MAX_GOSSIP_OUTBOUND_BYTES,
        decodeRpcLimits: GOSSIP_DECODE_LIMITS,
        ...init.gossipsub,
        scoreParams: {
          appSpecificScore: (p: string) => ref.net?.appScore(p) ?? 0,
          appSpecificWeight: 1,
          // peers on this host (tests, the demo, several nodes on one laptop) all share an IP;
          // gossipsub's IP colocation penalty would keep them out of each other's mesh
          IPColocationFactorWhitelist: new Set(['127.0.0.1', '::1']),
          ...init.gossipsub?.scoreParams,
          topics: {
            ...Object.fromEntries((init.scoredTopics ?? []).map(t => [t, createTopicScoreParams(SWARM_TOPIC_SCORE)])),
            ...init.gossipsub?.scoreParams?.topics
          }
        }
      })
    }
  })
  ref.net = new Libp2pNetwork(libp2p, listen, discovery, wan.listen)
  return ref.net
}
