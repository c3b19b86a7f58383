/**
 * The repository: one folder per node holding its identity, store and
 * control socket. Created owner-only (0700). A lock file with the owner's
 * pid keeps two live processes from using one repository; a lock left by
 * a killed process is detected (its pid is gone) and replaced. An existing
 * folder that another user owns or can write is refused (util/private-path.ts).
 */
import { mkdir, access, constants as fsConstants, open, readFile, unlink, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { isProcessAlive } from '../util/process.js'
import { notPrivateReason } from '../util/private-path.js'
import { LOCK_FILE } from './constants.js'
import { RepoError } from '../util/errors.js'
import { RepoLockedError } from './errors.js'

export async function ensureRepo (repo: string): Promise<void> {
  try {
    await mkdir(repo, { recursive: true, mode: 0o700 })
  } catch (err: any) {
    throw new RepoError(repo, `cannot create it (${err.code ?? err.message})`)
  }
  let info
  try {
    info = await stat(repo)
  } catch (err: any) {
    throw new RepoError(repo, `cannot read it (${err.code ?? err.message})`)
  }
  if (!info.isDirectory()) {
    throw new RepoError(repo, 'it is not a directory')
  }
  const unsafe = notPrivateReason(info)
  if (unsafe != null) throw new RepoError(repo, unsafe)
  try {
    await access(repo, fsConstants.R_OK | fsConstants.W_OK | fsConstants.X_OK)
  } catch (err: any) {
    throw new RepoError(repo, `it is not readable and writable by this user (${err.code ?? err.message})`)
  }
}

/** Returns the pid of a live process holding the lock, or undefined. */
export async function readLock (repo: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(repo, LOCK_FILE), 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Takes the repository lock for this process. Another live holder is a
 * RepoLockedError; a stale lock is replaced. Returns the release function.
 */
export async function lockRepo (repo: string): Promise<() => Promise<void>> {
  const path = join(repo, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(String(process.pid))
      await fh.close()
      return async () => { await unlink(path).catch(() => {}) }
    } catch (err: any) {
      if (err.code !== 'EEXIST') throw new RepoError(repo, `cannot write ${path} (${err.code ?? err.message})`)
    }
    const holder = await readLock(repo)
    if (holder != null) throw new RepoLockedError(repo, holder)
    await unlink(path).catch(() => {})
  }
  throw new RepoError(repo, `cannot take the lock ${path}`)
}
