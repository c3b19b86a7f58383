/**
 * The check a share makes of a path before it reads it. A module of its own, with no
 * dependency beyond node:fs, so the CLI's `share` (a control-socket client) can check its
 * arguments without loading the node.
 */
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { checkFileName } from '../pubsub/names.js'
import { fsReason, readFixHint } from '../util/fs-reason.js'
import { PathNotFoundError } from './errors.js'

/**
 * Checks that `path` is a readable regular file or folder whose name can be announced (no
 * control characters, at most 255 bytes); returns its absolute path and size (0 for a folder).
 * Each failure names the path.
 */
export async function checkSharePath (path: string, cwd = process.cwd()): Promise<{ path: string, size: number, folder: boolean }> {
  const abs = resolve(cwd, path)
  let info
  try {
    info = await stat(abs)
  } catch (err: any) {
    throw new PathNotFoundError(path, err.code === 'ENOENT' ? 'no such file' : `cannot read it: ${fsReason(err)}${readFixHint(err, abs)}`)
  }
  const folder = info.isDirectory()
  if (!folder && !info.isFile()) throw new PathNotFoundError(path, 'it is not a regular file or a folder')
  try {
    await access(abs, folder ? constants.R_OK | constants.X_OK : constants.R_OK)
  } catch (err: any) {
    throw new PathNotFoundError(path, `cannot read it: ${fsReason(err)}${readFixHint(err, abs)}`)
  }
  const problem = checkFileName(basename(abs))
  // the path as JSON would write it: control characters as escapes, not sent to the terminal
  if (problem != null) throw new PathNotFoundError(JSON.stringify(path).replace(/[\u0080-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), `${problem}; rename the file (nothing was shared)`)
  return { path: abs, size: folder ? 0 : info.size, folder }
}
