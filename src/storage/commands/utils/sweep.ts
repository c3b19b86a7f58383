/**
 * Deleting blocks no file needs, and recounting files after a block was
 * found corrupt. Shared by import (cleanup after failure), remove, gc and
 * every reader that meets a corrupt block.
 */
import { join } from 'node:path'
import { cidKey, parseCid, type CID } from '../../../content/index.js'
import { CORRUPT_DIR } from '../../constants.js'
import type { StoreContext } from '../../context.js'
import type { GcResult } from '../../index.js'
import type { FileRecord } from '../../records.js'
import { recount, walkFile } from './walk.js'

/** CIDs of every block a record in `records` needs (inner nodes read, leaves not looked up). */
export async function needed (ctx: StoreContext, records: FileRecord[], signal?: AbortSignal): Promise<Set<string>> {
  const keep = new Set<string>()
  for (const r of records) {
    const walk = await walkFile(ctx, parseCid(r.cid), { checkLeaves: false, signal })
    for (const k of walk.nodes) keep.add(k)
  }
  return keep
}

/** Deletes those of `candidates` that no record needs. Call with the exclusive lock held. */
export async function sweep (ctx: StoreContext, candidates: CID[], signal?: AbortSignal): Promise<GcResult> {
  if (candidates.length === 0) return { removedBlocks: 0, removedBytes: 0 }
  const keep = await needed(ctx, ctx.records.list(), signal)
  let removedBlocks = 0
  let removedBytes = 0
  for (const c of candidates) {
    if (keep.has(cidKey(c))) continue
    const bytes = await ctx.blocks.remove(c)
    if (bytes != null) {
      removedBlocks++
      removedBytes += bytes
    }
  }
  return { removedBlocks, removedBytes }
}

/** After a block was found corrupt (and moved aside): recount the complete files that need it. */
export async function afterCorrupt (ctx: StoreContext, key: string): Promise<void> {
  ctx.log.error('block %s was corrupt on disk; moved to %s', key, join(ctx.path, CORRUPT_DIR))
  for (const r of ctx.records.list()) {
    if (!r.complete) continue
    try {
      const nodes = (await walkFile(ctx, parseCid(r.cid), { checkLeaves: false })).nodes
      if (!nodes.has(key) && r.cid !== key) continue
      await recount(ctx, r.cid)
    } catch (err) {
      ctx.log.error('cannot recount %s after corruption: %e', r.cid, err)
    }
  }
}

/** Runs `fn`; when it meets a corrupt block, recounts the files that need it before rethrowing. */
export async function onCorrupt<T> (ctx: StoreContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err: any) {
    if (err?.name === 'CorruptBlockError') await afterCorrupt(ctx, err.cid)
    throw err
  }
}
