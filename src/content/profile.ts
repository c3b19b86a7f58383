/**
 * The one import profile of swarmdrop: how a file becomes a UnixFS DAG, used by
 * the store's import and the transfer's in-memory store alike, so the same
 * bytes get the same CID everywhere.
 *
 * It is IPIP-499's `unixfs-v1-2025` profile, written out (the importer's
 * `profile: 'unixfs-v1-2025'` sets the same values): CIDv1, sha2-256, raw
 * leaves, 1 MiB fixed chunks, balanced DAG at most 1024 links wide, a
 * single-chunk file reduced to its raw leaf, links before data in dag-pb
 * nodes, and HAMT sharding of directories decided on the block's bytes.
 * For files it is also Helia's `unixfs.addBytes` default.
 */
import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CHUNK_SIZE, CID_VERSION, MAX_CHILDREN_PER_NODE } from './constants.js'

/** The importer options of the profile (the chunker and layout are stateless, so one object serves every import). */
export const IMPORT_PROFILE: Readonly<ImporterOptions> = Object.freeze({
  cidVersion: CID_VERSION,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
  layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE }),
  fieldOrder: 'links-first',
  shardSplitStrategy: 'block-bytes'
})

/**
 * The importer options of the profile plus the caller's tuning (concurrency,
 * progress). Fields that change the CID cannot be overridden.
 */
export function importerOptions (tuning: Pick<ImporterOptions, 'blockWriteConcurrency' | 'fileImportConcurrency' | 'onProgress'> = {}): ImporterOptions {
  return { ...tuning, ...IMPORT_PROFILE }
}
