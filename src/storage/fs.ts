/**
 * The file-system layer of the store: node's `fs/promises`, replaceable
 * function by function (`createStore({ path, fs: { open } })`) so tests can
 * inject failures such as ENOSPC. Every durable write goes through the one
 * durable writer, src/util/atomic-write.ts, given this fs.
 *
 * Blocks are written and read with synchronous calls (`inline`, blockstore.ts says why). A
 * store given its own asynchronous calls for what a block write or read does (open, rename,
 * unlink, stat, mkdir, readFile) and no `inline` of its own goes through those calls, so that a
 * test that injects a failure there reaches every write and read.
 */
import * as fss from 'node:fs'
import * as fsp from 'node:fs/promises'
import type { AtomicFs, AtomicFsSync } from '../util/atomic-write.js'
import { threadWaitMs } from '../util/thread-clock.js'

/** The synchronous calls with which the store writes and reads blocks, and the clock that times each. */
export interface InlineFs extends AtomicFsSync {
  statSync: typeof fss.statSync
  mkdirSync: typeof fss.mkdirSync
  readFileSync: typeof fss.readFileSync
  /** Milliseconds, monotonic (default `performance.now`); tests give a fake one. */
  now: () => number
  /**
   * Milliseconds this thread has spent waiting for a core (runnable while other threads ran):
   * only differences mean anything (default: util/thread-clock.ts, Linux). A call is timed by
   * `now` less this. Absent, or undefined, where the system does not say: by `now` alone.
   */
  waited?: () => number | undefined
}

export interface StoreFs extends AtomicFs {
  mkdir: typeof fsp.mkdir
  readdir: typeof fsp.readdir
  stat: typeof fsp.stat
  readFile: typeof fsp.readFile
  rm: typeof fsp.rm
  /** Absent: blocks are written and read through the asynchronous calls above. */
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
  readFileSync: fss.readFileSync,
  now: () => performance.now(),
  waited: threadWaitMs
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

/** The asynchronous calls a block write or read makes when it does not go inline. */
const BLOCK_CALLS = ['open', 'rename', 'unlink', 'stat', 'mkdir', 'readFile'] as const

export function resolveFs (overrides: Partial<StoreFs> = {}): StoreFs {
  const fs: StoreFs = { ...nodeFs, ...overrides }
  if (overrides.inline == null && BLOCK_CALLS.some(k => overrides[k] != null)) delete fs.inline
  return fs
}
