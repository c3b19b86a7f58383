/**
 * Errors raised by the network adapter. Code and tests match on `.name`.
 */

/** The identity key file is readable or writable by other users, or theirs. */
export class IdentityNotPrivateError extends Error {
  static override name = 'IdentityNotPrivateError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`the identity key file ${path} is not private: ${reason}`)
    this.name = 'IdentityNotPrivateError'
    this.path = path
  }
}

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

/**
 * A peer is reachable only through a circuit relay, and the relay closed the last relayed
 * connection at its limit (bytes or time per relayed connection). Not retried through that relay
 * for a while: the relay's operator set the limit so relays do not carry large transfers.
 */
export class RelayLimitError extends Error {
  static override name = 'RelayLimitError'
  readonly peer: string
  readonly relay: string
  readonly limitBytes?: number
  readonly limitSeconds?: number

  constructor (peer: string, relay: string, limit: { bytes?: number, seconds?: number }) {
    const what = [
      limit.bytes != null ? `${(limit.bytes / 1048576).toFixed(1)} MiB` : undefined,
      limit.seconds != null ? `${limit.seconds} s` : undefined
    ].filter(Boolean).join(' / ')
    super(`peer ${peer} is reachable only through relay ${relay}, which closed the relayed connection at its limit (${what} per relayed connection); no direct connection could be made (neither router lets the other laptop in), so ask the relay's operator for higher limits (--relay-max-bytes, --relay-max-seconds), or forward a port to one laptop and --announce it`)
    this.name = 'RelayLimitError'
    this.peer = peer
    this.relay = relay
    if (limit.bytes != null) this.limitBytes = limit.bytes
    if (limit.seconds != null) this.limitSeconds = limit.seconds
  }
}
