/**
 * The seams the transfer is built against: the part of the store it reads and writes,
 * and the part of the network it speaks over.
 */
import type { BlockBytes } from '../content/index.js'
import type { ByteStream, Network } from '../net/index.js'

export interface AbortOptions {
  signal?: AbortSignal
}

/** Options of BlockStore.putBlock. */
export interface PutBlockOptions extends AbortOptions {
  /**
   * The caller already hashed the bytes against the CID (the transfer verifies every block
   * it receives): a store may skip its own hash. A store that ignores this stays correct.
   */
  verified?: boolean
}

/**
 * The blocks the transfer serves and stores (src/storage's Store fits). CIDs are strings
 * (base32 CIDv1). `putBlock` must only keep bytes that hash to the CID.
 */
export interface BlockStore {
  has: (cid: string, options?: AbortOptions) => Promise<boolean>
  /** Rejects (any error) or resolves undefined when the block is not here. */
  getBlock: (cid: string, options?: AbortOptions & { verify?: boolean }) => Promise<Uint8Array | undefined>
  putBlock: (cid: string, bytes: BlockBytes, options?: PutBlockOptions) => Promise<unknown>
  /**
   * True when the store itself wrote or hashed the block at this length in this process (src/storage's
   * Store.verifiedHere): the server then sends it without hashing it again. Optional: without it,
   * the server hashes every block on its first read.
   */
  verifiedHere?: (cid: string, length: number) => boolean
}

/**
 * The part of the network the transfer uses. The peer events are optional (test doubles may
 * leave them out): with them, a provider that disconnects is known to have left at once, and
 * one that reconnects is asked again at once.
 */
export type TransferNetwork = Pick<Network, 'peerId' | 'handle' | 'unhandle' | 'openStream' | 'penalize'> &
Partial<Pick<Network, 'addEventListener' | 'removeEventListener'>>

export type { ByteStream }
