/**
 * The processes an anchor bench starts: every one is registered here and killed at the end,
 * also when the bench fails or is interrupted. Each is started under `setpriv --pdeathsig KILL`,
 * so the kernel kills it even if the bench itself dies by SIGKILL, and in a process group of its
 * own, which is what gets killed: a bench's own children (swarmdrop's fetcher processes) go too.
 *
 * Output goes to a log file (the anchors are chatty); `tail()` shows its end on failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync, readSync, writeFileSync } from 'node:fs'
import { waitFor } from '../../src/util/wait.js'

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  readonly log: string
  exit?: { code: number | null, signal: string | null }
  /** The last lines of its log. */
  tail: (lines?: number) => string
}

export interface SpawnOptions {
  env?: Record<string, string>
  cwd?: string
  /** Where stdout and stderr go (a file); default: only kept in memory when `capture`. */
  log?: string
  /** Keep stdout and stderr in memory (`stdout()`, `stderr()`), for processes that print results. */
  capture?: boolean
}

export class Procs {
  private readonly all: Proc[] = []
  private readonly onExit = (): void => { this.killAllNow() }

  constructor () {
    process.once('exit', this.onExit)
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        this.killAllNow()
        process.exit(130)
      })
    }
  }

  /** Starts `cmd args` (killed with the bench). */
  spawn (name: string, cmd: string, args: string[], options: SpawnOptions = {}): Proc & { stdout: () => string, stderr: () => string } {
    const fd = options.log != null ? openSync(options.log, 'a') : 'ignore'
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], {
      cwd: options.cwd,
      detached: true,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', options.capture === true ? 'pipe' : fd, options.log == null && options.capture === true ? 'pipe' : fd]
    })
    if (typeof fd === 'number') closeSync(fd)
    let out = ''
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (s: string) => { out += s })
    let err = ''
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (s: string) => {
      err += s
      process.stderr.write(s.replace(/^(?=.)/gm, '  ! '))
    })
    const proc: Proc & { stdout: () => string, stderr: () => string } = {
      name,
      child,
      log: options.log ?? '',
      tail: (lines = 15) => {
        const text = options.log != null ? readFileSync(options.log, 'utf8') : out
        return text.split('\n').slice(-lines).join('\n')
      },
      stdout: () => out,
      stderr: () => err
    }
    child.once('exit', (code, signal) => { proc.exit = { code, signal } })
    child.once('error', (err) => { proc.exit = { code: -1, signal: err.message } })
    this.all.push(proc)
    return proc
  }

  /** SIGTERM, then SIGKILL after `grace` ms for what is still running. */
  async stop (procs: Proc[] = this.all, grace = 5000): Promise<void> {
    const running = procs.filter(p => p.exit == null)
    for (const p of running) signal(p, 'SIGTERM')
    try {
      await waitFor(() => running.every(p => p.exit != null), { timeout: grace, interval: 50 })
    } catch {
      for (const p of running) if (p.exit == null) signal(p, 'SIGKILL')
      await waitFor(() => running.every(p => p.exit != null), { timeout: grace, interval: 50 }).catch(() => {})
    }
  }

  /** Stops everything this registry started. */
  async stopAll (): Promise<void> {
    await this.stop(this.all)
    // what a stopped process left behind in its group (a crashed bench's other children)
    this.killAllNow()
    process.removeListener('exit', this.onExit)
  }

  private killAllNow (): void {
    for (const p of this.all) signal(p, 'SIGKILL')
  }
}

/** Signals the process group of `p` (itself and whatever it started), if it is still there. */
function signal (p: Proc, sig: NodeJS.Signals): void {
  if (p.child.pid == null) return
  try {
    process.kill(-p.child.pid, sig)
  } catch {
    // the group is gone already
  }
}

/** Polls `url` on 127.0.0.1 until it answers 2xx (bounded). */
export async function waitForHttp (url: string, timeout: number, headers: Record<string, string> = {}): Promise<void> {
  assertLoopback(url)
  await waitFor(async () => {
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      return res.ok
    } catch {
      return false
    }
  }, { timeout, interval: 100, message: `${url} to answer` })
}

/** Every URL the anchors touch is on 127.0.0.x: refuse anything else. */
export function assertLoopback (url: string): void {
  const host = new URL(url).hostname
  if (!/^127\.0\.0\.\d{1,3}$/.test(host)) throw new Error(`refusing to contact ${host}: the anchors stay on 127.0.0.x`)
}

/** An uncaught error as Node prints it (`TransferTimeoutError: fetching ... stalled`), in any process of a bench. */
const UNCAUGHT = /^(\w*Error|DOMException \[\w+\])(: .*)?$/m

/**
 * Runs one of swarmdrop's own benches (dist/bench/NAME.js) as a child and returns the JSON of
 * the last line it prints; its human lines are echoed to stderr, indented. It fails as soon as
 * the bench or one of its processes (which share its stderr) prints an uncaught error: a bench
 * whose child died may otherwise wait for it for ever.
 */
export async function runSwarmdropBench (procs: Procs, name: string, args: string[], timeout: number, keys: string[]): Promise<Record<string, any>> {
  const script = new URL(`../${name}.js`, import.meta.url).pathname
  const proc = procs.spawn(name, process.execPath, [script, ...args], { capture: true })
  let code: number | null
  try {
    await waitFor(() => proc.exit != null || UNCAUGHT.test(proc.stderr()), { timeout, interval: 100, message: `bench ${name} ${args.join(' ')} to finish` })
    if (proc.exit == null) throw new Error(`swarmdrop's ${name} bench failed: ${UNCAUGHT.exec(proc.stderr())?.[0]}`)
    code = proc.exit.code
  } catch (err) {
    await procs.stop([proc])
    throw err
  }
  const lines = proc.stdout().trim().split('\n')
  for (const line of lines) process.stderr.write(`  | ${line}\n`)
  if (code !== 0) throw new Error(`bench ${name} ${args.join(' ')} exited with ${code}`)
  const json = lines.at(-1) ?? ''
  let parsed: Record<string, any>
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new Error(`bench ${name} printed no JSON last line: ${json}`)
  }
  // the engine's own benches may change; say which figure went missing rather than print NaN
  const missing = keys.filter(k => typeof parsed[k] !== 'number' || !Number.isFinite(parsed[k]))
  if (missing.length > 0) throw new Error(`bench ${name}'s JSON lacks ${missing.join(', ')}: ${json}`)
  return parsed
}

/**
 * Puts the machine's memory in the same state before each contender's timed run:
 *
 * 1. `sync`: every dirty page is written back, so that no one pays for the one before: aria2
 *    never fsyncs, and its copies (~1 GiB in a p2 run) were still being written back while
 *    swarmdrop ran after it (its fsyncs waited, the kernel's writeback took CPU on the same 2 cores).
 * 2. The page cache is dropped (`/proc/sys/vm/drop_caches`, as root; skipped, and said once,
 *    where it cannot be written). On this machine (a virtual machine) copying into page-cache
 *    pages that were not used lately cost up to ten times a copy into pages just freed
 *    (`perf`: `copy_folio_from_iter_atomic`; 256 new files of 1 MiB took 70–90 ms after a drop,
 *    320–850 ms with 256 MiB more of earlier files kept in the cache): a contender that ran after
 *    another's copies stayed cached wrote its own copies several times slower (docs/BENCHMARKS.md,
 *    "The page cache between contenders").
 * 3. `warm`: files a contender reads from (a seeder's file) are read once, so that its timed run
 *    reads them from memory, as it did before the drop.
 */
export function settle (warm: string[] = []): void {
  const r = spawnSync('sync')
  if (r.status !== 0) throw new Error(`sync failed: ${r.stderr?.toString() ?? r.error?.message ?? `status ${String(r.status)}`}`)
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1\n')
  } catch (err) {
    if (!saidNoDrop) process.stderr.write(`settle: the page cache is not dropped between contenders (${(err as Error).message})\n`)
    saidNoDrop = true
  }
  for (const file of warm) {
    const fd = openSync(file, 'r')
    try {
      const buf = Buffer.allocUnsafe(1024 * 1024)
      while (readSync(fd, buf) > 0);
    } finally {
      closeSync(fd)
    }
  }
}
let saidNoDrop = false

/** The median of a non-empty list. */
export function median (xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] ?? NaN : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2
}
