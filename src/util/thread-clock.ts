/**
 * How long the calling thread has been blocked: asleep in the kernel (waiting for a disk, a lock),
 * as opposed to running or runnable and waiting for a core. A synchronous call that took 20 ms of
 * wall time may have spent them waiting for the disk, or waiting for a CPU while nine processes
 * share two cores; only the first says the call should leave the event loop's thread
 * (storage/blockstore.ts), since in the second the thread pool waits for the same cores.
 *
 * Linux gives both halves of "not blocked" per thread in `/proc/thread-self/schedstat`: time on a
 * CPU and time waiting on a run queue, in nanoseconds. No library reads it (the `pidusage` kind
 * read per-process totals from `/proc/PID/stat`, in clock ticks of 10 ms); the file is one line of
 * three numbers, kept open and read again at offset 0 (~2 µs). Elsewhere, or when the kernel
 * keeps no such statistics (the file reads zeros), there is no clock and callers use elapsed time.
 */
import { openSync, readSync } from 'node:fs'

const SCHEDSTAT = '/proc/thread-self/schedstat'

/**
 * A clock of the calling thread's blocked time in milliseconds (only differences mean anything),
 * or undefined where the system does not say. The file is opened by, and names, the thread that
 * calls this; the clock must be read on that thread.
 */
export function blockedClock (): (() => number | undefined) | undefined {
  let fd: number
  try {
    fd = openSync(SCHEDSTAT, 'r')
  } catch {
    return undefined
  }
  const buf = Buffer.alloc(96)
  /** Nanoseconds on a CPU plus waiting for one, or undefined when the line does not parse. */
  const notBlockedNs = (): number | undefined => {
    const n = readSync(fd, buf, 0, buf.length, 0)
    const [run, wait] = buf.toString('latin1', 0, n).split(' ', 2).map(Number)
    return run != null && wait != null && Number.isFinite(run) && Number.isFinite(wait) ? run + wait : undefined
  }
  // this thread has run (it is running this code): a kernel that keeps no statistics says 0
  const first = notBlockedNs()
  if (first == null || first === 0) return undefined
  return () => {
    const ns = notBlockedNs()
    return ns == null ? undefined : performance.now() - ns / 1e6
  }
}

let shared: ReturnType<typeof blockedClock> | null = null

/**
 * blockedClock() of the thread that first calls this, opened once (a module's state is per
 * thread: a worker that imports this module gets its own).
 */
export function threadBlockedMs (): number | undefined {
  if (shared === null) shared = blockedClock()
  return shared?.()
}
