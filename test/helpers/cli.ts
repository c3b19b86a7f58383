/**
 * Runs the real built `bin/swarmdrop.js` in child processes for the CLI tests.
 * Lines of stdout and stderr are collected; waits are on lines or exit, never timers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { lineWaiters } from './lines.js'

/** The real binary (dist/test/helpers → repository root). */
export const BIN = fileURLToPath(new URL('../../../bin/swarmdrop.js', import.meta.url))

/** Options every test node outside a namespace uses: no mDNS, loopback only. */
export const LOOPBACK = ['--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0']

export interface CliProcess {
  readonly child: ChildProcess
  readonly stdout: string[]
  readonly stderr: string[]
  exit?: { code: number | null, signal: string | null }
  waitForLine: (match: RegExp | ((line: string) => boolean), options?: { timeout?: number, stream?: 'stdout' | 'stderr' }) => Promise<string>
  waitForJson: <T = any>(match: (msg: any) => boolean, options?: { timeout?: number }) => Promise<T>
  waitForExit: (options?: { timeout?: number }) => Promise<{ code: number | null, signal: string | null }>
  kill: (signal?: NodeJS.Signals) => void
}

export interface SpawnOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  /** Written to the command's stdin, then closed (default: no stdin). */
  input?: string
}

/** Starts `swarmdrop ARGS...`. */
export function spawnCli (args: string[], options: SpawnOptions = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    // SWARMDROP_WEB_PORT=0: a node's web page on any free port, never the fixed default
    env: { ...process.env, NO_COLOR: '1', DEBUG: '', SWARMDROP_WEB_PORT: '0', ...options.env },
    stdio: [options.input != null ? 'pipe' : 'ignore', 'pipe', 'pipe']
  })
  if (options.input != null) child.stdin!.end(options.input)
  const out = lineWaiters(() => proc.stdout, () => proc.exit, () => describe())
  const err = lineWaiters(() => proc.stderr, () => proc.exit, () => describe())
  const proc: CliProcess = {
    child,
    stdout: [],
    stderr: [],
    ...out,
    waitForLine: async (match, opts = {}) => (opts.stream === 'stderr' ? err : out).waitForLine(match, opts),
    kill: (signal = 'SIGTERM') => { child.kill(signal) }
  }
  const describe = (): string => `swarmdrop ${args.join(' ')}: stdout ${JSON.stringify(proc.stdout.slice(-10))} stderr ${JSON.stringify(proc.stderr.slice(-10))} exit ${JSON.stringify(proc.exit)}`
  createInterface({ input: child.stdout! }).on('line', l => proc.stdout.push(l))
  createInterface({ input: child.stderr! }).on('line', l => proc.stderr.push(l))
  // 'close' (not 'exit'): every line of both pipes has been read by then
  child.on('close', (code, signal) => { proc.exit = { code, signal } })
  return proc
}

export interface CliResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  /** stdout parsed as JSON (throws when it is not). */
  json: () => any
}

/** Runs `swarmdrop ARGS...` to completion. */
export async function runCli (args: string[], options: SpawnOptions & { timeout?: number } = {}): Promise<CliResult> {
  const p = spawnCli(args, options)
  const { code, signal } = await p.waitForExit({ timeout: options.timeout ?? 30_000 })
  const stdout = p.stdout.join('\n')
  return { code, signal, stdout, stderr: p.stderr.join('\n'), json: () => JSON.parse(stdout) }
}

const README = fileURLToPath(new URL('../../../README.md', import.meta.url))

/** The command lines in the code blocks of README.md's `## Tour` section, comments dropped. */
export async function tourCommands (): Promise<string[]> {
  const text = await readFile(README, 'utf8')
  const start = text.indexOf('\n## Tour')
  if (start === -1) throw new Error('README.md has no ## Tour section')
  const end = text.indexOf('\n## ', start + 1)
  const section = text.slice(start, end === -1 ? undefined : end)
  const out: string[] = []
  for (const block of section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      const cmd = line.replace(/#.*$/, '').trim()
      if (cmd !== '') out.push(cmd)
    }
  }
  return out
}

export type After = { after: (fn: () => Promise<void>) => void }

/** A temp folder removed in the test's teardown. */
export async function tempDir (t: After, prefix = 'swarmdrop-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Starts `swarmdrop start --json` on loopback and waits for its ready event; killed in teardown. */
export async function startNode (t: After, args: string[]): Promise<{ proc: CliProcess, ready: any }> {
  const proc = spawnCli(['start', '--json', ...LOOPBACK, ...args])
  t.after(async () => {
    if (proc.exit == null) {
      proc.kill('SIGKILL')
      await proc.waitForExit()
    }
  })
  const ready = await proc.waitForJson(m => m.event === 'ready')
  return { proc, ready }
}
