/** Named limits and defaults of the network adapter. */

/** mDNS query interval. Peers answer a query at once, so this bounds how long a newcomer waits for a missed answer. */
export const MDNS_INTERVAL_MS = 500

/**
 * mDNS service name. Ours, not libp2p's `_p2p._udp.local`, so a swarmdrop node
 * does not dial every IPFS node on the LAN. Swarms are told apart by their topics.
 */
export const MDNS_SERVICE_TAG = '_swarmdrop._udp.local'

/** Name of the identity key file inside the repository. */
export const IDENTITY_FILE = 'identity.key'

/**
 * Largest yamux receive window of one stream: what a peer may send on a stream before this node
 * reads it. yamux's default (16 MiB) let a peer that never reads its answers park 8 block
 * streams × 16 MiB in our memory (test/security-flood.test.ts); 4 MiB still holds three 1 MiB
 * blocks in flight, and transfers on 127.0.0.1 were no slower (bench/throughput).
 */
export const MAX_STREAM_WINDOW_BYTES = 4 * 1024 * 1024

/**
 * Largest yamux frame, header included: exactly four Noise messages (65 535 bytes less the
 * 16-byte tag, 65 519 of plaintext each). yamux's default, 64 KiB, is 17 bytes over one Noise
 * message, so every frame went out as two (one of 17 bytes): twice the encryptions and socket
 * writes. Bigger frames also mean fewer window updates from the reader (one per frame read).
 * Measured in docs/BENCHMARKS.md (P1, "yamux frame size"): CPU per MiB of one stream, sender
 * 7.3 → 3.2 ms, receiver 11.9 → 7.5 ms; 1 MiB frames were no better. A frame of another stream
 * waits behind at most one of these (256 KiB, ~2 ms at 100 MiB/s).
 */
export const MAX_MUX_MESSAGE_BYTES = 4 * 65_519

/** How often the node reads its own addresses, to close the connections a lost or changed network left dead (link-watch.ts). */
export const LINK_WATCH_MS = 2_000

/** Shortest time a connection-monitor ping may take before libp2p aborts the connection (libp2p's default: 5 s). */
export const PING_TIMEOUT_MS = 20_000

/** Gossipsub heartbeat. libp2p's default is 1 s; a LAN swarm meshes faster at 200 ms and the cost is small. */
export const HEARTBEAT_MS = 200

/**
 * Gossipsub topic score parameters for the swarm's own topics.
 *
 * P4 (invalid message deliveries) is what matters: every message our
 * validators reject counts against the peer that delivered it, squared,
 * decaying by 10 % a second. With weight -10 and topic weight 1, three
 * rejected messages put a peer at -90, past the graylist threshold (-80):
 * its RPCs are then ignored; at -10 (gossip threshold) it already gets no
 * gossip. Mesh delivery rate (P3) and mesh failure (P3b) are off: swarm
 * topics are quiet by nature and an honest idle peer must not be punished.
 * Time in mesh (P1) and first deliveries (P2) give honest peers a small
 * positive score.
 */
export const SWARM_TOPIC_SCORE = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9
}

/**
 * Most bytes queued for one peer's outbound gossipsub stream. A mesh peer that does not read used
 * to hold every message sent to it (681 MB measured, issue 13); past this gossipsub drops what it
 * would queue for that peer (its `maxOutboundBufferSize` option). 64 swarm messages of 64 KiB.
 */
export const MAX_GOSSIP_OUTBOUND_BYTES = 4 * 1024 * 1024

/**
 * Most entries gossipsub decodes from one RPC (its `decodeRpcLimits`; unbounded by default): a
 * peer's first RPC lists all its subscriptions, IHAVE/IWANT carry up to 5,000 ids by gossipsub's
 * own defaults. An RPC over a limit is dropped whole (a peer subscribed to more than 1,024
 * topics cannot announce them all in one RPC to this node).
 */
export const GOSSIP_DECODE_LIMITS = {
  maxSubscriptions: 1024,
  maxMessages: 1024,
  maxIhaveMessageIDs: 5000,
  maxIwantMessageIDs: 5000,
  maxIdontwantMessageIDs: 5000,
  maxControlMessages: 1024,
  maxPeerInfos: 64
}

/** A peer subscribed to more topics than this at once is disconnected (gossipsub has no such cap). */
export const MAX_TOPICS_PER_PEER = 1024

/** Topics nobody subscribes to any more leave gossipsub's table this long after a peer leaves or unsubscribes. */
export const TOPIC_PRUNE_MS = 1_000

/**
 * Limits of `swarmdrop start --relay-service`, sized for a team's own relay (docs/WAN.md).
 * libp2p's defaults (15 reservations, 128 KiB and 2 min per relayed connection) suit a public
 * relay that only carries the DCUtR handshake; a team relay also carries transfers between
 * members whose routers defeat hole punching, so a relayed connection may carry 64 MiB (both
 * directions together) and live 10 minutes; past either limit the relay resets it.
 */
export const RELAY_SERVICE_LIMITS = {
  /** Peers holding a reservation at once. */
  maxReservations: 64,
  /** A reservation lasts an hour; clients renew it before it runs out. */
  reservationTtl: 60 * 60 * 1000,
  /** Bytes per relayed connection, both directions together. */
  dataLimit: 64 * 1024 * 1024,
  /** Lifetime of a relayed connection, ms. */
  durationLimit: 10 * 60 * 1000
}

/** A direct dial replacing a relayed connection, or a dial through a relay, gives up after this. */
export const DIRECT_DIAL_TIMEOUT_MS = 10_000

/** A peer heard of on a topic but unreachable through the relays is tried again after this. */
export const RELAY_DIAL_RETRY_MS = 15_000

/** After a relay closed a relayed connection at its limit, the peer is not redialled through it for this long. */
export const RELAY_LIMIT_HOLD_MS = 5 * 60 * 1000

/** Name of the file in the repository that remembers the node's listening port (stable-port.ts). */
export const LISTEN_PORT_FILE = 'listen-port'

/** Peer exchange (peer-exchange.ts): every connected peer is asked for its members again this often. */
export const PEER_EXCHANGE_INTERVAL_MS = 30_000

/** Peer exchange: a request or answer, and a dial of a peer heard of, gives up after this. */
export const PEER_EXCHANGE_TIMEOUT_MS = 10_000

/** Peer exchange: most peers in one answer, addresses per peer, bytes per frame. */
export const PEER_EXCHANGE_MAX_PEERS = 32
export const PEER_EXCHANGE_MAX_ADDRS = 8
export const PEER_EXCHANGE_MAX_BYTES = 64 * 1024

/**
 * Open connections one remote IP address may hold (loopback exempt; address-limit.ts). A LAN
 * laptop needs one or two; several laptops behind one NAT router share an address across the
 * internet, hence room for a few.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 8
