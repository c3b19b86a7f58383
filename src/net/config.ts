/**
 * The libp2p configuration of a swarmdrop node: transports, encryption, the private-swarm
 * protector, discovery, connection limits, identify and gossipsub with its scores. One
 * function, so what a node runs can be read in one place.
 */
import type { Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { mdns } from '@libp2p/mdns'
import { identify, type Identify } from '@libp2p/identify'
import { gossipsub, type GossipsubOpts, type GossipSub } from '@chainsafe/libp2p-gossipsub'
import { createTopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { FaultTolerance } from '@libp2p/interface'
import { GOSSIP_DECODE_LIMITS, HEARTBEAT_MS, MAX_GOSSIP_OUTBOUND_BYTES, MAX_STREAM_WINDOW_BYTES, MAX_MUX_MESSAGE_BYTES, PING_TIMEOUT_MS, MDNS_INTERVAL_MS, MDNS_SERVICE_TAG, SWARM_TOPIC_SCORE } from './constants.js'
import { swarmProtector, type MismatchListener } from './private-swarm.js'
import { relayTransport, type wanConfig } from './relay.js'
import type { NetworkInit } from './types.js'
import type { Multiaddr } from '@multiformats/multiaddr'

export type Services = { identify: Identify, pubsub: GossipSub }

// gossipsub's factory is typed as returning the generic PubSub; the instance is a GossipSub
const gossipsubService = gossipsub as unknown as (init: Partial<GossipsubOpts>) => (components: any) => GossipSub

export interface ConfigHooks {
  /** Listen addresses (already parsed). */
  listen: string[]
  /** WAN parts (relay transport listen addresses, announce, services). */
  wan: ReturnType<typeof wanConfig>
  /** Wraps a discovery service so the network hears every answer. */
  withDiscovery: <T extends EventTarget>(factory: (components: any) => T) => (components: any) => T
  /** Gossipsub's app-specific score of a peer. */
  appScore: (peer: string) => number
  /** Told of every swarm-key mismatch. */
  onMismatch: MismatchListener
  /** The gater's question for each incoming connection (address-limit.ts). */
  denyInbound: (remoteAddr: Multiaddr) => boolean
}

export function libp2pOptions (init: NetworkInit, hooks: ConfigHooks): Libp2pOptions<Services> {
  const { listen, wan } = hooks
  return {
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
    connectionProtector: swarmProtector(init.swarmKey, hooks.onMismatch),
    peerDiscovery: init.mdns
      ? [hooks.withDiscovery(mdns({ interval: init.mdnsInterval ?? MDNS_INTERVAL_MS, serviceTag: MDNS_SERVICE_TAG }))]
      : [],
    connectionGater: {
      denyInboundConnection: (maConn: { remoteAddr: Multiaddr }) => hooks.denyInbound(maConn.remoteAddr)
    },
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
          appSpecificScore: hooks.appScore,
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
  } as Libp2pOptions<Services>
}
