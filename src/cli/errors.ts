/**
 * Errors of the command line. A command prints why it failed, then throws
 * ExitError(code); main() is the one place that turns it into an exit.
 */

/** Exit codes, documented in docs/CLI.md. */
export const EXIT = {
  OK: 0,
  /** The operation failed (not found, bad input file, network error). */
  FAILED: 1,
  /** Bad usage, or no running node where one is needed. */
  USAGE: 2,
  /** Interrupted by SIGINT / SIGTERM. */
  INTERRUPTED: 130
} as const

export type ExitCode = typeof EXIT[keyof typeof EXIT]

/** Thrown after the reason was printed: ends the command with this code. */
export class ExitError extends Error {
  static override name = 'ExitError'
  readonly code: number

  constructor (code: number, message = `exit ${code}`) {
    super(message)
    this.name = 'ExitError'
    this.code = code
  }
}

/** Bad arguments: main() prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  static override name = 'UsageError'
  /** The command whose usage to print, if known. */
  readonly command?: string

  constructor (message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    if (command != null) this.command = command
  }
}

/** No running node (exit 2) and a node's failure: the control client's errors. */
export { NoNodeError, RemoteError } from '../control/errors.js'

/** `get NAME`: no file of the catalog has this name (and it is not a CID). */
export class UnknownNameError extends Error {
  static override name = 'UnknownNameError'

  constructor (name: string) {
    super(`"${name}" is neither a CID nor the name of a file in the swarm's catalog; \`swarmdrop ls\` lists the files (get takes a CID, a link or an exact name)`)
    this.name = 'UnknownNameError'
  }
}

/** `get NAME`: several files of the catalog have this name. */
export class AmbiguousNameError extends Error {
  static override name = 'AmbiguousNameError'
  readonly candidates: string[]

  constructor (name: string, candidates: string[]) {
    super(`${candidates.length} files are named "${name}"; get one by its CID: ${candidates.join('; ')}`)
    this.name = 'AmbiguousNameError'
    this.candidates = candidates
  }
}

/** The user interrupted the command (SIGINT): exit 130. */
export class InterruptedError extends Error {
  static override name = 'InterruptedError'
  /** The signal that interrupted, if one did. */
  readonly signal?: string

  constructor (message = 'interrupted', signal?: string) {
    super(message)
    this.name = 'InterruptedError'
    if (signal != null) this.signal = signal
  }
}

/** `ls CID`: the catalog does not list this CID and the store does not hold it. */
export class NotListedError extends Error {
  static override name = 'NotListedError'

  constructor (cid: string) {
    super(`no provider in the swarm lists ${cid} and it is not here; \`swarmdrop ls\` lists the files`)
    this.name = 'NotListedError'
  }
}
