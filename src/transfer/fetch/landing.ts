/**
 * The landing pipeline: a received block is hashed once against its CID, decoded when it is a
 * node of the DAG (its children are what to fetch next), offered to peers while it is written,
 * and written to the store marked as verified, so the store need not hash it again.
 */
import { contiguous, decodeNode, verifyBytes, DAG_PB_CODEC, type BlockBytes, type CID, type DagNode } from '../../content/index.js'
import type { BlockStore } from '../types.js'

export type Landed =
  | { ok: true, node?: DagNode }
  | { ok: false }

export interface LandingHooks {
  /** Verified, being written: peers may be served it from memory meanwhile. */
  onVerified: (key: string, bytes: BlockBytes) => void
  /** The write ended; `stored` when the block is in the store. */
  onLanded: (key: string, stored: boolean) => void
}

export class Landing {
  /** Blocks being verified and written now. */
  pending = 0

  constructor (private readonly store: BlockStore, private readonly hooks: LandingHooks) {}

  /**
   * Verifies, decodes and stores one received block. `{ ok: false }` when the bytes do not hash
   * to the CID (nothing stored). Rejects when the store fails or a DAG node cannot be decoded.
   */
  async land (cid: CID, bytes: BlockBytes, isRoot: boolean): Promise<Landed> {
    this.pending++
    try {
      if (!verifyBytes(cid, bytes)) return { ok: false }
      const key = cid.toString()
      const node = cid.code === DAG_PB_CODEC || isRoot ? decodeNode(cid, contiguous(bytes)) : undefined
      this.hooks.onVerified(key, bytes)
      let stored = false
      try {
        await this.store.putBlock(key, bytes, { verified: true })
        stored = true
      } finally {
        this.hooks.onLanded(key, stored)
      }
      return node == null ? { ok: true } : { ok: true, node }
    } finally {
      this.pending--
    }
  }

  /** A block another download just stored: read and decoded, not verified again. */
  async local (cid: CID, isRoot: boolean): Promise<Landed | undefined> {
    this.pending++
    try {
      const bytes = await this.store.getBlock(cid.toString())
      if (bytes == null) return undefined
      const node = cid.code === DAG_PB_CODEC || isRoot ? decodeNode(cid, bytes) : undefined
      return node == null ? { ok: true } : { ok: true, node }
    } finally {
      this.pending--
    }
  }
}
