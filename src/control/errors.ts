/**
 * Errors of the control API. The server answers a failed request with the
 * error's name and message; the client turns the names below back into these
 * classes, and any other error of the node into a RemoteError.
 */
import { CONTROL_VERSION } from './contract.js'

/** The request line is not a JSON object with a string `method`. */
export class MalformedRequestError extends Error {
  static override name = 'MalformedRequestError'

  constructor (reason: string) {
    super(`malformed control request: ${reason}`)
    this.name = 'MalformedRequestError'
  }
}

/** The request line is longer than MAX_REQUEST_BYTES. */
export class RequestTooLargeError extends Error {
  static override name = 'RequestTooLargeError'

  constructor (message = 'request too large') {
    super(message)
    this.name = 'RequestTooLargeError'
  }
}

/** The request's protocol version `v` is not this node's. */
export class UnsupportedVersionError extends Error {
  static override name = 'UnsupportedVersionError'
  readonly version: unknown

  constructor (version: unknown, message?: string) {
    super(message ?? `the node speaks control protocol version ${CONTROL_VERSION}, the request has ${JSON.stringify(version) ?? 'none'}; use a swarmdrop of the node's version`)
    this.name = 'UnsupportedVersionError'
    this.version = version
  }
}

/** The node has no such method. */
export class UnknownMethodError extends Error {
  static override name = 'UnknownMethodError'

  constructor (method: string, message?: string) {
    super(message ?? `the node does not know the request "${method}"; is it an older swarmdrop? Restart it with this version`)
    this.name = 'UnknownMethodError'
  }
}

/** The params do not match the method's schema (a missing, unknown or mistyped field). */
export class InvalidParamsError extends Error {
  static override name = 'InvalidParamsError'

  constructor (method: string, reason: string, message?: string) {
    super(message ?? `invalid params for "${method}": ${reason}`)
    this.name = 'InvalidParamsError'
  }
}

/** No node answers on the repository's control socket. */
export class NoNodeError extends Error {
  static override name = 'NoNodeError'
  readonly repo: string

  constructor (repo: string, detail?: string) {
    super(`no swarmdrop node is running on the repository ${repo}${detail != null ? ` (${detail})` : ''}; start one with \`swarmdrop start --repo ${repo}\` (or pass the right --repo)`)
    this.name = 'NoNodeError'
    this.repo = repo
  }
}

/** The node sent something that is not a control reply, or hung up before answering. */
export class ControlConnectionError extends Error {
  static override name = 'ControlConnectionError'

  constructor (message: string) {
    super(message)
    this.name = 'ControlConnectionError'
  }
}

/** The node failed the request: carries the node's error name (e.g. InvalidCidError). */
export class RemoteError extends Error {
  static override name = 'RemoteError'
  readonly remoteName: string
  /** The node's advice in the command line's terms (src/node/errors.ts), when it gave one. */
  readonly cliMessage?: string

  constructor (remoteName: string, message: string, cliMessage?: string) {
    super(message)
    this.name = 'RemoteError'
    this.remoteName = remoteName
    if (cliMessage != null) this.cliMessage = cliMessage
  }
}
