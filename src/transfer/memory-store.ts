/**
 * A block store in memory: for tests and benchmarks of the transfer alone. `add()` builds
 * a file DAG with the same profile as src/storage (CIDv1, raw leaves, 1 MiB chunks, at
 * most 1024 links per node).
 */
import { createHash } from 'node:crypto'
import { importBytes, importByteStream } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import { equals } from 'uint8arrays/equals'
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
  const put = (cid: CID, bytes: Uint8Array): void => {
    blocks.set(cid.toString(), bytes)
  }
  const sink = { put: (cid: CID, bytes: Uint8Array) => { put(cid, bytes); return cid } }
  const options = { profile: 'unixfs-v1-2025' as const }

  return {
    async has (cid) {
      return blocks.has(cid)
    },
    async getBlock (cid) {
      return blocks.get(cid)
    },
    async putBlock (cid, bytes, options) {
      // the transfer hashed it already (PutBlockOptions.verified): once per side is enough
      const parsed = CID.parse(cid)
      const digest = options?.verified === true ? undefined : createHash('sha256').update(bytes).digest()
      if (digest != null && !equals(new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength), parsed.multihash.digest)) {
        throw new BlockHashMismatchError(cid)
      }
      blocks.set(cid, bytes)
    },
    async add (content) {
      const result = content instanceof Uint8Array
        ? await importBytes(content, sink as any, options)
        : await importByteStream(content, sink as any, options)
      return result.cid.toString()
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
