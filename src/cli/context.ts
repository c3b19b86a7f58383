/** What every command receives. */
import type { FlagValues } from './args.js'
import type { Output } from './output.js'
import type { CommandName, Flags } from './spec.js'

export interface Context<K extends CommandName = CommandName> {
  name: K
  flags: FlagValues<Flags<K>>
  positionals: string[]
  out: Output
  /** Absolute path of the repository (--repo, $SWARMDROP_REPO or ~/.swarmdrop). */
  repo: string
  cwd: string
  env: Record<string, string | undefined>
  /** Aborted on SIGINT / SIGTERM with an InterruptedError. */
  signal: AbortSignal
}

export type CommandFn<K extends CommandName> = (ctx: Context<K>) => Promise<void>
