/**
 * The libp2p adapter: every libp2p import of swarmdrop lives in this folder
 * (the one exception is `@libp2p/logger` in `src/util/logger.ts`). The layers
 * above see peers as base58 strings, pubsub as topics of bytes and streams as
 * byte duplexes, so a move to libp2p 3 changes this folder only.
 *
 * One file per job: types.ts (the surface), config.ts (the libp2p options),
 * network.ts (the class that drives libp2p), peer-exchange.ts (peers' peers),
 * stable-port.ts (the remembered listening port), private-swarm.ts and
 * swarm-key.ts (private swarms), relay.ts (WAN), topic-caps.ts, identity.ts.
 */
export { createNetwork, parseMultiaddr, type Network, type NetworkInit, type NetworkEvents, type ConnectionInfo, type ByteStream, type TopicMessage, type TopicValidator, type Verdict, type StreamHandlerOptions, type GossipsubOptions } from './network.js'
export { loadOrCreateIdentity } from './identity.js'
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile } from './swarm-key.js'
export { stableListen, rememberListenPort, readListenPort, type StableListen } from './stable-port.js'
export { LISTEN_PORT_FILE } from './constants.js'
export { IdentityNotPrivateError, InvalidIdentityError, InvalidMultiaddrError, ListenError, InvalidSwarmKeyError } from './errors.js'
