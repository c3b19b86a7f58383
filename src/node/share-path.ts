/**
 * The check a share makes of a path before it reads it. A module of its own, with no
 * dependency beyond node:fs, so the CLI's `share` (a control-socket client) can check its
 * arguments without loading the node.
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { PathNotFoundError } from './errors.js'

/** Checks that `path` is a readable regular file or a folder; returns its absolute path and size (0 for a folder). */
export async function checkSharePath (path: string, cwd = process.cwd()): Promise<{ path: string, size: number, folder: boolean }> {
  const abs = resolve(cwd, path)
  let info
  try {
    info = await stat(abs)
  } catch (err: any) {
    throw new PathNotFoundError(path, err.code === 'ENOENT' ? 'no such file' : `cannot read it (${err.code ?? err.message})`)
  }
  if (info.isDirectory()) return { path: abs, size: 0, folder: true }
  if (!info.isFile()) throw new PathNotFoundError(path, 'it is not a regular file or a folder')
  return { path: abs, size: info.size, folder: false }
}
