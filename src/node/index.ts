/**
 * The swarmdrop node: one process, one libp2p peer; everything the CLI does is a call here.
 *
 * @example
 * ```ts
 * import { createSwarmNode } from 'swarmdrop'
 * const node = await createSwarmNode({ repo: './repo', name: 'alice', replicate: true })
 * const { link } = await node.share('./notes.txt', { encrypt: true })
 * await node.waitForPeers({ count: 1 })
 * const file = await node.get(link!, { output: './copy.txt' })
 * await node.stop()
 * ```
 */
export { createSwarmNode } from './create.js'
export type { SwarmNode, SwarmNodeInit, SwarmNodeComponents, SwarmNodeEvents, NodeNetwork, PeerInfo, MessageHandler } from './swarm-node.js'
export type { FileServedEvent } from './served.js'
export type { ReplicationEvents } from './replicator.js'
export type { NodeFetchOptions } from './commands/fetch.js'
export type { ShareOptions, SharedFile } from './commands/share.js'
export { checkSharePath } from './share-path.js'
export { outputPath, progressOf, type GetOptions, type FetchedFile, type FetchProgressInfo, type NameSource } from './commands/get.js'
export type { ListedFile, FilesStatus, FileProvider } from './commands/ls.js'
export { countProviders } from './commands/ls.js'
export type { WaitForPeersOptions } from './commands/wait-for-peers.js'
export { startLocalSwarm, type LocalSwarmInit, type LocalSwarm } from './local-swarm.js'
export { RepoLockedError, PathNotFoundError, NoPeersError, EncryptInputError, EncryptFolderError, PathNotInFolderError, ReservedTopicError, OutputExistsError, OutputFolderError, NotEnoughSpaceError, SizeMismatchError, StoreLimitError } from './errors.js'
export { RepoError, NotStartedError } from '../util/errors.js'
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile, IdentityNotPrivateError, InvalidIdentityError, InvalidMultiaddrError, ListenError, InvalidSwarmKeyError } from '../net/index.js'
export type { TopicMessage } from '../net/index.js'
