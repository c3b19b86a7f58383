/**
 * The rule for names and nicknames announced in the swarm (docs/PROTOCOL.md): a module of its
 * own, with no dependency beyond the limits, so a share can check a file's name before reading it.
 */
import { MAX_FILE_NAME_BYTES } from '../content/constants.js'

const encoder = new TextEncoder()

export function utf8Length (s: string): number {
  return encoder.encode(s).byteLength
}

/**
 * Characters a name or nickname may not contain: C0 and C1 controls (U+0000–U+001F,
 * U+007F–U+009F, so U+0085 too), line and paragraph separators (U+2028, U+2029) and the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: U+202E
 * shows `gpj.sh` as `hs.jpg`). Joiners (U+200D, used by emoji) stay allowed.
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_NAMES = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

export function hasControlChar (s: string): boolean {
  return FORBIDDEN_IN_NAMES.test(s)
}

/** Checks a file name; returns a reason or undefined. */
export function checkFileName (name: string): string | undefined {
  if (name.length === 0) return 'the name is empty'
  if (utf8Length(name) > MAX_FILE_NAME_BYTES) return `the name is longer than ${MAX_FILE_NAME_BYTES} bytes`
  if (hasControlChar(name)) return 'the name contains control characters'
  return undefined
}
