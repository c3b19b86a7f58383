/**
 * Private network namespaces for tests that use mDNS.
 *
 * mDNS multicasts on every interface, so any test that enables it runs its
 * processes inside a namespace of its own that has only a loopback device
 * (with the multicast route on it). One runner process holds the namespace
 * and spawns the test's processes inside it on request (see
 * test/fixtures/netns-runner.ts); closing the namespace kills them all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { lineWaiters } from './lines.js'

const RUNNER = fileURLToPath(new URL('../fixtures/netns-runner.js', import.meta.url))
const SETUP = 'ip link set lo up && ip route add 224.0.0.0/4 dev lo && exec "$0" "$@"'

let available: string | undefined | null = null

/** Why namespaces are unavailable here, or undefined when they work. */
export function netnsUnavailable (): string | undefined {
  if (available !== null) return available
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && ip route add 224.0.0.0/4 dev lo'], { encoding: 'utf8' })
  available = r.error != null
    ? `unshare is not installed (${r.error.message})`
    : r.status !== 0 ? `cannot create a network namespace: ${r.stderr.trim()} (needs root or user namespaces)` : undefined
  return available
}

export interface NsProcess {
  readonly id: string
  readonly lines: string[]
  readonly stderr: string[]
  exit?: { code: number | null, signal: string | null }
  /** Resolves with the first line (already seen or future) matching the predicate. */
  waitForLine: (match: RegExp | ((line: string) => boolean), options?: { timeout?: number }) => Promise<string>
  /** Resolves with the JSON of the first stdout line that parses and matches. */
  waitForJson: <T = any>(match: (msg: any) => boolean, options?: { timeout?: number }) => Promise<T>
  waitForExit: (options?: { timeout?: number }) => Promise<{ code: number | null, signal: string | null }>
  write: (data: string) => void
  kill: (signal?: NodeJS.Signals) => void
}

export class Netns {
  private readonly runner: ChildProcess
  private readonly procs = new Map<string, NsProcess>()
  private next = 0
  private readonly ready: Promise<void>

  private constructor (runner: ChildProcess) {
    this.runner = runner
    let onReady!: () => void
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve
      runner.once('exit', code => { reject(new Error(`namespace runner exited with ${code}`)) })
    })
    createInterface({ input: runner.stdout! }).on('line', (line) => {
      let msg: any
      try { msg = JSON.parse(line) } catch { return }
      if (msg.event === 'ready') onReady()
      const p = this.procs.get(msg.id)
      if (p == null) return
      if (msg.event === 'stdout') p.lines.push(msg.line)
      else if (msg.event === 'stderr') p.stderr.push(msg.line)
      else if (msg.event === 'exit') p.exit = { code: msg.code, signal: msg.signal }
    })
  }

  /** Starts a namespace. Call `close()` in the test's teardown. */
  static async create (): Promise<Netns> {
    const why = netnsUnavailable()
    if (why != null) throw new Error(why)
    const runner = spawn('unshare', ['-n', 'sh', '-c', SETUP, process.execPath, RUNNER], { stdio: ['pipe', 'pipe', 'inherit'] })
    const ns = new Netns(runner)
    await ns.ready
    return ns
  }

  /** Spawns a process inside the namespace. */
  spawn (cmd: string, args: string[], options: { env?: Record<string, string>, cwd?: string } = {}): NsProcess {
    const id = String(this.next++)
    const send = (msg: unknown): void => { this.runner.stdin!.write(JSON.stringify(msg) + '\n') }
    const describe = (): string => `process ${cmd} ${args.join(' ')}: stdout ${JSON.stringify(proc.lines.slice(-10))} stderr ${JSON.stringify(proc.stderr.slice(-10))} exit ${JSON.stringify(proc.exit)}`
    const proc: NsProcess = {
      id,
      lines: [],
      stderr: [],
      ...lineWaiters(() => proc.lines, () => proc.exit, describe),
      write: (data) => { send({ op: 'write', id, data }) },
      kill: (signal = 'SIGTERM') => { send({ op: 'kill', id, signal }) }
    }
    this.procs.set(id, proc)
    send({ op: 'spawn', id, cmd, args, env: options.env, cwd: options.cwd })
    return proc
  }

  /** Kills every process in the namespace and the namespace itself. */
  async close (): Promise<void> {
    if (this.runner.exitCode != null) return
    const exited = new Promise(resolve => this.runner.once('exit', resolve))
    this.runner.stdin!.end()
    await exited
  }
}
