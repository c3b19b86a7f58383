/**
 * Opening a store folder: creates its layout, checks (or writes) its layout
 * version, removes the temp files a crashed writer left, and counts the
 * folders open in this process (a temp file of this process is only left
 * alone when the folder is already open here).
 */
import { join } from 'node:path'
import { syncDir, writeFileAtomic } from '../util/atomic-write.js'
import { isProcessAlive } from '../util/process.js'
import { BLOCKS_DIR, DIRTY_DIR, RECORDS_DIR, STORE_VERSION, TMP_DIR, VERSION_FILE } from './constants.js'
import { fsError, StoreVersionError } from './errors.js'
import type { StoreFs } from './fs.js'

/** Store folders open in this process, and how many times. */
const OPEN_PATHS = new Map<string, number>()

/**
 * Prepares the folder at `path` (absolute) and counts it open; call
 * closeFolder() once when done. Resolves whether the folder was already open
 * in this process (its temp files and markers may then belong to a live writer).
 */
export async function openFolder (path: string, fs: StoreFs): Promise<boolean> {
  try {
    await fs.mkdir(path, { recursive: true, mode: 0o700 })
    for (const d of [BLOCKS_DIR, RECORDS_DIR, TMP_DIR, DIRTY_DIR]) await fs.mkdir(join(path, d), { recursive: true, mode: 0o700 })
    // the folders' entries must be durable before anything is renamed into them
    await syncDir(path, fs)
  } catch (err) {
    throw fsError(err, path, 'create the store folder')
  }
  const versionFile = join(path, VERSION_FILE)
  let version: string | undefined
  try {
    version = (await fs.readFile(versionFile, 'utf8')).trim()
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw fsError(err, versionFile, 'read')
  }
  if (version == null) {
    try {
      await writeFileAtomic(versionFile, Buffer.from(`${STORE_VERSION}\n`), { tmpDir: join(path, TMP_DIR), tmpPrefix: 'version-', fs })
    } catch (err) {
      throw fsError(err, versionFile, 'write')
    }
  } else if (version !== String(STORE_VERSION)) {
    throw new StoreVersionError(path, version)
  }
  // temp files are named after their writer's pid; those of a process that is gone were left by a crash
  const tmpDir = join(path, TMP_DIR)
  const sharedInProcess = (OPEN_PATHS.get(path) ?? 0) > 0
  try {
    for (const name of await fs.readdir(tmpDir)) {
      if (!writerAlive(name, sharedInProcess)) await fs.rm(join(tmpDir, name), { force: true, recursive: true })
    }
  } catch (err) {
    throw fsError(err, tmpDir, 'clean')
  }
  OPEN_PATHS.set(path, (OPEN_PATHS.get(path) ?? 0) + 1)
  return sharedInProcess
}

export function closeFolder (path: string): void {
  const n = (OPEN_PATHS.get(path) ?? 1) - 1
  if (n > 0) OPEN_PATHS.set(path, n)
  else OPEN_PATHS.delete(path)
}

/**
 * True when the temp file `name` (`<prefix>-<pid>-…`) may belong to a live
 * writer that will still rename it: another live process, or this one when
 * the store is already open here.
 */
export function writerAlive (name: string, sharedInProcess: boolean): boolean {
  const pid = Number(/^[a-z]+-(\d+)-/.exec(name)?.[1])
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return sharedInProcess
  return isProcessAlive(pid)
}
