/**
 * The libp2p adapter: every libp2p import of swarmdrop lives in this folder
 * (the one exception is `@libp2p/logger` in `src/util/logger.ts`). The layers
 * above see peers as base58 strings, pubsub as topics of bytes and streams as
 * byte duplexes, so a move to libp2p 3 changes this folder only.
 */
export { createNetwork, parseMultiaddr, type Network, type NetworkInit, type NetworkEvents, type ConnectionInfo, type ByteStream, type TopicMessage, type TopicValidator, type Verdict, type StreamHandlerOptions, type GossipsubOptions } from './network.js'
export { loadOrCreateIdentity } from './identity.js'
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile } from './swarm-key.js'
export { IdentityNotPrivateError, InvalidIdentityError, InvalidMultiaddrError, ListenError, InvalidSwarmKeyError } from './errors.js'
