/**
 * Errors raised by the store. Code and tests match on `.name`.
 */

export { InvalidCidError, InvalidBlockError, BlockHashMismatchError, UnsafePathError, TreeLimitError } from '../content/errors.js'

export class BlockNotFoundError extends Error {
  static override name = 'BlockNotFoundError'
  readonly cid: string

  constructor (cid: string) {
    super(`block ${cid} is not in the store; fetch it from a peer first`)
    this.name = 'BlockNotFoundError'
    this.cid = cid
  }
}

export class CorruptBlockError extends Error {
  static override name = 'CorruptBlockError'
  readonly cid: string

  constructor (cid: string) {
    super(`block ${cid} is corrupt on disk (its bytes do not hash to its CID); it was moved aside and must be fetched again`)
    this.name = 'CorruptBlockError'
    this.cid = cid
  }
}

export class RecordNotFoundError extends Error {
  static override name = 'RecordNotFoundError'
  readonly cid: string

  constructor (cid: string) {
    super(`no file with CID ${cid} is in the store; see the list of files, or import or fetch it first`)
    this.name = 'RecordNotFoundError'
    this.cid = cid
  }
}

export class NotAFileError extends Error {
  static override name = 'NotAFileError'
  readonly cid: string

  constructor (cid: string, type: string) {
    super(`${cid} is a UnixFS ${type}, not a file; the store keeps files and folders only`)
    this.name = 'NotAFileError'
    this.cid = cid
  }
}

export class InvalidRangeError extends Error {
  static override name = 'InvalidRangeError'

  constructor (reason: string) {
    super(`invalid byte range: ${reason}`)
    this.name = 'InvalidRangeError'
  }
}

export class ImportSourceError extends Error {
  static override name = 'ImportSourceError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`cannot import ${path}: ${reason}`)
    this.name = 'ImportSourceError'
    this.path = path
  }
}

export class ExportError extends Error {
  static override name = 'ExportError'
  readonly path: string
  readonly code?: string

  constructor (path: string, reason: string, code?: string) {
    super(`cannot write ${path}: ${reason}; nothing was written there. Pick a folder that exists and that you can write to`)
    this.name = 'ExportError'
    this.path = path
    if (code != null) this.code = code
  }
}

export class DestinationExistsError extends Error {
  static override name = 'DestinationExistsError'
  readonly path: string

  constructor (path: string) {
    super(`${path} already exists; remove it, pick another name, or allow overwriting`)
    this.name = 'DestinationExistsError'
    this.path = path
  }
}

export class NoSpaceError extends Error {
  static override name = 'NoSpaceError'
  readonly path: string
  readonly code: string
  /** The file being stored when the disk filled up, when known. */
  readonly file?: string

  /** `what.file`: the file being stored (named instead of a block's path); `what.kept`: what was kept of it. */
  constructor (path: string, code = 'ENOSPC', what: { file?: string, kept?: string } = {}) {
    super(what.file != null
      ? `the disk holding the store ${path} is full (${code}) while storing ${what.file}; ${what.kept ?? 'nothing partial was kept'}. Free some space (\`swarmdrop gc\` drops unneeded blocks) and try again`
      : `the disk holding ${path} is full (${code}); the write that failed left nothing behind, and what was stored before is kept. Free some space (\`swarmdrop gc\` drops unneeded blocks) and try again`)
    this.name = 'NoSpaceError'
    this.path = path
    this.code = code
    if (what.file != null) this.file = what.file
  }
}

export class StoreIOError extends Error {
  static override name = 'StoreIOError'
  readonly path: string
  readonly code?: string

  constructor (path: string, op: string, cause: unknown) {
    const code = (cause as { code?: string } | undefined)?.code
    super(`cannot ${op} ${path} (${code ?? (cause as Error | undefined)?.message ?? String(cause)})`, { cause })
    this.name = 'StoreIOError'
    this.path = path
    if (code != null) this.code = code
  }
}

/**
 * An fsync of block files failed. What they hold may not be on the disk, and a second fsync would
 * not say so: Linux reports a failed writeback once and marks the pages clean ("fsyncgate"). So the
 * store takes no more blocks until it is opened again, and that open checks every block written
 * since (journal.ts).
 */
export class SyncFailedError extends Error {
  readonly path: string
  readonly code?: string

  constructor (path: string, cause: unknown) {
    const code = (cause as { code?: string } | undefined)?.code
    const why = code ?? (cause as Error | undefined)?.message ?? String(cause)
    const full = isNoSpace(cause) ? ' (the disk is full)' : ''
    super(`the disk did not make the blocks written to ${path} durable (${why})${full}; this store takes no more blocks until it is opened again (restart the node), and then it checks every block written since. Check the disk first`, { cause })
    this.name = 'SyncFailedError'
    this.path = path
    if (code != null) this.code = code
  }
}

export class StoreClosedError extends Error {
  static override name = 'StoreClosedError'

  constructor () {
    super('the store is closed')
    this.name = 'StoreClosedError'
  }
}

export class StoreVersionError extends Error {
  static override name = 'StoreVersionError'
  readonly path: string

  constructor (path: string, found: string) {
    super(`the store at ${path} has layout version "${found}", which this swarmdrop does not know; upgrade swarmdrop or use another repository`)
    this.name = 'StoreVersionError'
    this.path = path
  }
}

export class ReferenceChangedError extends Error {
  static override name = 'ReferenceChangedError'
  readonly path: string
  readonly cid: string

  constructor (path: string, cid: string) {
    super(`${path} changed since it was shared as ${cid}; it is no longer served. Share it again (\`swarmdrop share ${path}\`) to serve what it holds now`)
    this.name = 'ReferenceChangedError'
    this.path = path
    this.cid = cid
  }
}

export class ReferenceMissingError extends Error {
  static override name = 'ReferenceMissingError'
  readonly path: string
  readonly cid: string

  constructor (path: string, cid: string) {
    super(`${path}, shared as ${cid}, is gone; it is no longer served. Put it back, or remove the record (\`swarmdrop rm ${cid}\`)`)
    this.name = 'ReferenceMissingError'
    this.path = path
    this.cid = cid
  }
}

export class NotByReferenceError extends Error {
  static override name = 'NotByReferenceError'

  constructor (reason: string) {
    super(`cannot keep this file by reference: ${reason}`)
    this.name = 'NotByReferenceError'
  }
}

function isNoSpace (err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

/** Wraps a file-system failure in a named error (disk full → NoSpaceError); named errors and aborts pass through. */
export function fsError (err: unknown, path: string, op: string): Error {
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) return err
  if (isNoSpace(err)) return new NoSpaceError(path, (err as { code: string }).code)
  if (err instanceof Error && NAMED.has(err.name)) return err
  return new StoreIOError(path, op, err)
}

const NAMED = new Set([
  'InvalidCidError', 'BlockNotFoundError', 'CorruptBlockError', 'BlockHashMismatchError', 'InvalidBlockError',
  'RecordNotFoundError', 'NotAFileError', 'InvalidRangeError', 'ImportSourceError', 'ExportError', 'DestinationExistsError',
  'NoSpaceError', 'StoreIOError', 'SyncFailedError', 'StoreClosedError', 'StoreVersionError',
  'UnsafePathError', 'TreeLimitError', 'ReferenceChangedError', 'ReferenceMissingError', 'NotByReferenceError'
])
