/**
 * The one UnixFS decoder of swarmdrop: what a block of a file DAG says about
 * its children, its size and its own bytes. Used by the store (to walk a DAG it
 * holds) and by the transfer (to learn what to fetch next), so both apply the
 * same rules: every link must be a CID of the profile (src/content/cid.ts).
 */
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { cidKey, parseCid, type CID } from './cid.js'
import { RAW_CODEC } from './constants.js'
import { InvalidBlockError } from './errors.js'

export interface DagChild {
  cid: CID
  /** File bytes under this child, when the parent says so (UnixFS blockSizes). */
  fileBytes?: number
}

export interface DagNode {
  /** The UnixFS type (`raw` for a raw leaf, `file`, `directory`, ...). */
  type: string
  children: DagChild[]
  /** File bytes under this node (UnixFS fileSize; a raw block's length). */
  fileSize?: number
  /** File bytes held in this block itself (UnixFS data of a dag-pb node; a raw block's length). */
  ownBytes: number
}

/**
 * Decodes one block of a UnixFS DAG. A raw block is a leaf. A dag-pb block must
 * carry UnixFS data and link only to CIDs of the profile; else InvalidBlockError.
 */
export function decodeNode (cid: CID, bytes: Uint8Array): DagNode {
  if (cid.code === RAW_CODEC) return { type: 'raw', children: [], ownBytes: bytes.byteLength, fileSize: bytes.byteLength }
  let node: dagPb.PBNode
  let unixfs: UnixFS
  try {
    node = dagPb.decode(bytes)
    if (node.Data == null) throw new Error('no UnixFS data')
    unixfs = UnixFS.unmarshal(node.Data)
  } catch (err: any) {
    throw new InvalidBlockError(cidKey(cid), `not a UnixFS dag-pb node (${err?.message ?? String(err)})`)
  }
  const blockSizes = unixfs.blockSizes
  const children = node.Links.map((link, i): DagChild => {
    let child: CID
    try {
      child = parseCid(link.Hash)
    } catch (err: any) {
      throw new InvalidBlockError(cidKey(cid), `it links to an unusable CID (${err?.message ?? String(err)})`)
    }
    const size = blockSizes[i]
    if (size != null) return { cid: child, fileBytes: Number(size) }
    // a folder's link to a raw leaf (a one-chunk file): its Tsize is the file's bytes (progress only)
    if (child.code === RAW_CODEC && link.Tsize != null && (unixfs.type === 'directory' || unixfs.type === 'hamt-sharded-directory')) return { cid: child, fileBytes: Number(link.Tsize) }
    return { cid: child }
  })
  const out: DagNode = { type: unixfs.type, children, ownBytes: unixfs.data?.byteLength ?? 0 }
  if (unixfs.type === 'file' || unixfs.type === 'raw') out.fileSize = Number(unixfs.fileSize())
  return out
}
