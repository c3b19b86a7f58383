/** Errors of the client-server vs swarm comparison (bench/compare); code and tests match on `.name`. */

export class InvalidCompareOptionError extends Error {
  static override name = 'InvalidCompareOptionError'

  constructor (message: string) {
    super(message)
    this.name = 'InvalidCompareOptionError'
  }
}

/** The file server answered with an unexpected HTTP status. */
export class HttpStatusError extends Error {
  static override name = 'HttpStatusError'
  readonly status: number

  constructor (status: number, url: string) {
    super(`${url} answered HTTP ${status}`)
    this.name = 'HttpStatusError'
    this.status = status
  }
}

/** A download ended before Content-Length bytes (the server died or cut the connection). */
export class IncompleteDownloadError extends Error {
  static override name = 'IncompleteDownloadError'
  readonly received: number
  readonly expected: number

  constructor (received: number, expected: number) {
    super(`download cut short: ${received} of ${expected} bytes`)
    this.name = 'IncompleteDownloadError'
    this.received = received
    this.expected = expected
  }
}

/**
 * The origin is gone and some blocks never reached any fetcher: no fetcher that was not done
 * can finish, so the comparison stops the remaining fetches instead of waiting for their timeout.
 */
export class BlocksLostError extends Error {
  static override name = 'BlocksLostError'
  readonly missing: number

  constructor (missing: number, total: number) {
    super(`${missing} of the file's ${total} blocks existed only at the origin, which is gone`)
    this.name = 'BlocksLostError'
    this.missing = missing
  }
}
