/**
 * CPU time of this process split by thread (Linux: /proc/self/task/N/stat), in ms: the main
 * JavaScript thread (user and system apart), libuv's thread pool (fs calls, crypto jobs), V8's
 * helper threads (concurrent GC, compilation) and the rest. process.cpuUsage() sums them all;
 * this says which of them a change moved. Ticks are 10 ms: read it over runs of a second or more.
 * Node 20 names every thread `node`: there they are told apart by the order they start in.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { PerformanceObserver, constants } from 'node:perf_hooks'

export type ThreadCpu = Record<'mainUser' | 'mainSystem' | 'libuv' | 'v8' | 'other' | 'minorGcs' | 'majorGcs' | 'gcPauseMs' | Counter, number>

/**
 * Counts beside the CPU (not milliseconds): read and write calls of the process (/proc/self/io:
 * sockets and files alike), and the main thread's context switches, voluntary (it slept: the event
 * loop waited for the next event) and not (it was preempted), and the process's minor page faults
 * (/proc/self/stat: memory touched for the first time, or again after it was given back).
 */
export const COUNTERS = ['readCalls', 'writeCalls', 'mainSleeps', 'mainPreempted', 'pageFaults'] as const
type Counter = typeof COUNTERS[number]

/** The field `name` of a /proc file of "name: value" lines (0 when absent). */
function procField (text: string, name: string): number {
  const at = text.indexOf(`${name}:`)
  return at < 0 ? 0 : Number.parseInt(text.slice(at + name.length + 1), 10)
}

/** Garbage collections seen so far (perf_hooks 'gc' entries), counted from the first threadCpu() call. */
const gcs = { minor: 0, major: 0, pauseMs: 0 }
let observing = false
function observeGc (): void {
  if (observing) return
  observing = true
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++
      gcs.pauseMs += e.duration
    }
  }).observe({ entryTypes: ['gc'] })
}

const TICK_MS = 10

export function threadCpu (): ThreadCpu {
  observeGc()
  const out: ThreadCpu = { mainUser: 0, mainSystem: 0, libuv: 0, v8: 0, other: 0, minorGcs: gcs.minor, majorGcs: gcs.major, gcPauseMs: gcs.pauseMs, readCalls: 0, writeCalls: 0, mainSleeps: 0, mainPreempted: 0, pageFaults: 0 }
  try {
    const io = readFileSync('/proc/self/io', 'utf8')
    const status = readFileSync('/proc/self/status', 'utf8')
    out.readCalls = procField(io, 'syscr')
    out.writeCalls = procField(io, 'syscw')
    out.mainSleeps = procField(status, 'voluntary_ctxt_switches')
    out.mainPreempted = procField(status, 'nonvoluntary_ctxt_switches')
    const stat = readFileSync('/proc/self/stat', 'utf8')
    out.pageFaults = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
  } catch {}
  let tasks: string[]
  try {
    tasks = readdirSync('/proc/self/task').sort((a, b) => Number(a) - Number(b))
  } catch {
    return out
  }
  const threads: Array<{ tid: string, comm: string, user: number, system: number }> = []
  for (const tid of tasks) {
    let stat: string
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
    } catch {
      continue // the thread ended meanwhile
    }
    // "tid (comm) state ..." : comm may hold spaces, the fields after its ')' do not
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    threads.push({ tid, comm, user: Number(fields[11]) * TICK_MS, system: Number(fields[12]) * TICK_MS })
  }
  // Node 20 names no thread: they start in a fixed order (main, V8's delayed-task scheduler and
  // its 4 workers, the inspector's signal thread, then libuv's pool on first use), as Node 24's names show
  const unnamed = threads.every(t => t.comm === threads[0]?.comm)
  threads.forEach((t, i) => {
    const kind = t.tid === String(process.pid)
      ? 'main'
      : unnamed
        ? (i <= 5 ? 'v8' : i === 6 ? 'other' : 'libuv')
        : t.comm.startsWith('libuv-worker') ? 'libuv' : (t.comm.startsWith('V8') || t.comm === 'DelayedTaskSche') ? 'v8' : 'other'
    if (kind === 'main') {
      out.mainUser += t.user
      out.mainSystem += t.system
    } else out[kind] += t.user + t.system
  })
  return out
}

export function diffCpu (a: ThreadCpu, b: ThreadCpu): ThreadCpu {
  const out = { ...b }
  for (const k of Object.keys(out) as Array<keyof ThreadCpu>) out[k] -= a[k]
  return out
}
