export class WaitTimeoutError extends Error {
  static override name = 'WaitTimeoutError'

  constructor (message: string) {
    super(message)
    this.name = 'WaitTimeoutError'
  }
}

export interface WaitForOptions {
  /** Give up after this many ms (default 10 s). */
  timeout?: number
  /** Check every this many ms (default 20). */
  interval?: number
  signal?: AbortSignal
  /** Says what was awaited, for the timeout error. A function is called at timeout, so it can report progress. */
  message?: string | (() => string)
}

/** Resolves when `condition` returns true; rejects with WaitTimeoutError after `timeout`. */
export async function waitFor (condition: () => boolean | Promise<boolean>, options: WaitForOptions = {}): Promise<void> {
  const timeout = options.timeout ?? 10_000
  const interval = options.interval ?? 20
  const deadline = Date.now() + timeout
  for (;;) {
    options.signal?.throwIfAborted()
    if (await condition()) return
    if (Date.now() >= deadline) {
      const what = typeof options.message === 'function' ? options.message() : options.message ?? 'condition'
      throw new WaitTimeoutError(`timed out after ${timeout} ms waiting for ${what}`)
    }
    await new Promise(resolve => setTimeout(resolve, interval))
  }
}
