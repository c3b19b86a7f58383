/**
 * reference: a complete file whose bytes now also lie in a file on disk (a
 * fetched file's output) is kept by reference to that file: each leaf is
 * checked against the file, the manifest written, then the leaf blocks no
 * other file needs are deleted. A crash between the two leaves both, which
 * is harmless (a block file is read before a reference).
 */
import { resolve } from 'node:path'
import { cidKey, parseCid, verifyBytes, type CID } from '../../content/index.js'
import type { Run, StoreContext } from '../context.js'
import { NotByReferenceError, RecordNotFoundError } from '../errors.js'
import type { StoreOptions } from '../index.js'
import { leafLayout, manifest } from './utils/reference.js'
import { needed } from './utils/sweep.js'

export async function reference (ctx: StoreContext, cid: string | CID, path: string, options: Run<StoreOptions>): Promise<{ removedBlocks: number, removedBytes: number }> {
  const { signal } = options
  const root = parseCid(cid)
  const key = cidKey(root)
  const abs = resolve(path)
  return ctx.lock.withExclusive(async () => {
    const rec = ctx.records.get(key)
    if (rec == null) throw new RecordNotFoundError(key)
    if (!rec.complete) throw new NotByReferenceError(`${key} is not complete in the store`)
    if (rec.encrypted === true) throw new NotByReferenceError(`${key} is encrypted: ${abs} is not its bytes`)
    const before = await ctx.fs.stat(abs)
    if (!before.isFile() || before.size !== rec.size) throw new NotByReferenceError(`${abs} is not the ${rec.size} bytes of ${key}`)
    const leaves = await leafLayout(ctx, root, async (c) => ctx.blocks.sizeOf(c), signal)
    // every leaf must be in the file as it is now, or nothing changes
    const fh = await ctx.fs.open(abs, 'r')
    try {
      for (const [leaf, [offset, length]] of Object.entries(leaves)) {
        signal.throwIfAborted()
        const buf = Buffer.alloc(length)
        const { bytesRead } = await fh.read(buf, 0, length, offset)
        if (bytesRead !== length || !verifyBytes(parseCid(leaf), buf)) throw new NotByReferenceError(`${abs} does not hold the bytes of ${key}`)
      }
    } finally {
      await fh.close()
    }
    const after = await ctx.fs.stat(abs)
    if (after.mtimeMs !== before.mtimeMs || after.size !== before.size) throw new NotByReferenceError(`${abs} changed while it was checked`)
    await ctx.mutex.run(key, async () => { await ctx.refs.put(manifest(key, abs, after, leaves)) })
    const keep = await needed(ctx, ctx.records.list().filter(r => r.cid !== key), signal)
    let removedBlocks = 0
    let removedBytes = 0
    for (const leaf of Object.keys(leaves)) {
      if (keep.has(leaf)) continue
      const bytes = await ctx.blocks.remove(parseCid(leaf))
      if (bytes == null) continue
      removedBlocks++
      removedBytes += bytes
    }
    ctx.log('%s is kept by reference to %s; %d leaf blocks (%d bytes) deleted', key, abs, removedBlocks, removedBytes)
    return { removedBlocks, removedBytes }
  })
}
