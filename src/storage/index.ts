/**
 * @packageDocumentation
 *
 * The content-addressed store of a swarmdrop repository (`<repo>/store`).
 *
 * Files are kept as UnixFS blocks whose CIDs are exactly those of Helia's
 * `unixfs.addBytes` (the one import profile, src/content/profile.ts: CIDv1,
 * raw leaves, 1 MiB chunks, balanced DAG of width 1024, sha2-256), so a
 * file's CID here is its CID in IPFS. Each block is written whole under its
 * name (temp file, rename) and fsynced in batches before any record counts
 * on it; each file has a record (name, size, media type, pinned, complete)
 * replaced atomically by the one durable writer (src/util/atomic-write.ts).
 * A file whose root is known before its blocks (a download) is tracked as
 * incomplete and `missing()` says which blocks to fetch next.
 *
 * Every method takes `options` with an AbortSignal; CIDs are accepted as
 * CID objects or text. The store logs through the `logger` component
 * (`createStore(init, { logger })`) as `swarmdrop[:prefix]:storage`.
 *
 * @example
 * ```ts
 * const store = await createStore({ path: join(repo, 'store') }, { logger: createComponentLogger('node-a') })
 * const rec = await store.import('./photo.jpg')
 * await store.export(rec.cid, exportPath('./out', rec.name))
 * await store.close()
 * ```
 */
import type { ProgressEvent } from 'progress-events'
import type { BlockBytes, CID } from '../content/cid.js'
import type { ComponentLogger } from '../util/logger.js'
import type { FileRecord } from './records.js'
import type { StoreFs } from './fs.js'
import { DiskStore } from './store.js'

export type { FileRecord } from './records.js'
export type { FolderExport } from './export-tree.js'
import type { FolderExport } from './export-tree.js'
export type { InlineFs, StoreFs } from './fs.js'
export type { BrokenReference } from './refs.js'
import type { BrokenReference } from './refs.js'
export { safeFileName, exportPath, guessMediaType } from './safe-name.js'
export { writeOut, type WriteOutOptions } from './write-out.js'
export { parseCid } from '../content/cid.js'
export { CHUNK_SIZE, MAX_CHILDREN_PER_NODE, MAX_BLOCK_SIZE, MAX_FILE_NAME_BYTES } from '../content/constants.js'
export {
  InvalidCidError, BlockNotFoundError, CorruptBlockError, BlockHashMismatchError, InvalidBlockError, RecordNotFoundError,
  NotAFileError, InvalidRangeError, ImportSourceError, ExportError, DestinationExistsError, NoSpaceError, StoreIOError, SyncFailedError,
  StoreClosedError, StoreVersionError, UnsafePathError, TreeLimitError, ReferenceChangedError, ReferenceMissingError, NotByReferenceError
} from './errors.js'

export interface StoreInit {
  /** The store folder, normally `<repo>/store`. Created (mode 0700) if missing. */
  path: string
  /** Replaces some file-system functions (default node's `fs/promises`); tests use it to inject ENOSPC. */
  fs?: Partial<StoreFs>
}

/** What the store is given rather than makes (js-libp2p components style). */
export interface StoreComponents {
  /** Logs as `swarmdrop[:prefix]:storage` (default: no prefix). */
  logger?: ComponentLogger
}

/** A file's root CID or a block's CID: a CID object, or its text (any base; CIDv0 accepted and turned into v1). */
export type CidInput = string | CID

/** Progress events, `'store:<op>:<phase>'`; the CLI draws bars from them, tests count them. */
export type StoreProgressEvent =
  /** Bytes of the import source read so far (total known for a file path or bytes). */
  | ProgressEvent<'store:import:read', { read: number, total?: number }>
  /** Folder import: an entry that is not shared (a symbolic link, a special file). */
  | ProgressEvent<'store:import:skipped', { path: string, reason: string }>
  /** One block of the import is on disk (`written: false`: it was there already). */
  | ProgressEvent<'store:import:block', { cid: string, bytes: number, written: boolean }>
  /** The import finished and its record is written. */
  | ProgressEvent<'store:import:done', { cid: string, size: number, blocks: number }>
  /** putBlock stored a block (`written: false`: it was there already). */
  | ProgressEvent<'store:put:block', { cid: string, bytes: number, written: boolean }>
  /** cat read a block. */
  | ProgressEvent<'store:cat:block', { cid: string, bytes: number }>
  /** export read a block. */
  | ProgressEvent<'store:export:block', { cid: string, bytes: number }>
  /** export wrote bytes to the temp file. */
  | ProgressEvent<'store:export:bytes', { cid: string, written: number, total: number }>
  /** Folder export: a file of the folder is written (`path` inside it; `files` and `bytes` so far). */
  | ProgressEvent<'store:export:file', { cid: string, path: string, size: number, files: number, bytes: number }>
  /** Folder export: an entry neither a file nor a folder (a UnixFS symlink ...), not written. */
  | ProgressEvent<'store:export:skipped', { cid: string, path: string, reason: string }>
  /** export renamed the finished file into place. */
  | ProgressEvent<'store:export:done', { cid: string, path: string, size: number }>
  /** fsck verified a block. */
  | ProgressEvent<'store:fsck:block', { cid: string, ok: boolean, checked: number }>
  /** gc deleted a block. */
  | ProgressEvent<'store:gc:block', { cid: string, bytes: number }>

/** Every store method takes these; `signal` aborts it (a closed store aborts everything running). */
export interface StoreOptions {
  signal?: AbortSignal
  onProgress?: (evt: StoreProgressEvent) => void
}

/** A file path, the bytes themselves, or a stream of chunks (any sizes). */
export type ImportInput = string | Uint8Array | AsyncIterable<Uint8Array>

export interface ImportOptions extends StoreOptions {
  /** Name kept in the record (default: the file's base name, else the record's old name, else the CID). */
  name?: string
  /** Media type (default: guessed from the name's extension, else application/octet-stream). */
  mediaType?: string
  /** Pin the file so gc keeps it (default true). A pinned file stays pinned when imported again. */
  pin?: boolean
  /** Mark the content as encrypted (the store only keeps the flag). */
  encrypted?: boolean
  /**
   * Keep the file by reference (kubo's filestore, `--nocopy`): only the DAG's
   * inner nodes are stored; its leaves are read from the file, and verified
   * against their CIDs, on every read (default false: the bytes are copied).
   * Only for a file given by its path; NotByReferenceError otherwise.
   */
  byReference?: boolean
}

export interface ExportOptions extends StoreOptions {
  /** Verify every block against its CID while exporting (default true). */
  verify?: boolean
  /** Replace an existing file at destPath (default true); false → DestinationExistsError. */
  overwrite?: boolean
  /**
   * exportFolder: the most file bytes to write (the size the folder was announced with). A DAG
   * can link one file many times, so a few KiB received could write gigabytes: beyond this,
   * TreeLimitError and nothing is left.
   */
  maxBytes?: number
}

export interface CatOptions extends StoreOptions {
  /** First byte to read (default 0). */
  offset?: number
  /** How many bytes to read (default: to the end). */
  length?: number
  /** Verify every block against its CID (default false). */
  verify?: boolean
}

export interface GetBlockOptions extends StoreOptions {
  /** Verify the block against its CID (default true: this is what peers are served; sha2-256 of 1 MiB is well under a millisecond). */
  verify?: boolean
}

export interface PutBlockOptions extends StoreOptions {
  /**
   * The caller has already hashed these bytes against `cid` with the one
   * verifier (src/content `verifyBytes`; the transfer does so before it hands
   * a block over), so putBlock skips hashing them again (default false). The
   * size and dag-pb checks still run. Never set it for bytes you did not verify.
   */
  verified?: boolean
}

export interface TrackMeta {
  /** Name as announced (untrusted; export with safeFileName()). */
  name: string
  /** Size as announced; replaced by the size in the root block once it is present. */
  size?: number
  mediaType?: string
  /** Pin it (default true). */
  pin?: boolean
  encrypted?: boolean
  /** A folder: the files in it, as announced. */
  files?: number
  /**
   * A record already named by its own CID (no name was known when it was first tracked) takes
   * `name`, `mediaType` and `encrypted` from this call; any other record keeps its own (default false).
   */
  replaceCidName?: boolean
}

export interface GcOptions extends StoreOptions {
  /** Also drop unpinned files, complete or not: their records, and their blocks no other kept file needs (default false). */
  unpinned?: boolean
  /** Only count what would be removed; nothing is deleted (default false). */
  dryRun?: boolean
}

export interface GcResult {
  removedBlocks: number
  removedBytes: number
}

export interface StoreStat {
  /** Block files in the store. */
  blocks: number
  /** Their bytes. */
  bytes: number
  /** File records. */
  files: number
  /** Files kept by reference (their leaves are in the original files, not in the store). */
  refs: number
  /** Bytes of their manifests (part of the store's size). */
  refBytes: number
  /** Bytes of the files kept by reference (not part of the store's size). */
  referenced: number
}

export type FsckOptions = StoreOptions

export interface FsckResult {
  /** Block files verified. */
  checked: number
  /** CIDs of blocks whose bytes did not hash to their CID; each was moved to `corrupt/` and must be fetched again. */
  corrupt: string[]
  /** Blocks that files recorded as complete need but the store lacks (corrupt ones included): fetch them again. */
  missing: string[]
  /** Root CIDs of files that are not complete after the check. */
  incomplete: string[]
  /** Record files that could not be read (left in `records/`). */
  badRecords: string[]
}

export interface Store {
  /** The store folder. */
  readonly path: string

  /**
   * Imports a file (path, bytes or stream) as UnixFS blocks and writes its
   * record (complete, pinned unless `pin: false`). A folder's path is imported
   * as one UnixFS directory (import-tree.ts): its record has `files`, `size`
   * is the bytes of its files, and symbolic links and special files are
   * skipped (`store:import:skipped`); a name that is not a plain file name →
   * ImportSourceError naming it. Importing the same
   * content again yields the same CID and writes no block twice. On failure
   * (ENOSPC → NoSpaceError, unreadable source → ImportSourceError) the blocks
   * it added that no file needs are removed and no record is written.
   */
  import: (input: ImportInput, options?: ImportOptions) => Promise<FileRecord>

  /**
   * Writes the file to `destPath`: into a temp file in the same folder,
   * fsynced, then renamed, so `destPath` never holds a partial file. A
   * missing or unwritable folder → ExportError; a full disk → NoSpaceError;
   * a missing block → BlockNotFoundError; a corrupt one → CorruptBlockError.
   * `destPath` is used as given: for a record's name use exportPath(dir, name).
   */
  export: (cid: CidInput, destPath: string, options?: ExportOptions) => Promise<void>

  /**
   * Writes a stored folder as a tree at `destPath` (export-tree.ts): built under
   * `.NAME.part` beside it and renamed at the end, every block verified, every
   * link name checked (UnsafePathError: nothing is left). NotAFileError when the
   * CID is not a folder; missing blocks → BlockNotFoundError.
   */
  exportFolder: (cid: CidInput, destPath: string, options?: ExportOptions) => Promise<FolderExport>

  /** Streams the file's bytes, or `length` bytes from `offset`. */
  cat: (cid: CidInput, options?: CatOptions) => AsyncIterable<Uint8Array>

  /** True when the block is present. */
  has: (cid: CidInput, options?: StoreOptions) => Promise<boolean>

  /** A block's bytes; BlockNotFoundError if absent, CorruptBlockError (block moved aside) if `verify` fails. */
  getBlock: (cid: CidInput, options?: GetBlockOptions) => Promise<Uint8Array>

  /**
   * True when this process wrote the block (its writer had checked it) or read it and found it
   * matches its CID, at this length, recently (the last 4,096 such blocks): a server may send it
   * without hashing it again. A change on disk since is caught by the receiver's own check.
   */
  verifiedHere: (cid: CidInput, length: number) => boolean

  /**
   * Stores a block after checking its bytes hash to `cid`
   * (BlockHashMismatchError, InvalidBlockError: nothing stored; the hash
   * check is skipped with `verified: true`). A block already present is kept.
   * Records are not touched: call missing() to recount the file.
   */
  putBlock: (cid: CidInput, bytes: BlockBytes, options?: PutBlockOptions) => Promise<void>

  /** Records a file whose root CID is known before its blocks are (a download): complete=false until all blocks are present. */
  track: (cid: CidInput, meta: TrackMeta, options?: StoreOptions) => Promise<FileRecord>

  /**
   * Re-walks the DAG of a file: returns the CIDs of blocks known to be
   * missing (the root, or children of present nodes) and updates the
   * record's complete/blocks/size. Empty when the file is complete.
   */
  missing: (cid: CidInput, options?: StoreOptions) => Promise<string[]>

  get: (cid: CidInput, options?: StoreOptions) => Promise<FileRecord | undefined>

  /** Every record, oldest first. */
  list: (options?: StoreOptions) => Promise<FileRecord[]>

  /** RecordNotFoundError when there is no record. */
  pin: (cid: CidInput, options?: StoreOptions) => Promise<void>
  unpin: (cid: CidInput, options?: StoreOptions) => Promise<void>

  /**
   * Keeps a complete file by reference to `path`, a file holding its bytes (a
   * fetched file's output): every leaf is checked against the file, the
   * reference written, and the leaf blocks no other file needs deleted.
   * NotByReferenceError when the file does not hold those bytes.
   */
  reference: (cid: CidInput, path: string, options?: StoreOptions) => Promise<GcResult>
  /**
   * Calls `fn` once for each file kept by reference that a read finds changed or gone (its
   * blocks are no longer served from then on); returns the unsubscribe function.
   */
  onReferenceBroken: (fn: (event: BrokenReference) => void) => () => void

  /** Deletes the record and the blocks no other file needs; RecordNotFoundError when there is no record. */
  remove: (cid: CidInput, options?: StoreOptions) => Promise<void>

  /**
   * Deletes blocks that no pinned or complete file needs (left by crashed
   * imports, abandoned unpinned downloads), and the `corrupt/` folder.
   * With `unpinned: true`, unpinned files are dropped first.
   */
  gc: (options?: GcOptions) => Promise<GcResult>

  stat: (options?: StoreOptions) => Promise<StoreStat>

  /**
   * Verifies every block against its CID (corrupt ones are moved aside and
   * reported), then re-walks every file and updates its record.
   */
  fsck: (options?: FsckOptions) => Promise<FsckResult>

  /** Aborts running operations, waits for them, and closes. Later calls throw StoreClosedError. */
  close: () => Promise<void>
}

/** Opens (creating if needed) the store at `init.path`; removes temp files a crash left. */
export async function createStore (init: StoreInit, components: StoreComponents = {}): Promise<Store> {
  return DiskStore.open(init, components)
}
