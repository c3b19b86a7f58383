/** Errors of the pubsub protocol. Code and tests match on `.name`. */

export class InvalidSwarmNameError extends Error {
  static override name = 'InvalidSwarmNameError'
  readonly value: string

  constructor (value: string) {
    super(`"${value}" is not a valid swarm name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`)
    this.name = 'InvalidSwarmNameError'
    this.value = value
  }
}

/** A file given to announce()/have()/withdraw()/want() breaks a protocol rule (bad CID, name too long, ...). */
export class InvalidFileError extends Error {
  static override name = 'InvalidFileError'
  readonly reason: string

  constructor (reason: string) {
    super(`cannot announce this file: ${reason}`)
    this.name = 'InvalidFileError'
    this.reason = reason
  }
}

/** An option of createSwarmProtocol() is out of range. */
export class InvalidProtocolOptionError extends Error {
  static override name = 'InvalidProtocolOptionError'
  readonly option: string

  constructor (option: string, reason: string) {
    super(`invalid pubsub option ${option}: ${reason}`)
    this.name = 'InvalidProtocolOptionError'
    this.option = option
  }
}

/** The protocol (or the network under it) is not started. */
export class ProtocolNotStartedError extends Error {
  static override name = 'ProtocolNotStartedError'

  constructor () {
    super('the swarm protocol is not started: start the node first')
    this.name = 'ProtocolNotStartedError'
  }
}
