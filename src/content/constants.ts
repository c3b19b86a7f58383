/**
 * The content profile of swarmdrop: what a file's CID is and every size limit
 * that follows from it, declared once.
 *
 * The profile is Helia's `unixfs.addBytes` default (`@helia/unixfs`
 * `src/commands/add.ts`: "cidVersion: 1, rawLeaves: true, layout:
 * balanced({ maxChildrenPerNode: 1024 }), chunker: fixedSize({ chunkSize:
 * 1048576 })"), which is also IPIP-499's `unixfs-v1-2025` file profile:
 * CIDv1, sha2-256, raw leaves, 1 MiB fixed chunks, balanced DAG at most 1024
 * links wide, and a single-chunk file reduced to its raw leaf.
 */

/** Fixed chunk size: 1 MiB (1,048,576 bytes). */
export const CHUNK_SIZE = 1_048_576

/** Widest node of the balanced DAG. */
export const MAX_CHILDREN_PER_NODE = 1024

/** CID version of every block the store creates. */
export const CID_VERSION = 1

/** Multicodec codes the store accepts: raw leaves and dag-pb (UnixFS) nodes. */
export const RAW_CODEC = 0x55
export const DAG_PB_CODEC = 0x70

/** Multihash code of sha2-256, the only hash the store verifies. */
export const SHA2_256 = 0x12

/**
 * Largest block putBlock accepts. "Implementations SHOULD try to not emit
 * 1MiB bigger blocks, but MUST decode blocks <= 2MiB" (UnixFS spec, block
 * limit); our own blocks are at most 1 MiB of data.
 */
export const MAX_BLOCK_SIZE = 2 * 1_048_576

/** Longest file name safeFileName returns, in UTF-8 bytes (NAME_MAX of ext4, APFS, NTFS is 255). */
export const MAX_FILE_NAME_BYTES = 255

/** Longest peer nickname, in UTF-8 bytes; longer names are cut. */
export const MAX_NICKNAME_BYTES = 64

/** Deepest folder a shared or fetched tree may have (levels below its root); deeper trees are refused. */
export const MAX_TREE_DEPTH = 64

/** Most entries (files and folders) a shared or fetched tree may hold; larger trees are refused. */
export const MAX_TREE_ENTRIES = 100_000

/** Media type recorded and announced for a folder (the freedesktop.org type of a directory). */
export const FOLDER_MEDIA_TYPE = 'inode/directory'
