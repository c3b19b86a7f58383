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

/** No node answers on the repository's control socket (exit 2). */
export class NoNodeError extends Error {
  static override name = 'NoNodeError'
  readonly repo: string

  constructor (repo: string, detail?: string) {
    super(`no swarmdrop node is running on the repository ${repo}${detail != null ? ` (${detail})` : ''}; start one with \`swarmdrop start --repo ${repo}\` (or pass the right --repo)`)
    this.name = 'NoNodeError'
    this.repo = repo
  }
}

/** The control socket answered with an error: carries the remote error's name. */
export class RemoteError extends Error {
  static override name = 'RemoteError'
  readonly remoteName: string

  constructor (remoteName: string, message: string) {
    super(message)
    this.name = 'RemoteError'
    this.remoteName = remoteName
  }
}

/** The user interrupted the command (SIGINT): exit 130. */
export class InterruptedError extends Error {
  static override name = 'InterruptedError'

  constructor (message = 'interrupted') {
    super(message)
    this.name = 'InterruptedError'
  }
}
