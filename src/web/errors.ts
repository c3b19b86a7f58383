/**
 * Errors of the web server. Code and tests match on `.name`.
 */

export class WebListenError extends Error {
  static override name = 'WebListenError'
  readonly port: number

  constructor (port: number, reason: string) {
    super(`cannot serve the web page on 127.0.0.1:${port} (${reason}); pick another port with --web PORT, or --no-web`)
    this.name = 'WebListenError'
    this.port = port
  }
}

export class InvalidWebPortError extends Error {
  static override name = 'InvalidWebPortError'

  constructor (value: unknown) {
    super(`"${String(value)}" is not a TCP port: expected a whole number from 0 to 65535`)
    this.name = 'InvalidWebPortError'
  }
}

/** A request the page's API refuses; `status` is the HTTP status it is answered with. */
export class WebRequestError extends Error {
  static override name = 'WebRequestError'
  readonly status: number

  constructor (status: number, message: string) {
    super(message)
    this.name = 'WebRequestError'
    this.status = status
  }
}
