/**
 * The store's view of the one DAG walker (src/content/walk.ts): inner nodes
 * read from disk and verified (a corrupt one is moved aside and counts as
 * missing), leaves looked up, and only files and folders accepted (NotAFileError).
 */
import { cidKey, isFolderNode, parseCid, walkDag, type CID, type DagBlockGetter, type DagWalk } from '../../../content/index.js'
import { CHECK_CONCURRENCY } from '../../constants.js'
import type { StoreContext } from '../../context.js'
import { NotAFileError } from '../../errors.js'
import type { FileRecord } from '../../records.js'

export type { DagWalk }

function isMissing (err: any): boolean {
  return err?.name === 'BlockNotFoundError' || err?.name === 'CorruptBlockError'
}

/** Walks the file DAG under `root` as far as its blocks are on disk. */
export async function walkFile (ctx: StoreContext, root: CID, options: { checkLeaves?: boolean, signal?: AbortSignal } = {}): Promise<DagWalk> {
  const blocks: DagBlockGetter = {
    get: async (cid, o) => {
      try {
        return await ctx.blocks.read(cid, { verify: true, signal: o.signal })
      } catch (err) {
        if (isMissing(err)) return undefined
        throw err
      }
    },
    has: async (cid, o) => ctx.blocks.has(cid, o),
    sizeOf: async (cid) => ctx.blocks.sizeOf(cid)
  }
  return walkDag(blocks, root, {
    ...options,
    concurrency: CHECK_CONCURRENCY,
    onNode: (cid, node) => {
      if (node.type !== 'file' && node.type !== 'raw' && !isFolderNode(node)) throw new NotAFileError(cidKey(cid), node.type)
    }
  })
}

/** Sets a record's complete/blocks/size from a walk. */
export function applyWalk (rec: FileRecord, walk: DagWalk): FileRecord {
  rec.complete = walk.complete
  rec.blocks = walk.total == null ? { present: walk.present } : { total: walk.total, present: walk.present }
  if (walk.size != null) rec.size = walk.size
  return rec
}

/** Writes a record after making the block renames it may count on durable. */
export async function writeRecord (ctx: StoreContext, record: FileRecord): Promise<FileRecord> {
  await ctx.blocks.flush()
  return ctx.records.put(record)
}

/** Rewrites a record from a walk, when anything changed. */
export async function updateRecord (ctx: StoreContext, rec: FileRecord, walk: DagWalk): Promise<FileRecord> {
  const next = applyWalk({ ...rec, blocks: { ...rec.blocks } }, walk)
  if (JSON.stringify(next) === JSON.stringify(rec)) return rec
  return writeRecord(ctx, next)
}

/** Re-walks the file of a record under its mutex and updates the record; returns the record as it was and the walk (undefined: no record). */
export async function recount (ctx: StoreContext, cid: string, options: { signal?: AbortSignal } = {}): Promise<{ before: FileRecord, walk: DagWalk } | undefined> {
  return ctx.mutex.run(cid, async () => {
    const cur = ctx.records.get(cid)
    if (cur == null) return undefined
    const walk = await walkFile(ctx, parseCid(cur.cid), options)
    await updateRecord(ctx, cur, walk)
    return { before: cur, walk }
  })
}
