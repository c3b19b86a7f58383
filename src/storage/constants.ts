/**
 * Named limits of the store. The CID profile (chunk size, DAG width, codecs,
 * block size limit) is in src/content/constants.ts.
 *
 * The profile is Helia's `unixfs.addBytes` default (`@helia/unixfs`
 * `src/commands/add.ts`: "cidVersion: 1, rawLeaves: true, layout:
 * balanced({ maxChildrenPerNode: 1024 }), chunker: fixedSize({ chunkSize:
 * 1048576 })"), which is also IPIP-499's `unixfs-v1-2025` file profile:
 * CIDv1, sha2-256, raw leaves, 1 MiB fixed chunks, balanced DAG at most 1024
 * links wide, and a single-chunk file reduced to its raw leaf.
 */

export { CHUNK_SIZE, MAX_CHILDREN_PER_NODE, CID_VERSION, RAW_CODEC, DAG_PB_CODEC, SHA2_256, MAX_BLOCK_SIZE, MAX_FILE_NAME_BYTES } from '../content/constants.js'

/** Chunks the importer hashes at once. */
export const BLOCK_WRITE_CONCURRENCY = 8

/**
 * Blocks an import may have in flight to the disk (each is fsynced before
 * its rename) while it goes on reading and hashing: up to 16 MiB held.
 */
export const IMPORT_WRITE_WINDOW = 16

/** Blocks read ahead at once by cat/export. */
export const BLOCK_READ_CONCURRENCY = 8

/** Blocks verified at once by fsck, and presence checks at once by missing(). */
export const CHECK_CONCURRENCY = 8

/** Longest name kept in a record, in UTF-8 bytes; longer names are cut (the record stays small). */
export const MAX_RECORD_NAME_BYTES = 4096

/** Name used when a name is empty or nothing of it survives sanitising. */
export const FALLBACK_FILE_NAME = 'file'

/** Media type when none is given and the extension is unknown. */
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream'

/** On-disk layout version, in `<store>/VERSION`. */
export const STORE_VERSION = 1

/** Folders inside the store. */
export const BLOCKS_DIR = 'blocks'
export const RECORDS_DIR = 'records'
export const TMP_DIR = 'tmp'
export const CORRUPT_DIR = 'corrupt'
export const VERSION_FILE = 'VERSION'
