/**
 * Errors raised by the node layer. Code and tests match on `.name`.
 */

export class RepoLockedError extends Error {
  static override name = 'RepoLockedError'
  readonly path: string
  readonly pid: number

  constructor (path: string, pid: number) {
    super(`the repository ${path} is in use by a running node (pid ${pid}); stop it first or use another --repo`)
    this.name = 'RepoLockedError'
    this.path = path
    this.pid = pid
  }
}

export class PathNotFoundError extends Error {
  static override name = 'PathNotFoundError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`cannot share ${path}: ${reason}`)
    this.name = 'PathNotFoundError'
    this.path = path
  }
}

export class NoPeersError extends Error {
  static override name = 'NoPeersError'
  /** Peers of the swarm awaited, and how many came. */
  readonly wanted: number
  readonly found: number

  constructor (wanted: number, found: number, ms: number) {
    super(`found ${found} of ${wanted} peer(s) of the swarm in ${Math.round(ms / 1000)} s`)
    this.name = 'NoPeersError'
    this.wanted = wanted
    this.found = found
  }
}

export class EncryptInputError extends Error {
  static override name = 'EncryptInputError'

  constructor () {
    super('an encrypted share needs a file path or the bytes themselves: its size goes into the encrypted header, so a stream of unknown length cannot be encrypted')
    this.name = 'EncryptInputError'
  }
}

export class ReservedTopicError extends Error {
  static override name = 'ReservedTopicError'
  readonly topic: string

  constructor (topic: string) {
    super(`topic "${topic}" is reserved for swarmdrop itself; pick a topic that does not start with /swarmdrop/`)
    this.name = 'ReservedTopicError'
    this.topic = topic
  }
}

/**
 * The errors below advise in the library's terms (`force`, `output`); `cliMessage` is the same
 * with the command line's flags (`--force`, `-o`), which the CLI prints instead.
 */
export class OutputExistsError extends Error {
  static override name = 'OutputExistsError'
  readonly path: string
  readonly cliMessage: string

  constructor (path: string) {
    super(`${path} already exists; nothing was fetched. Replace it with the force option, or write elsewhere with the output option`)
    this.name = 'OutputExistsError'
    this.path = path
    this.cliMessage = `${path} already exists; nothing was fetched. Replace it with --force, or write elsewhere with -o PATH`
  }
}

export class OutputFolderError extends Error {
  static override name = 'OutputFolderError'
  readonly path: string
  readonly code?: string
  readonly cliMessage: string

  /** `folder`: the problem is the folder itself (missing, not writable), named instead of the file. */
  constructor (path: string, reason: string, code?: string, folder?: string) {
    const advice = (cli: boolean): string => {
      const other = cli ? 'with -o FOLDER/' : 'as the output option (a path ending in /)'
      if (folder == null) return `cannot write ${path}: ${reason}; nothing was fetched. Pick a folder that exists and that you can write to ${cli ? '(-o FOLDER/)' : `(${other})`}`
      return `${reason}; nothing was fetched. ${code === 'ENOENT' || code === 'ENOTDIR' ? `Create it (mkdir -p ${folder}) or pick another folder ${other}` : `Pick a folder you can write to ${other}`}`
    }
    super(advice(false))
    this.name = 'OutputFolderError'
    this.path = path
    if (code != null) this.code = code
    this.cliMessage = advice(true)
  }
}

export class NotEnoughSpaceError extends Error {
  static override name = 'NotEnoughSpaceError'
  readonly path: string
  readonly needed: number
  readonly free: number
  readonly cliMessage: string

  constructor (path: string, needed: number, free: number) {
    const base = `not enough space for ${path}: the file needs ${needed} bytes, the disk has ${free} free; nothing was fetched. Free some space or write elsewhere`
    super(`${base} with the output option`)
    this.cliMessage = `${base} with -o PATH`
    this.name = 'NotEnoughSpaceError'
    this.path = path
    this.needed = needed
    this.free = free
  }
}

export class EncryptFolderError extends Error {
  static override name = 'EncryptFolderError'
  readonly path: string

  constructor (path: string) {
    super(`cannot encrypt ${path}: it is a folder, and encrypted shares are single files; share it unencrypted, or pack it (e.g. tar) and share the archive encrypted`)
    this.name = 'EncryptFolderError'
    this.path = path
  }
}

export class PathNotInFolderError extends Error {
  static override name = 'PathNotInFolderError'
  readonly cid: string
  readonly path: string

  constructor (cid: string, path: string, reason = 'it names nothing in the folder') {
    super(`${cid}/${path}: ${reason}; list the folder (e.g. in the web gateway) for the names it holds`)
    this.name = 'PathNotInFolderError'
    this.cid = cid
    this.path = path
  }
}

/**
 * The file's blocks declare more bytes than its announcement said: a DAG can link one block
 * many times (a "dedup bomb": a few KiB received, gigabytes written), so nothing is written.
 */
export class SizeMismatchError extends Error {
  static override name = 'SizeMismatchError'
  readonly cid: string
  readonly declared: number
  readonly announced: number

  constructor (cid: string, declared: number, announced: number, received: number) {
    super(`${cid}: its blocks describe ${declared} bytes but it was announced as ${announced} bytes (${received} bytes received): a peer lies about it; nothing was written. Its blocks stay in the store until \`swarmdrop rm ${cid}\``)
    this.name = 'SizeMismatchError'
    this.cid = cid
    this.declared = declared
    this.announced = announced
  }
}

/** Replication (`--max-store`): fetching a file would take the store over its limit; nothing of it was fetched. */
export class StoreLimitError extends Error {
  static override name = 'StoreLimitError'
  readonly cid: string

  constructor (name: string, cid: string, size: number, used: number, max: number) {
    super(`not replicating "${name}" (${cid}, ${size} bytes): the store holds ${used} bytes and may hold at most ${max} (--max-store); nothing of it was fetched. Free space with \`swarmdrop gc\` or raise --max-store`)
    this.name = 'StoreLimitError'
    this.cid = cid
  }
}
