/**
 * Named limits of the store itself. The content profile (chunk size, DAG
 * width, codecs, block size limit, file name limit) is declared once, in
 * src/content/constants.ts, and imported from there.
 */

/** Chunks the importer hashes at once. */
export const BLOCK_WRITE_CONCURRENCY = 8

/** Blocks an import may have in flight to the disk while it goes on reading and hashing: up to 16 MiB held. */
export const IMPORT_WRITE_WINDOW = 16

/**
 * Blocks this process wrote or found to match their CID, remembered (with their lengths) so that
 * a server of the store need not hash them again (`Store.verifiedHere`): 4,096 keys, ~250 KB.
 */
export const VERIFIED_BLOCKS_KEPT = 4096

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
/** Manifests of files kept by reference (refs.ts). */
export const REFS_DIR = 'refs'
/** Markers of writers that may have blocks not yet fsynced (journal.ts). */
export const DIRTY_DIR = 'dirty'
export const VERSION_FILE = 'VERSION'

/**
 * Blocks written (renamed into place) and not yet fsynced, at most: the store
 * fsyncs them and their folders in one batch at this count, before any
 * record, and at close. It bounds what a power cut can lose and what the next
 * open verifies (journal.ts): 64 MiB of 1 MiB blocks.
 */
export const MAX_UNSYNCED_BLOCKS = 64

/**
 * Blocks written and not yet fsynced at which the store starts fsyncing them in the background
 * (flush(), not awaited by the write): the writer goes on while the batch is synced, and a
 * download waits at its end only for what came after the last batch. Without it, each 64th write
 * waited for 64 fsyncs, and a 256 MiB fetch spent its last ~50 ms waiting for the final batch
 * (~5% of it here; docs/BENCHMARKS.md, "The fsync tail"). MAX_UNSYNCED_BLOCKS stays the bound:
 * a disk slower than the network makes the writer wait there, as before.
 */
export const BACKGROUND_SYNC_BLOCKS = 16

/**
 * The store reads and writes blocks with synchronous calls (blockstore.ts). When writes take
 * longer than INLINE_WRITE_SLOW_MS on average, they are held by the disk, not copied into the
 * page cache (~1 ms for 1 MiB); reads longer than INLINE_READ_SLOW_MS on average go to the disk
 * (~0.2 ms from the page cache). Either sends the next INLINE_BACKOFF_MS of writes, or of reads,
 * through the thread pool, so that a slow disk does not hold the event loop. A call does not
 * count the time its thread waited for a core (where the system says: util/thread-clock.ts).
 * The average is moving, each call weighing INLINE_AVERAGE_WEIGHT: one call that waited 80 ms
 * does not switch writes, a disk that takes 25 ms a write does after six.
 */
export const INLINE_WRITE_SLOW_MS = 20
export const INLINE_READ_SLOW_MS = 10
export const INLINE_AVERAGE_WEIGHT = 0.25
export const INLINE_BACKOFF_MS = 10_000

/** Block files fsynced at once by a flush. */
export const SYNC_CONCURRENCY = 16

/** Slack when blocks modified since a marker are picked by mtime (the kernel's clock ticks coarsely). */
export const MTIME_SLACK_MS = 2000

/** Files of a folder the importer reads and chunks at once (the CIDs do not depend on it). */
export const FILE_IMPORT_CONCURRENCY = 4
