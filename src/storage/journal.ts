/**
 * Power-cut safety of block writes that are fsynced in batches.
 *
 * A block is written to a temp file and renamed into place without an fsync
 * of its own; flush() fsyncs the block files and their shard folders many at
 * once, and the store writes no record that counts on a block before that
 * flush. A kill -9 loses nothing (the page cache survives it), but a power
 * cut may leave a block written since the last flush empty or partial under
 * its final name. So before the first such write, a durable marker
 * `dirty/dirty-<pid>-….json` is written; flush() removes it once nothing is
 * left unsynced. At open, a marker whose writer is gone means its blocks may
 * not have reached the disk: every block file modified since the marker was
 * made is verified against its CID, and a wrong one moved to `corrupt/`
 * (it is fetched or imported again like any missing block). The store flushes
 * at least every MAX_UNSYNCED_BLOCKS blocks, which bounds that check.
 */
import { join } from 'node:path'
import type { Logger } from '../util/logger.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import type { FsBlockstore } from './blockstore.js'
import { DIRTY_DIR, MTIME_SLACK_MS, TMP_DIR } from './constants.js'
import { fsError } from './errors.js'
import type { StoreFs } from './fs.js'
import { writerAlive } from './open.js'

export class SyncJournal {
  private readonly dir: string
  private readonly tmpDir: string
  private readonly fs: StoreFs
  private marker?: Promise<string>
  private ending?: Promise<void>

  constructor (root: string, fs: StoreFs) {
    this.dir = join(root, DIRTY_DIR)
    this.tmpDir = join(root, TMP_DIR)
    this.fs = fs
  }

  /** Resolves once a durable marker of this process exists; call before renaming an unsynced block into place. */
  async begin (): Promise<void> {
    while (this.ending != null) await this.ending
    if (this.marker == null) {
      const path = join(this.dir, `dirty-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}.json`)
      this.marker = writeFileAtomic(path, Buffer.from('{}\n'), { tmpDir: this.tmpDir, tmpPrefix: 'dirty-', fs: this.fs }).then(() => path)
      this.marker.catch(() => { this.marker = undefined })
    }
    await this.marker
  }

  /** Removes the marker; call when every block written is fsynced and no write is in flight. */
  async end (): Promise<void> {
    const marker = this.marker
    if (marker == null) return
    this.marker = undefined
    this.ending = (async () => {
      // a lost unlink only makes the next open check a few blocks again
      await this.fs.unlink(await marker).catch(() => {})
    })().finally(() => { this.ending = undefined })
    await this.ending
  }
}

/**
 * At open: checks the blocks a writer that is gone may have left unsynced
 * (see the file header) and removes its markers. Returns the CIDs of the
 * blocks found wrong (moved to `corrupt/`).
 */
export async function recoverUnsynced (root: string, fs: StoreFs, blocks: FsBlockstore, sharedInProcess: boolean, log: Logger): Promise<string[]> {
  const dir = join(root, DIRTY_DIR)
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (err: any) {
    if (err?.code === 'ENOENT') return []
    throw fsError(err, dir, 'list')
  }
  const stale: string[] = []
  let since = Infinity
  for (const name of names) {
    if (writerAlive(name, sharedInProcess)) continue
    const path = join(dir, name)
    try {
      since = Math.min(since, (await fs.stat(path)).mtimeMs)
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw fsError(err, path, 'read')
    }
    stale.push(path)
  }
  if (stale.length === 0) return []
  const corrupt: string[] = []
  let checked = 0
  // the marker's mtime and the blocks' come from the same (kernel) clock; the slack covers its coarse ticks
  const from = since - MTIME_SLACK_MS
  for await (const f of blocks.files()) {
    let mtime: number
    try {
      mtime = (await fs.stat(f.path)).mtimeMs
    } catch (err: any) {
      if (err?.code === 'ENOENT') continue
      throw fsError(err, f.path, 'read')
    }
    if (mtime < from) continue
    checked++
    try {
      await blocks.read(f.cid, { verify: true })
    } catch (err: any) {
      if (err?.name !== 'CorruptBlockError' && err?.name !== 'BlockNotFoundError') throw err
      if (err?.name === 'CorruptBlockError') corrupt.push(f.key)
    }
  }
  for (const path of stale) await fs.unlink(path).catch(() => {})
  if (corrupt.length > 0) log.error('after an unclean stop, %d of %d recent blocks were not whole on disk; moved to corrupt/: %s', corrupt.length, checked, corrupt.join(', '))
  else log('after an unclean stop, %d recent blocks checked, all whole', checked)
  return corrupt
}
