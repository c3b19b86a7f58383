/**
 * Building the manifest of a file kept by reference (refs.ts): where each
 * leaf of its DAG lies in the file. Shared by import (`byReference`) and
 * reference() (a fetched file's output becomes its copy); a folder import
 * uses it once per file.
 */
import type { Stats } from 'node:fs'
import { cidKey, decodeNode, parseCid, RAW_CODEC, type CID } from '../../../content/index.js'
import type { StoreContext } from '../../context.js'
import { ImportSourceError } from '../../errors.js'
import type { RefManifest } from '../../refs.js'

/** Leaf CID → [offset, length] in the file, in file order (a leaf that repeats keeps its first place). */
export async function leafLayout (ctx: StoreContext, root: CID, leafLength: (cid: CID, fileBytes?: number) => Promise<number | undefined>, signal?: AbortSignal): Promise<Record<string, [number, number]>> {
  const leaves: Record<string, [number, number]> = {}
  let pos = 0
  const visit = async (cid: CID, fileBytes?: number): Promise<void> => {
    signal?.throwIfAborted()
    if (cid.code === RAW_CODEC) {
      const len = await leafLength(cid, fileBytes)
      if (len == null) throw new Error(`leaf ${cidKey(cid)} of ${cidKey(root)} has no known length`)
      leaves[cidKey(cid)] ??= [pos, len]
      pos += len
      return
    }
    const node = decodeNode(cid, await ctx.blocks.read(cid, { verify: true, ...(signal != null ? { signal } : {}) }))
    pos += node.ownBytes
    for (const child of node.children) await visit(child.cid, child.fileBytes)
  }
  await visit(root)
  return leaves
}

/** The stat fields a reference compares later. */
export function fileIdentity (st: Stats): { size: number, mtimeMs: number, ino: number } {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
}

/** Fails when the file changed between two stats (read while it was being written). */
export function checkUnchanged (path: string, before: Stats, after: Stats): void {
  if (before.size !== after.size || before.mtimeMs !== after.mtimeMs || before.ino !== after.ino) {
    throw new ImportSourceError(path, 'it changed while it was being read; share it again once it is written')
  }
}

export function manifest (root: string, path: string, st: Stats, leaves: Record<string, [number, number]>): RefManifest {
  return { root, path, ...fileIdentity(st), leaves }
}

export { parseCid }
