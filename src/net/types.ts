/**
 * The network's types: what the layers above see of libp2p (peers as base58 strings, topics of
 * bytes, streams as byte duplexes). No libp2p value crosses this surface.
 */
import type { GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import type { PrivateKey } from '@libp2p/interface'
import type { NetworkInterfaceInfo } from 'node:os'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { TypedEventEmitter } from '../util/events.js'
import type { RelayServiceLimits } from './relay.js'

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
  /**
   * Bytes received on the stream and not yet read from `source`, where the muxer can tell
   * (yamux can). Not bounded by the stream's receive window: js-yamux gives the sender a whole
   * window of credit at every read, whatever is still unread, so a reader slower than its peer
   * must watch this itself (as rust-yamux resets a stream whose "buffer grows beyond limit").
   */
  unread?: () => number
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
  /**
   * A connection failed because the two sides do not share a swarm key: `outbound` when this node
   * dialled `addr`, `inbound` when a peer at `addr` (an IP) dialled it. Once per address.
   */
  'swarm-key:mismatch': { direction: 'inbound' | 'outbound', addr: string, message: string }
}

/** What `os.networkInterfaces()` returns (link-watch.ts). */
export type InterfaceLister = () => NodeJS.Dict<NetworkInterfaceInfo[]>

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
  /**
   * Peer exchange (peer-exchange.ts): ask every peer for the peers it is connected to that are
   * subscribed to this topic (the swarm's announce topic) and dial them; answer the same question.
   */
  peerExchangeTopic?: string
  /** Open connections one remote IP may hold (default MAX_CONNECTIONS_PER_ADDRESS; loopback exempt). */
  maxConnectionsPerAddress?: number
  /** Apply that limit to loopback too (tests of the limit; default false). */
  limitLoopback?: boolean
  /** Overrides of the yamux sizes (benchmarks measure them; default MAX_STREAM_WINDOW_BYTES, MAX_MUX_MESSAGE_BYTES). */
  muxer?: { maxStreamWindowSize?: number, maxMessageSize?: number }
  /**
   * The watch of this host's own addresses (link-watch.ts): how often (default LINK_WATCH_MS) and
   * where the addresses come from (default `os.networkInterfaces`; tests pass their own).
   */
  linkWatch?: { interval?: number, interfaces?: InterfaceLister }
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
  /**
   * Deletes what the peer store holds of a peer that is not connected (addresses, protocols,
   * identify's metadata): libp2p keeps a record of every identity that ever connected, forever.
   */
  forgetPeer: (peer: string) => Promise<void>
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
