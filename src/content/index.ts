/**
 * The content profile: what a swarmdrop CID is (one parser, one verifier), how
 * a file becomes a DAG (one import profile), how a UnixFS block is decoded and
 * a DAG walked, and every size limit of the profile. It depends on nothing of
 * swarmdrop but `src/util`; storage, pubsub and transfer share it.
 */
export { parseCid, cidKey, verifyBytes, contiguous, type BlockBytes, type CID } from './cid.js'
export { decodeNode, type DagNode, type DagChild } from './unixfs.js'
export { walkDag, type DagBlockGetter, type DagWalk, type WalkOptions } from './walk.js'
export { checkName, parseSubPath, splitCidPath, unsafeNameReason } from './path.js'
export { resolvePath, listFolder, isFolderNode, nodeKind, type TreeBlockGetter, type TreeEntry, type FolderLink } from './tree.js'
export { IMPORT_PROFILE, importerOptions } from './profile.js'
export { CHUNK_SIZE, MAX_CHILDREN_PER_NODE, CID_VERSION, RAW_CODEC, DAG_PB_CODEC, SHA2_256, MAX_BLOCK_SIZE, MAX_FILE_NAME_BYTES, MAX_NICKNAME_BYTES, MAX_TREE_DEPTH, MAX_TREE_ENTRIES, FOLDER_MEDIA_TYPE } from './constants.js'
export { InvalidCidError, InvalidBlockError, BlockHashMismatchError, UnsafePathError, TreeLimitError } from './errors.js'
