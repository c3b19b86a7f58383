/**
 * Errors raised by the transfer layer. Code and tests match on `.name`.
 */

/** No provider had the CID before the timeout (none was found, or none of them answered HAVE). */
export class NotFoundInSwarmError extends Error {
  static override name = 'NotFoundInSwarmError'
  readonly cid: string

  constructor (cid: string, timeout: number, providers: number) {
    super(providers === 0
      ? `no peer in the swarm provides ${cid} (waited ${timeout} ms); check the CID, or wait until a peer that has it is online`
      : `none of the ${providers} peer(s) asked has ${cid} (waited ${timeout} ms); check the CID, or wait until a peer that has it is online`)
    this.name = 'NotFoundInSwarmError'
    this.cid = cid
  }
}

/** The download started but no block arrived for `timeout` ms. */
export class TransferTimeoutError extends Error {
  static override name = 'TransferTimeoutError'
  readonly cid: string
  readonly missing: number

  constructor (cid: string, timeout: number, missing: number) {
    super(`fetching ${cid} stalled: no block arrived for ${timeout} ms and ${missing} block(s) are still missing; the blocks received so far are kept, run the fetch again to resume`)
    this.name = 'TransferTimeoutError'
    this.cid = cid
    this.missing = missing
  }
}

/** A CID the transfer cannot verify or walk (unknown hash function or codec). */
export class UnsupportedCidError extends Error {
  static override name = 'UnsupportedCidError'
  readonly cid: string

  constructor (cid: string, reason: string) {
    super(`cannot fetch ${cid}: ${reason}`)
    this.name = 'UnsupportedCidError'
    this.cid = cid
  }
}

/** The string is not a CID. */
export class InvalidCidError extends Error {
  static override name = 'InvalidCidError'
  readonly value: string

  constructor (value: string) {
    super(`"${value}" is not a valid CID; expected e.g. bafkrei… or bafybei…`)
    this.name = 'InvalidCidError'
    this.value = value
  }
}

/** A block whose bytes do not hash to its CID (the peer that sent it is dropped). */
export class InvalidBlockError extends Error {
  static override name = 'InvalidBlockError'
  readonly cid: string
  readonly peer: string

  constructor (cid: string, peer: string) {
    super(`peer ${peer} sent bytes for ${cid} that do not hash to it`)
    this.name = 'InvalidBlockError'
    this.cid = cid
    this.peer = peer
  }
}

/** A peer broke the block exchange framing (unknown frame, truncated CID, oversized frame). */
export class ProtocolError extends Error {
  static override name = 'ProtocolError'

  constructor (reason: string) {
    super(`block exchange protocol violation: ${reason}`)
    this.name = 'ProtocolError'
  }
}

/** fetch() was called on a transfer that is not started (or was stopped during the fetch). */
export class TransferNotStartedError extends Error {
  static override name = 'TransferNotStartedError'

  constructor () {
    super('the transfer service is not started; start the node first')
    this.name = 'TransferNotStartedError'
  }
}
