/**
 * The safe-path rules of folders, once: what a name inside a folder may be,
 * whether it is a file's name on disk being shared or a link name of a UnixFS
 * directory being fetched (untrusted: a peer built the DAG), and how a user's
 * `CID/sub/path` is split. A name that passes is one plain path segment: it
 * cannot leave the folder it is joined to.
 */
import { MAX_FILE_NAME_BYTES } from './constants.js'
import { UnsafePathError } from './errors.js'

/** Separators (both), C0/C1 controls (NUL included) and DEL. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\\u0000-\u001f\u007f-\u009f]/u

/** Why `name` is not a safe single path segment, or undefined when it is. */
export function unsafeNameReason (name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'it is empty'
  if (name === '.' || name === '..') return 'it names the folder itself or its parent'
  if (FORBIDDEN.test(name)) return 'it holds a path separator or a control character'
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) return `it is longer than ${MAX_FILE_NAME_BYTES} bytes`
  return undefined
}

/** Checks one name inside a folder; UnsafePathError (naming `where`, default the name) when it is not a plain segment. */
export function checkName (name: string, where: string = name): string {
  const reason = unsafeNameReason(name)
  if (reason != null) throw new UnsafePathError(where, reason)
  return name
}

/**
 * A path inside a folder as the user wrote it (`sub/file.txt`): split on `/`,
 * empty segments dropped (`a//b/` is `a/b`), each segment checked.
 */
export function parseSubPath (path: string): string[] {
  const segments = path.split('/').filter(s => s.length > 0)
  for (const s of segments) checkName(s, path)
  return segments
}

/** `CID/sub/path` split into the CID text and the path's segments (none for a bare CID). */
export function splitCidPath (target: string): { cid: string, path: string[] } {
  const text = target.trim().replace(/^\/?ipfs\//u, '')
  const slash = text.indexOf('/')
  if (slash < 0) return { cid: text, path: [] }
  return { cid: text.slice(0, slash), path: parseSubPath(text.slice(slash + 1)) }
}
