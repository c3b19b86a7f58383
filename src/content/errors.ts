/**
 * Errors of the content profile. Code and tests match on `.name`.
 */

export class InvalidCidError extends Error {
  static override name = 'InvalidCidError'
  readonly value: string

  constructor (value: string, reason: string) {
    super(`"${value.length > 120 ? value.slice(0, 117) + '...' : value}" is not a CID swarmdrop can use: ${reason}. Expected a base32 CIDv1 such as bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku`)
    this.name = 'InvalidCidError'
    this.value = value
  }
}

export class InvalidBlockError extends Error {
  static override name = 'InvalidBlockError'
  readonly cid: string

  constructor (cid: string, reason: string) {
    super(`block ${cid} is not acceptable: ${reason}; nothing was stored`)
    this.name = 'InvalidBlockError'
    this.cid = cid
  }
}

export class BlockHashMismatchError extends Error {
  static override name = 'BlockHashMismatchError'
  readonly cid: string

  constructor (cid: string) {
    super(`the bytes given for block ${cid} do not hash to that CID; nothing was stored`)
    this.name = 'BlockHashMismatchError'
    this.cid = cid
  }
}
