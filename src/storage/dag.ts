/**
 * Walks the UnixFS DAG of one file as far as its blocks are present: inner
 * (dag-pb) nodes are read and verified, leaves (raw) are only looked up.
 * This is how the store knows which blocks of a partial file are missing,
 * which blocks a file needs (gc, remove), and whether it is complete.
 */
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { FsBlockstore } from './blockstore.js'
import { cidKey, parseCid, type CID } from '../content/cid.js'
import { CHECK_CONCURRENCY, DAG_PB_CODEC } from './constants.js'
import { InvalidBlockError, NotAFileError } from './errors.js'

export interface DagWalk {
  /** Every distinct CID reached: present, missing, or (without checkLeaves) leaves not looked up. */
  nodes: Set<string>
  /** Blocks known to be missing: the root, or children of present inner nodes. */
  missing: string[]
  /** Distinct blocks found present (leaves counted only with checkLeaves). */
  present: number
  /** Distinct blocks of the whole DAG, known once every inner node is present. */
  total?: number
  /** File size from the root, once the root is present. */
  size?: number
  complete: boolean
}

export interface WalkOptions {
  /** Look up every leaf (default true); false only lists the CIDs reached. */
  checkLeaves?: boolean
  signal?: AbortSignal
}

function isMissing (err: any): boolean {
  return err?.name === 'BlockNotFoundError' || err?.name === 'CorruptBlockError'
}

/** Decodes a dag-pb UnixFS file node; InvalidBlockError if it is not one, NotAFileError for directories etc. */
export function decodeFileNode (cid: CID, bytes: Uint8Array): { links: CID[], fileSize: number } {
  let node: dagPb.PBNode
  let unixfs: UnixFS
  try {
    node = dagPb.decode(bytes)
    if (node.Data == null) throw new Error('no UnixFS data')
    unixfs = UnixFS.unmarshal(node.Data)
  } catch (err: any) {
    throw new InvalidBlockError(cidKey(cid), `not a UnixFS dag-pb node (${err?.message ?? String(err)})`)
  }
  if (unixfs.type !== 'file' && unixfs.type !== 'raw') throw new NotAFileError(cidKey(cid), unixfs.type)
  const links: CID[] = []
  for (const l of node.Links) {
    try {
      links.push(parseCid(l.Hash))
    } catch (err: any) {
      throw new InvalidBlockError(cidKey(cid), `it links to an unusable CID (${err?.message ?? String(err)})`)
    }
  }
  return { links, fileSize: Number(unixfs.fileSize()) }
}

export async function walkDag (blocks: FsBlockstore, root: CID, options: WalkOptions = {}): Promise<DagWalk> {
  const checkLeaves = options.checkLeaves ?? true
  const nodes = new Set<string>()
  const missing: string[] = []
  let present = 0
  let innerMissing = false
  let size: number | undefined

  if (root.code !== DAG_PB_CODEC) {
    nodes.add(cidKey(root))
    const s = await blocks.sizeOf(root)
    if (s == null) missing.push(cidKey(root))
    else {
      present = 1
      size = s
    }
    return { nodes, missing, present, total: 1, size, complete: missing.length === 0 }
  }

  let level: CID[] = [root]
  nodes.add(cidKey(root))
  while (level.length > 0) {
    options.signal?.throwIfAborted()
    const next: CID[] = []
    const leaves: CID[] = []
    for (const cid of level) {
      if (cid.code !== DAG_PB_CODEC) {
        leaves.push(cid)
        continue
      }
      let bytes: Uint8Array
      try {
        bytes = await blocks.read(cid, { verify: true, signal: options.signal })
      } catch (err) {
        if (!isMissing(err)) throw err
        missing.push(cidKey(cid))
        innerMissing = true
        continue
      }
      present++
      const node = decodeFileNode(cid, bytes)
      if (cid === root) size = node.fileSize
      for (const child of node.links) {
        const key = cidKey(child)
        if (nodes.has(key)) continue
        nodes.add(key)
        next.push(child)
      }
    }
    if (checkLeaves) {
      for (let i = 0; i < leaves.length; i += CHECK_CONCURRENCY) {
        options.signal?.throwIfAborted()
        const batch = leaves.slice(i, i + CHECK_CONCURRENCY)
        const found = await Promise.all(batch.map(async c => blocks.has(c)))
        found.forEach((ok, j) => {
          if (ok) present++
          else missing.push(cidKey(batch[j]!))
        })
      }
    }
    level = next
  }
  const out: DagWalk = { nodes, missing, present, complete: checkLeaves && missing.length === 0 }
  if (!innerMissing) out.total = nodes.size
  if (size != null) out.size = size
  return out
}
