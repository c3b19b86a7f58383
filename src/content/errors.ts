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

/**
 * A name inside a folder (a file on disk being shared, or a link of a UnixFS
 * directory being fetched) that could leave its folder or is not a plain name.
 */
export class UnsafePathError extends Error {
  static override name = 'UnsafePathError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`unsafe name ${JSON.stringify(path.length > 200 ? path.slice(0, 197) + '...' : path)}: ${reason}; nothing was written under it`)
    this.name = 'UnsafePathError'
    this.path = path
  }
}

/** A folder deeper or larger than the limits of the content profile (MAX_TREE_DEPTH, MAX_TREE_ENTRIES). */
export class TreeLimitError extends Error {
  static override name = 'TreeLimitError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`${path}: ${reason}`)
    this.name = 'TreeLimitError'
    this.path = path
  }
}
