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
