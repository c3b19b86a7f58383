/**
 * A file-system error code in words, for one-line messages: "permission denied (EACCES)"
 * instead of a bare code, and the step that usually fixes it.
 */

const WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'an input/output error (a failing disk or a network mount?)',
  EMFILE: 'too many open files',
  EROFS: 'a read-only file system',
  ENOSPC: 'no space left on the disk'
}

/** "permission denied (EACCES)"; an unknown code or a plain error keeps its own words. */
export function fsReason (err: any): string {
  const code: string | undefined = err?.code
  if (code != null && WORDS[code] != null) return `${WORDS[code]} (${code})`
  return String(code ?? err?.message ?? err)
}

/** The next step for a file that cannot be read, by error code (empty when there is no usual one). */
export function readFixHint (err: any, path: string): string {
  const code: string | undefined = err?.code
  if (code === 'EACCES' || code === 'EPERM') return `; give yourself read access (chmod u+r '${path}') or run as its owner`
  if (code === 'ENOENT') return '; check the path'
  return ''
}
