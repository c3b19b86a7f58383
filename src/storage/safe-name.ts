/**
 * File names that come from records (and so, for downloads, from other
 * peers) are hostile until made safe. safeFileName() turns any string into
 * one plain file name that stays inside the folder it is joined to, on
 * Linux, macOS and Windows alike. The CLI uses it too.
 */
import { extname, join, resolve, dirname } from 'node:path'
import { MAX_FILE_NAME_BYTES } from '../content/constants.js'
import { DEFAULT_MEDIA_TYPE, FALLBACK_FILE_NAME } from './constants.js'

/** Windows device names, reserved with any extension and in any case (CON, con.txt, COM1.tar.gz). */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(\..*)?$/i

/**
 * Characters replaced by `_`: path separators, characters Windows forbids
 * (`<>:"|?*`), C0/C1 controls (NUL included), and the Unicode controls that
 * reorder or hide text (bidi overrides, zero-width, BOM) used to disguise
 * an extension (`exe.txt` shown for `txt.exe`).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[/\\<>:"|?*\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g

/**
 * One safe file name from any string.
 *
 * - separators, forbidden and control characters (NUL included) become `_`,
 *   so `../../x` is `___.._x` and `/etc/passwd` is `_etc_passwd`;
 * - trailing dots and spaces are dropped (Windows strips them), leading
 *   spaces too, and leading dots become `_` (no hidden files, never `.` or `..`);
 * - Windows device names (CON, nul.txt, COM1 …) get a `_` prefix;
 * - cut to 255 UTF-8 bytes on a character boundary, keeping a short extension;
 * - an empty result is `file`.
 */
export function safeFileName (name: string): string {
  let s = String(name).normalize('NFC').replace(UNSAFE_CHARS, '_')
  s = s.replace(/[. ]+$/u, '').replace(/^ +/u, '')
  s = s.replace(/^\.+/u, m => '_'.repeat(m.length))
  if (WINDOWS_RESERVED.test(s)) s = `_${s}`
  s = truncateUtf8(s, MAX_FILE_NAME_BYTES)
  s = s.replace(/[. ]+$/u, '')
  return s.length === 0 ? FALLBACK_FILE_NAME : s
}

/** Cuts a name to `max` UTF-8 bytes on a code point boundary, keeping an extension of at most 16 bytes. */
function truncateUtf8 (s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s
  const ext = extname(s)
  const keepExt = ext.length > 1 && Buffer.byteLength(ext, 'utf8') <= 16 ? ext : ''
  const stem = keepExt === '' ? s : s.slice(0, -keepExt.length)
  const budget = max - Buffer.byteLength(keepExt, 'utf8')
  let out = ''
  let used = 0
  for (const ch of stem) {
    const n = Buffer.byteLength(ch, 'utf8')
    if (used + n > budget) break
    out += ch
    used += n
  }
  return out + keepExt
}

/** Where a file named `name` (untrusted) goes inside `dir`: always a direct child of `dir`. */
export function exportPath (dir: string, name: string): string {
  const base = resolve(dir)
  const out = join(base, safeFileName(name))
  if (dirname(out) !== base) throw new Error(`unsafe file name ${JSON.stringify(name)}`)
  return out
}

/** Cuts a record name to `max` UTF-8 bytes (records stay small); other checks happen at export. */
export function clampName (name: string, max: number): string {
  const s = String(name)
  if (Buffer.byteLength(s, 'utf8') <= max) return s
  let out = ''
  let used = 0
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8')
    if (used + n > max) break
    out += ch
    used += n
  }
  return out
}

const MEDIA_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.csv': 'text/csv',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.xz': 'application/x-xz',
  '.7z': 'application/x-7z-compressed',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.iso': 'application/x-iso9660-image',
  '.wasm': 'application/wasm'
}

/** A media type guessed from the extension of `name`, else application/octet-stream. */
export function guessMediaType (name: string): string {
  return MEDIA_TYPES[extname(name).toLowerCase()] ?? DEFAULT_MEDIA_TYPE
}
