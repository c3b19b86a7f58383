/**
 * Errors shared by several layers. Code and tests match on `.name`.
 */

export class RepoError extends Error {
  static override name = 'RepoError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`the repository ${path} cannot be used: ${reason}`)
    this.name = 'RepoError'
    this.path = path
  }
}

export class NotStartedError extends Error {
  static override name = 'NotStartedError'

  constructor (what = 'the node') {
    super(`${what} is not started`)
    this.name = 'NotStartedError'
  }
}
