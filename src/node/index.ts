/**
 * The swarmdrop node: one process, one libp2p peer.
 *
 * @example
 * ```ts
 * import { createSwarmNode } from 'swarmdrop'
 * const node = await createSwarmNode({ repo: './repo', name: 'alice' })
 * console.log(node.peerId, node.getMultiaddrs())
 * await node.stop()
 * ```
 */
export { createSwarmNode, ReservedTopicError, type SwarmNode, type SwarmNodeInit, type SwarmNodeEvents, type PeerInfo, type MessageHandler } from './swarm-node.js'
export type { TopicMessage, ByteStream, Network, Verdict, TopicValidator } from './network.js'
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile } from './swarm-key.js'
export { InvalidIdentityError, RepoError, RepoLockedError, InvalidMultiaddrError, ListenError, NotStartedError, InvalidSwarmKeyError } from './errors.js'
export { createLogger, type Logger } from './logger.js'
