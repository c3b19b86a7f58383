/** track: records a file whose root CID is known before its blocks (a download), counted from what is on disk. */
import { cidKey, FOLDER_MEDIA_TYPE, parseCid, type CID } from '../../content/index.js'
import { MAX_RECORD_NAME_BYTES } from '../constants.js'
import type { Run, StoreContext } from '../context.js'
import type { StoreOptions, TrackMeta } from '../index.js'
import type { FileRecord } from '../records.js'
import { clampName, guessMediaType } from '../safe-name.js'
import { applyWalk, walkFile, writeRecord } from './utils/walk.js'

export async function track (ctx: StoreContext, cid: string | CID, meta: TrackMeta, options: Run<StoreOptions>): Promise<FileRecord> {
  const root = parseCid(cid)
  const key = cidKey(root)
  return ctx.mutex.run(key, async () => {
    const old = ctx.records.get(key)
    const name = clampName(old?.name ?? meta.name, MAX_RECORD_NAME_BYTES)
    const rec: FileRecord = old ?? {
      cid: key,
      name,
      size: meta.size != null && Number.isSafeInteger(meta.size) && meta.size >= 0 ? meta.size : 0,
      mediaType: meta.mediaType ?? guessMediaType(name),
      added: Date.now(),
      pinned: meta.pin ?? true,
      complete: false,
      blocks: { present: 0 }
    }
    if (old != null && meta.pin === true) rec.pinned = true
    if (old != null && meta.replaceCidName === true && old.name === key && meta.name !== key) {
      rec.name = clampName(meta.name, MAX_RECORD_NAME_BYTES)
      rec.mediaType = meta.mediaType ?? guessMediaType(rec.name)
      if (meta.encrypted != null) rec.encrypted = meta.encrypted
    }
    if (old == null && meta.encrypted != null) rec.encrypted = meta.encrypted
    // a folder learns its file count (and their bytes) when it is first tracked, or once written out
    if (rec.files == null && meta.files != null && Number.isSafeInteger(meta.files) && meta.files >= 0) {
      rec.files = meta.files
      rec.mediaType = FOLDER_MEDIA_TYPE
      if (old != null && meta.size != null && Number.isSafeInteger(meta.size) && meta.size >= 0) rec.size = meta.size
    }
    const walk = await walkFile(ctx, root, { signal: options.signal })
    return writeRecord(ctx, applyWalk(rec, walk))
  })
}
