/**
 * What every store command works on: the folder, its blocks and records,
 * the locks, the logger. The Store class (store.ts) owns one and hands it to
 * the functions in commands/.
 */
import type { Logger } from '../util/logger.js'
import type { FsBlockstore } from './blockstore.js'
import type { StoreFs } from './fs.js'
import type { KeyedMutex, SharedLock } from './lock.js'
import type { RecordStore } from './records.js'
import type { RefStore } from './refs.js'

export interface StoreContext {
  /** The store folder (absolute). */
  readonly path: string
  readonly fs: StoreFs
  readonly blocks: FsBlockstore
  readonly records: RecordStore
  /** Files kept by reference: where their leaves lie (refs.ts). */
  readonly refs: RefStore
  /** Block writers hold it shared, sweeps that delete blocks exclusive (lock.ts). */
  readonly lock: SharedLock
  /** One writer per record at a time, keyed by CID. */
  readonly mutex: KeyedMutex
  readonly log: Logger
  /** Record files that could not be read at open (reported by fsck). */
  readonly badRecords: readonly string[]
}

/** Options of a command run by the store: the signal is always there (the caller's, joined with the store's close). */
export type Run<T extends { signal?: AbortSignal }> = T & { signal: AbortSignal }
