/**
 * The file-system layer of the store: node's `fs/promises`, replaceable
 * function by function (`createStore({ path, fs: { open } })`) so tests can
 * inject failures such as ENOSPC. Every durable write goes through the one
 * durable writer, src/util/atomic-write.ts, given this fs.
 */
import * as fsp from 'node:fs/promises'
import type { AtomicFs } from '../util/atomic-write.js'

export interface StoreFs extends AtomicFs {
  mkdir: typeof fsp.mkdir
  readdir: typeof fsp.readdir
  stat: typeof fsp.stat
  readFile: typeof fsp.readFile
  rm: typeof fsp.rm
}

export const nodeFs: StoreFs = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  link: fsp.link,
  mkdir: fsp.mkdir,
  readdir: fsp.readdir,
  stat: fsp.stat,
  readFile: fsp.readFile,
  rm: fsp.rm
}

export function resolveFs (overrides?: Partial<StoreFs>): StoreFs {
  return { ...nodeFs, ...overrides }
}
