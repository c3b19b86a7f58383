/**
 * The file-system layer of the store: node's `fs/promises`, replaceable
 * function by function (`createStore({ path, fs: { open } })`) so tests can
 * inject failures such as ENOSPC. Every durable write goes through the one
 * durable writer, src/util/atomic-write.ts, given this fs.
 *
 * Blocks are written with synchronous calls (`inline`, blockstore.ts says why). A store
 * given its own asynchronous calls for what a block write does (open, rename, unlink, stat,
 * mkdir) and no `inline` of its own writes its blocks through those calls, so that a test
 * that injects a failure there reaches every write.
 */
import * as fss from 'node:fs'
import * as fsp from 'node:fs/promises'
import type { AtomicFs, AtomicFsSync } from '../util/atomic-write.js'

/** The synchronous calls of the store's inline block writer, and the clock that times each write. */
export interface InlineFs extends AtomicFsSync {
  statSync: typeof fss.statSync
  mkdirSync: typeof fss.mkdirSync
  /** Milliseconds, monotonic (default `performance.now`); tests give a fake one. */
  now: () => number
}

export interface StoreFs extends AtomicFs {
  mkdir: typeof fsp.mkdir
  readdir: typeof fsp.readdir
  stat: typeof fsp.stat
  readFile: typeof fsp.readFile
  rm: typeof fsp.rm
  /** Absent: blocks are written through the asynchronous calls above. */
  inline?: InlineFs
}

export const nodeInlineFs: InlineFs = {
  openSync: fss.openSync,
  writevSync: fss.writevSync,
  writeSync: fss.writeSync,
  closeSync: fss.closeSync,
  renameSync: fss.renameSync,
  unlinkSync: fss.unlinkSync,
  statSync: fss.statSync,
  mkdirSync: fss.mkdirSync,
  now: () => performance.now()
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
  rm: fsp.rm,
  inline: nodeInlineFs
}

/** The asynchronous calls a block write makes when it does not write inline. */
const BLOCK_WRITE_CALLS = ['open', 'rename', 'unlink', 'stat', 'mkdir'] as const

export function resolveFs (overrides: Partial<StoreFs> = {}): StoreFs {
  const fs: StoreFs = { ...nodeFs, ...overrides }
  if (overrides.inline == null && BLOCK_WRITE_CALLS.some(k => overrides[k] != null)) delete fs.inline
  return fs
}
