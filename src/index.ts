/**
 * The public API of `swarmdrop`, listed by name. Everything the CLI does is a call on a
 * SwarmNode (share, get, waitForPeers, replicate). Importing this module patches no
 * global: on Node.js 20, createSwarmNode() adds the `Promise.withResolvers` libp2p needs
 * (src/node/node20.ts). For tests, see `swarmdrop/testing`.
 */

// the node
export { createSwarmNode, startLocalSwarm, progressOf } from './node/index.js'
export type {
  SwarmNode, SwarmNodeInit, SwarmNodeComponents, SwarmNodeEvents, ReplicationEvents, PeerInfo, MessageHandler, TopicMessage,
  ShareOptions, SharedFile, GetOptions, FetchedFile, FetchProgressInfo, NodeFetchOptions, ListedFile, FilesStatus, WaitForPeersOptions,
  LocalSwarmInit, LocalSwarm
} from './node/index.js'
export { RepoError, NotStartedError, RepoLockedError, PathNotFoundError, NoPeersError, EncryptInputError, EncryptFolderError, PathNotInFolderError, ReservedTopicError, OutputExistsError, OutputFolderError, NotEnoughSpaceError, SizeMismatchError, StoreLimitError } from './node/index.js'

// private swarms and the network's errors
export { parseSwarmKey, generateSwarmKey, readSwarmKeyFile, IdentityNotPrivateError, InvalidIdentityError, InvalidMultiaddrError, ListenError, InvalidSwarmKeyError } from './node/index.js'

// the swarm protocol (node.protocol)
export type { SwarmProtocol, SwarmProtocolOptions, SwarmProtocolEvents, SwarmProtocolStats, FileAnnouncement, WantOptions, CatalogEntry, CatalogProvider } from './pubsub/index.js'
export { DEFAULT_SWARM, PROTOCOL_VERSION, InvalidSwarmNameError, InvalidFileError, InvalidProtocolOptionError, ProtocolNotStartedError } from './pubsub/index.js'

// the content store (node.store, or on its own)
export { createStore, exportPath, safeFileName, guessMediaType, parseCid, CHUNK_SIZE, MAX_BLOCK_SIZE, MAX_FILE_NAME_BYTES } from './storage/index.js'
export type {
  Store, StoreInit, FileRecord, ImportInput, ImportOptions, ExportOptions, CatOptions, StoreOptions, StoreProgressEvent,
  TrackMeta, GcOptions, GcResult, StoreStat, FsckResult
} from './storage/index.js'
export {
  InvalidCidError, BlockNotFoundError, CorruptBlockError, BlockHashMismatchError, InvalidBlockError, RecordNotFoundError,
  NotAFileError, InvalidRangeError, ImportSourceError, ExportError, DestinationExistsError, NoSpaceError, StoreIOError, SyncFailedError,
  StoreClosedError, StoreVersionError, ReferenceChangedError, ReferenceMissingError, NotByReferenceError
} from './storage/index.js'

// the block exchange (node.transfer)
export type { Transfer, TransferStats, FetchResult, FetchProgress, FetchBlockProgress, FetchProviderProgress, TransferFetchEvents, PeerReceived, ServerStats, PeerCounters } from './transfer/index.js'
export { BLOCKS_PROTOCOL, NotFoundInSwarmError, TransferTimeoutError, UnsupportedCidError, BlockProtocolError, TransferNotStartedError, ProviderLeftError, ProviderStalledError, ProviderBannedError } from './transfer/index.js'

// encrypted shares
export { encrypt, openEncrypted, type OpenedEncrypted, generateContentKey, formatLink, parseLink, parseTarget, isLink, DecryptionError, NotEncryptedError, InvalidLinkError, type EncryptedMeta } from './crypto/index.js'

// driving a running `swarmdrop start` from a script (docs/CLI.md, "Driving a node from a script")
export {
  connectControl, isNodeRunning, socketPath as controlSocketPath, CONTROL_VERSION, NoNodeError, RemoteError, ControlConnectionError,
  InvalidParamsError, UnknownMethodError, UnsupportedVersionError, MalformedRequestError, RequestTooLargeError
} from './control/index.js'
export type { ControlClient, ClientCallOptions, ClientGetOptions, GetProgressEvents, Subscription, ControlMethods, ControlMethod, ParamsOf, ResultOf, EventOf } from './control/index.js'

// loggers a caller can hand to createSwarmNode(init, { logger })
export { createComponentLogger, type ComponentLogger } from './util/logger.js'

// V8 settings for a process that moves bulk data, as the `swarmdrop` command sets them (opt-in for scripts)
export { tuneV8ForTransfers, HEAP_GROWING_PERCENT, OPTIMIZE_LATER, type V8Tuning } from './util/v8-tuning.js'

export { VERSION } from './version.js'
