/**
 * A block store in memory: for tests and benchmarks of the transfer alone. `add()` builds
 * a file DAG with the one import profile (src/content/profile.ts), so its CIDs are those of
 * src/storage; `putBlock` keeps only bytes that the one verifier (src/content) accepts.
 */
import { importBytes, importByteStream } from 'ipfs-unixfs-importer'
import { cidKey, contiguous, importerOptions, parseCid, verifyBytes, type CID } from '../content/index.js'
import { BlockHashMismatchError } from '../content/errors.js'
import type { BlockStore } from './types.js'

export interface MemoryBlockStore extends BlockStore {
  /** Imports a file; resolves with its root CID. */
  add: (content: Uint8Array | AsyncIterable<Uint8Array>) => Promise<string>
  /** Drops a block (to make holes in a DAG). */
  delete: (cid: string) => void
  /** CIDs of the blocks held. */
  keys: () => string[]
  readonly size: number
}

export function createMemoryBlockStore (): MemoryBlockStore {
  const blocks = new Map<string, Uint8Array>()
  const sink = { put: (cid: CID, bytes: Uint8Array) => { blocks.set(cidKey(cid), bytes); return cid } }
  const options = importerOptions()

  return {
    async has (cid) {
      return blocks.has(cid)
    },
    async getBlock (cid) {
      return blocks.get(cid)
    },
    async putBlock (cid, bytes, options) {
      // the transfer hashed it already (PutBlockOptions.verified): once per side is enough
      if (options?.verified !== true && !verifyBytes(parseCid(cid), bytes)) throw new BlockHashMismatchError(cid)
      blocks.set(cid, contiguous(bytes))
    },
    async add (content) {
      const result = content instanceof Uint8Array
        ? await importBytes(content, sink as any, options)
        : await importByteStream(content, sink as any, options)
      return cidKey(result.cid)
    },
    delete (cid) {
      blocks.delete(cid)
    },
    keys () {
      return [...blocks.keys()]
    },
    get size () {
      return blocks.size
    }
  }
}
