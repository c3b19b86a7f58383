/**
 * How long the calling thread has waited for a core: runnable, on a run queue, while other
 * threads ran. A synchronous call that took 20 ms of wall time may have spent them working or
 * asleep on a disk, which is the call's own cost, or waiting for a CPU while nine processes share
 * two cores, which it is not: there the thread pool would wait for the same cores
 * (storage/blockstore.ts times its inline calls by elapsed time less this).
 *
 * Linux gives it per thread in `/proc/thread-self/schedstat`, the second of its three numbers
 * (nanoseconds; the kernel adds a wait to it when the thread gets its core, so it is exact when
 * read by the running thread, unlike the first, time on a CPU, which can lag by a scheduler tick).
 * No library reads it (the `pidusage` kind read per-process totals from `/proc/PID/stat`, in
 * ticks of 10 ms); the file is one line, kept open and read again at offset 0 (~2 µs). Elsewhere,
 * or when the kernel keeps no such statistics (the file reads zeros), or once a read fails, there
 * is no clock and callers use elapsed time.
 */
import { closeSync, openSync, readSync } from 'node:fs'

const SCHEDSTAT = '/proc/thread-self/schedstat'

/**
 * A clock of the calling thread's time waiting for a core, in milliseconds (only differences
 * mean anything), or undefined where the system does not say. The clock returns undefined from
 * the first read that fails on. The file is opened by, and names, the thread that calls this:
 * the clock must be read on that thread.
 */
export function waitClock (): (() => number | undefined) | undefined {
  let fd: number
  try {
    fd = openSync(SCHEDSTAT, 'r')
  } catch {
    return undefined
  }
  const buf = Buffer.alloc(96)
  let failed = false
  /** [ns on a CPU, ns waiting for one], or undefined when the file cannot be read or parsed. */
  const read = (): [number, number] | undefined => {
    if (failed) return undefined
    try {
      const n = readSync(fd, buf, 0, buf.length, 0)
      const [run, wait] = buf.toString('latin1', 0, n).split(' ', 2).map(Number)
      if (run != null && wait != null && Number.isFinite(run) && Number.isFinite(wait)) return [run, wait]
    } catch {}
    failed = true
    return undefined
  }
  // this thread has run (it is running this code): a kernel that keeps no statistics says 0
  const first = read()
  if (first == null || first[0] === 0) {
    try { closeSync(fd) } catch {}
    return undefined
  }
  return () => {
    const now = read()
    return now == null ? undefined : now[1] / 1e6
  }
}

let shared: ReturnType<typeof waitClock> | null = null

/**
 * waitClock() of the thread that first calls this, opened once (a module's state is per thread:
 * a worker that imports this module gets its own).
 */
export function threadWaitMs (): number | undefined {
  if (shared === null) shared = waitClock()
  return shared?.()
}
