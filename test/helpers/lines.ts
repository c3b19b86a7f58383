/**
 * Waiting on the output of a process the tests started: a line (seen already or still to
 * come) that matches, a JSON line, or the exit. Waits are on conditions, never timers; a
 * timeout or an exit before the match fails with what the process printed last.
 */
import { waitFor } from '../../src/util/wait.js'

export interface ProcessExit { code: number | null, signal: string | null }

export interface LineWaiters {
  waitForLine: (match: RegExp | ((line: string) => boolean), options?: { timeout?: number }) => Promise<string>
  waitForJson: <T = any>(match: (msg: any) => boolean, options?: { timeout?: number }) => Promise<T>
  waitForExit: (options?: { timeout?: number }) => Promise<ProcessExit>
}

/** `lines()` gives the lines to search (it may switch streams), `exit()` the exit once known. */
export function lineWaiters (lines: () => string[], exit: () => ProcessExit | undefined, describe: () => string): LineWaiters {
  const waitForLine: LineWaiters['waitForLine'] = async (match, opts = {}) => {
    const test = typeof match === 'function' ? match : (l: string) => match.test(l)
    let found: string | undefined
    await waitFor(() => {
      found = lines().find(test)
      return found != null || exit() != null
    }, { timeout: opts.timeout ?? 15_000, message: () => `a matching line from ${describe()}` })
    if (found == null) throw new Error(`exited before a matching line: ${describe()}`)
    return found
  }
  return {
    waitForLine,
    waitForJson: async (match, opts = {}) => {
      const line = await waitForLine((l) => {
        try { return match(JSON.parse(l)) } catch { return false }
      }, opts)
      return JSON.parse(line)
    },
    waitForExit: async (opts = {}) => {
      await waitFor(() => exit() != null, { timeout: opts.timeout ?? 15_000, message: () => `exit of ${describe()}` })
      return exit()!
    }
  }
}
