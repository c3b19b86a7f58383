/**
 * Entry of the `swarmdrop` command. run() maps arguments to a command and an
 * exit code; main() is the one place that calls process.exit.
 *
 * Only light modules are imported here: each command's module (and with it
 * libp2p) is loaded when that command runs, so `--help` stays fast.
 */
import '../polyfill.js'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parse } from './args.js'
import type { CommandFn, Context } from './context.js'
import { EXIT, ExitError, InterruptedError, UsageError } from './errors.js'
import { commandHelp, generalHelp, usageLine } from './help.js'
import { humaneDurations } from './format.js'
import { Output } from './output.js'
import { COMMANDS, isCommand, type CommandName } from './spec.js'
import { VERSION } from '../version.js'
import { tuneV8ForTransfers } from '../util/v8-tuning.js'

const LOADERS: { [K in CommandName]: () => Promise<CommandFn<K>> } = {
  start: async () => (await import('./commands/start.js')).start,
  share: async () => (await import('./commands/share.js')).share,
  ls: async () => (await import('./commands/query.js')).ls,
  get: async () => (await import('./commands/get.js')).get,
  peers: async () => (await import('./commands/query.js')).peers,
  status: async () => (await import('./commands/query.js')).status,
  id: async () => (await import('./commands/query.js')).id,
  pin: async () => (await import('./commands/query.js')).pin,
  unpin: async () => (await import('./commands/query.js')).unpin,
  rm: async () => (await import('./commands/query.js')).rm,
  gc: async () => (await import('./commands/query.js')).gc,
  stop: async () => (await import('./commands/query.js')).stop,
  open: async () => (await import('./commands/open.js')).open,
  pub: async () => (await import('./commands/pubsub.js')).pub,
  sub: async () => (await import('./commands/pubsub.js')).sub,
  demo: async () => (await import('./commands/demo.js')).demo,
  key: async () => (await import('./commands/key.js')).key,
  help: async () => async (ctx) => {
    const topic = ctx.positionals[0]
    if (topic == null) {
      ctx.out.raw(generalHelp(VERSION))
    } else if (isCommand(topic)) {
      ctx.out.raw(commandHelp(topic))
    } else {
      throw new UsageError(`unknown command "${topic}"`)
    }
  }
}

export interface RunOptions {
  env?: Record<string, string | undefined>
  cwd?: string
  /** Aborted on SIGINT / SIGTERM. */
  signal?: AbortSignal
  out?: Output
}

/** Global flags that may come before the command name. */
function splitGlobals (argv: readonly string[]): { command?: string, rest: string[] } {
  const lead: string[] = []
  let i = 0
  while (i < argv.length) {
    const a = argv[i]!
    if (a === '--json') {
      lead.push(a)
      i++
    } else if (a === '--repo' && i + 1 >= argv.length) {
      throw new UsageError('--repo needs a value (DIR)')
    } else if (a === '--repo') {
      lead.push(a, argv[i + 1]!)
      i += 2
    } else if (a.startsWith('--repo=')) {
      lead.push(a)
      i++
    } else {
      break
    }
  }
  const command = argv[i]
  return command == null ? { rest: lead } : { command, rest: [...lead, ...argv.slice(i + 1)] }
}

function wantsHelp (argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false
    if (a === '--help' || a === '-h') return true
  }
  return false
}

/** Runs one command line; resolves with the exit code. Never calls process.exit. */
export async function run (argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const env = options.env ?? process.env
  const signal = options.signal ?? new AbortController().signal
  const json = argv.includes('--json')
  const out = options.out ?? new Output({ json, env })
  let name: CommandName | undefined
  try {
    const first = argv[0]
    if (first === '--version' || first === '-V') {
      out.raw(json ? JSON.stringify({ version: VERSION }) + '\n' : `swarmdrop ${VERSION}\n`)
      return EXIT.OK
    }
    if (first == null) {
      out.usage(generalHelp(VERSION))
      return EXIT.USAGE
    }
    if (first === '--help' || first === '-h') {
      out.raw(generalHelp(VERSION))
      return EXIT.OK
    }
    const { command, rest } = splitGlobals(argv)
    if (command == null) throw new UsageError('missing command')
    if (!isCommand(command)) throw new UsageError(`unknown command "${command}"`)
    name = command
    if (wantsHelp(rest)) {
      out.raw(commandHelp(command))
      return EXIT.OK
    }
    const spec = COMMANDS[command]
    const parsed = parse(rest, spec.flags, spec.positionals, command)
    const flags = parsed.flags as { repo?: string }
    const cwd = options.cwd ?? process.cwd()
    const repo = resolve(cwd, flags.repo ?? (env.SWARMDROP_REPO != null && env.SWARMDROP_REPO !== '' ? env.SWARMDROP_REPO : join(homedir(), '.swarmdrop')))
    const ctx = { name: command, flags: parsed.flags, positionals: parsed.positionals, out, repo, cwd, env, signal } as Context<typeof command>
    const fn = await LOADERS[command]() as CommandFn<typeof command>
    await fn(ctx)
    return EXIT.OK
  } catch (err: any) {
    return exitCodeOf(err, out, name, signal)
  }
}

/** Named errors that mean "fix the command line" (or start a node): exit 2. */
const USAGE_ERRORS = new Set(['NoNodeError', 'InvalidMultiaddrError', 'InvalidSwarmNameError', 'InvalidSwarmKeyError', 'InvalidCidError', 'ReservedTopicError', 'InvalidLinkError', 'UnknownNameError', 'AmbiguousNameError'])

/** An error's message with durations in ms said as people say them ("(waited 30000 ms)" → "(waited 30 s)"). */
function humane (err: any): unknown {
  if (!(err instanceof Error)) return err
  // advice given in the library's terms has a command-line form (src/node/errors.ts)
  const own = typeof (err as { cliMessage?: unknown }).cliMessage === 'string' ? (err as unknown as { cliMessage: string }).cliMessage : err.message
  const message = humaneDurations(own)
  if (message === err.message) return err
  const copy = new Error(message)
  copy.name = err.name
  if (err.stack != null) copy.stack = err.stack
  return copy
}

/** Prints why a command failed (unless it already did) and picks the exit code. */
function exitCodeOf (err: any, out: Output, name: CommandName | undefined, signal: AbortSignal): number {
  if (err instanceof ExitError) return err.code
  if (err instanceof UsageError) {
    out.error(err)
    const cmd = (err.command ?? name) as CommandName | undefined
    out.usage(cmd != null ? `${usageLine(cmd)}\nRun \`swarmdrop ${cmd} --help\` for details.` : 'Run `swarmdrop --help` for the list of commands.')
    return EXIT.USAGE
  }
  if (err instanceof InterruptedError || signal.aborted) {
    out.note('interrupted')
    return EXIT.INTERRUPTED
  }
  const errName: string | undefined = err?.remoteName ?? err?.name
  if (USAGE_ERRORS.has(errName ?? '')) {
    out.error(humane(err))
    if (errName !== 'NoNodeError' && name != null) out.usage(`${usageLine(name)}\nRun \`swarmdrop ${name} --help\` for details.`)
    return EXIT.USAGE
  }
  out.error(humane(err))
  return EXIT.FAILED
}

/** The process entry: wires signals, runs, exits with the code. */
export async function main (): Promise<void> {
  // this process moves bulk data: fewer full garbage collections, less optimizing (src/util/v8-tuning.ts)
  tuneV8ForTransfers()
  const argv = process.argv.slice(2)
  const out = new Output({ json: argv.includes('--json') })
  const exit = (code: number): void => {
    // let pending writes to pipes reach the reader before exiting
    void out.flush().then(() => process.exit(code))
  }
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts++
    if (interrupts > 1) exit(EXIT.INTERRUPTED)
    controller.abort(new InterruptedError(`interrupted by ${sig}`, sig))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const code = await run(argv, { signal: controller.signal, out })
  exit(code)
}
