/**
 * The one DAG walker of swarmdrop: walks a UnixFS DAG as far as its blocks
 * are present, over any block getter (the store's disk, a memory store, a
 * transfer's view). Inner (dag-pb) nodes are read and decoded with the one
 * decoder (./unixfs.ts); leaves (raw) are only looked up. The store uses it to
 * know which blocks of a partial file are missing, which blocks a file needs
 * (gc, remove) and whether it is complete.
 */
import { cidKey, type CID } from './cid.js'
import { DAG_PB_CODEC } from './constants.js'
import { decodeNode, type DagNode } from './unixfs.js'

export interface WalkAbortOptions {
  signal?: AbortSignal
}

/** Where the walker reads blocks. */
export interface DagBlockGetter {
  /** The block's bytes, already checked against its CID; undefined when it is absent (or was found corrupt). */
  get: (cid: CID, options: WalkAbortOptions) => Promise<Uint8Array | undefined>
  /** True when the block is present; leaves are looked up with it, not read (default: get()). */
  has?: (cid: CID, options: WalkAbortOptions) => Promise<boolean>
  /** Bytes of a present block, undefined when absent: a raw root's size without reading it (default: get()). */
  sizeOf?: (cid: CID, options: WalkAbortOptions) => Promise<number | undefined>
}

export interface DagWalk {
  /** Every distinct CID reached: present, missing, or (without checkLeaves) leaves not looked up. */
  nodes: Set<string>
  /** Blocks known to be missing: the root, or children of present inner nodes. */
  missing: string[]
  /** Distinct blocks found present (leaves counted only with checkLeaves). */
  present: number
  /** Distinct blocks of the whole DAG, known once every inner node is present. */
  total?: number
  /** File size from the root, once the root is present (none for a directory). */
  size?: number
  /** Every block is present (never true without checkLeaves). */
  complete: boolean
}

export interface WalkOptions extends WalkAbortOptions {
  /** Look up every leaf (default true); false only lists the CIDs reached. */
  checkLeaves?: boolean
  /** Leaves looked up at once (default 8). */
  concurrency?: number
  /** Called with each decoded inner node before its children are followed; may throw to refuse it (the store refuses what is not a file). */
  onNode?: (cid: CID, node: DagNode) => void
}

const DEFAULT_CONCURRENCY = 8

/** Walks the DAG under `root` through `blocks` (see the file header). InvalidBlockError when a present node does not decode. */
export async function walkDag (blocks: DagBlockGetter, root: CID, options: WalkOptions = {}): Promise<DagWalk> {
  const checkLeaves = options.checkLeaves ?? true
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const has = blocks.has ?? (async (c: CID, o: WalkAbortOptions) => (await blocks.get(c, o)) != null)
  const sizeOf = blocks.sizeOf ?? (async (c: CID, o: WalkAbortOptions) => (await blocks.get(c, o))?.byteLength)
  const opts = { signal: options.signal }
  const nodes = new Set<string>([cidKey(root)])
  const missing: string[] = []
  let present = 0
  let innerMissing = false
  let size: number | undefined

  if (root.code !== DAG_PB_CODEC) {
    options.signal?.throwIfAborted()
    size = await sizeOf(root, opts)
    if (size == null) missing.push(cidKey(root))
    else present = 1
    const out: DagWalk = { nodes, missing, present, total: 1, complete: size != null }
    if (size != null) out.size = size
    return out
  }

  let level: CID[] = [root]
  while (level.length > 0) {
    options.signal?.throwIfAborted()
    const next: CID[] = []
    const leaves: CID[] = []
    for (const cid of level) {
      if (cid.code !== DAG_PB_CODEC) {
        leaves.push(cid)
        continue
      }
      const bytes = await blocks.get(cid, opts)
      if (bytes == null) {
        missing.push(cidKey(cid))
        innerMissing = true
        continue
      }
      present++
      const node = decodeNode(cid, bytes)
      options.onNode?.(cid, node)
      if (cid === root) size = node.fileSize
      for (const { cid: child } of node.children) {
        const key = cidKey(child)
        if (nodes.has(key)) continue
        nodes.add(key)
        next.push(child)
      }
    }
    if (checkLeaves) {
      for (let i = 0; i < leaves.length; i += concurrency) {
        options.signal?.throwIfAborted()
        const batch = leaves.slice(i, i + concurrency)
        const found = await Promise.all(batch.map(async c => has(c, opts)))
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
