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
export type { NodeFetchOptions, ShareOptions } from './files.js'
export { createSwarmNode, ReservedTopicError, type SwarmNode, type SwarmNodeInit, type SwarmNodeEvents, type PeerInfo, type MessageHandler } from './swarm-node.js'
export type { TopicMessage, ByteStream, Network, Verdict, TopicValidator } from '../net/index.js'
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile, InvalidIdentityError, InvalidMultiaddrError, ListenError, InvalidSwarmKeyError } from '../net/index.js'
export { RepoError, NotStartedError } from '../util/errors.js'
export { RepoLockedError } from './errors.js'
export { createLogger, type Logger } from '../util/logger.js'
