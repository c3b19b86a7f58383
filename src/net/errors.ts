/**
 * Errors raised by the network adapter. Code and tests match on `.name`.
 */

export class InvalidIdentityError extends Error {
  static override name = 'InvalidIdentityError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`the identity key file ${path} is unusable: ${reason}. Move it away to create a new identity (the node's peer id will change), or restore it from a backup`)
    this.name = 'InvalidIdentityError'
    this.path = path
  }
}

export class InvalidMultiaddrError extends Error {
  static override name = 'InvalidMultiaddrError'
  readonly value: string

  constructor (value: string, reason?: string) {
    super(`"${value}" is not a valid multiaddr${reason != null ? ` (${reason})` : ''}; expected e.g. /ip4/127.0.0.1/tcp/4001`)
    this.name = 'InvalidMultiaddrError'
    this.value = value
  }
}

export class ListenError extends Error {
  static override name = 'ListenError'
  readonly addrs: string[]

  constructor (addrs: string[], reason: string) {
    super(`cannot listen on ${addrs.join(', ')}: ${reason}`)
    this.name = 'ListenError'
    this.addrs = addrs
  }
}

export class InvalidSwarmKeyError extends Error {
  static override name = 'InvalidSwarmKeyError'
  readonly path?: string
  /** What is wrong with the key, without the file name. */
  readonly reason: string

  constructor (reason: string, path?: string) {
    super(`${path != null ? `the swarm key file ${path}` : 'the swarm key'} is invalid: ${reason}. Expected the kubo format: /key/swarm/psk/1.0.0/, /base16/, 64 hex digits (make one with \`swarmdrop key gen\`)`)
    this.name = 'InvalidSwarmKeyError'
    this.reason = reason
    if (path != null) this.path = path
  }
}
