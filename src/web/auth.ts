/**
 * Who may talk to the web server, checked before anything else runs:
 *
 * - the Host header names a loopback address (`localhost`, `127.0.0.1`, `[::1]`): a
 *   DNS-rebinding page whose name now resolves to 127.0.0.1 still sends its own name;
 * - every page and API request carries the secret token (the `?token=` of the printed URL
 *   once, then an HttpOnly SameSite=Strict cookie, or `Authorization: Bearer`), as
 *   Jupyter's token and Syncthing's API key; the read-only gateway (`/ipfs/`) needs none;
 * - a state-changing request (not GET/HEAD) from a browser is same-origin: its `Origin`
 *   is this server, and `Sec-Fetch-Site` (when sent) is `same-origin`.
 *
 * The token lives in `<repo>/web-token` (mode 0600), made once and kept, so the URL stays
 * the same across restarts.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { IncomingMessage } from 'node:http'
import { writeFileAtomic } from '../util/atomic-write.js'

export const TOKEN_FILE = 'web-token'
const TOKEN_BYTES = 32
const TOKEN_RE = /^[A-Za-z0-9_-]{32,128}$/

/** The repository's web token: read from `<repo>/web-token`, or made (32 random bytes, base64url) and written 0600. */
export async function loadOrCreateToken (repo: string): Promise<string> {
  const path = join(repo, TOKEN_FILE)
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (TOKEN_RE.test(text)) {
      await chmod(path, 0o600)
      return text
    }
  } catch (err: any) {
    if (err?.code !== 'ENOENT') throw err
  }
  const token = randomBytes(TOKEN_BYTES).toString('base64url')
  await writeFileAtomic(path, Buffer.from(token + '\n'), { mode: 0o600 })
  return token
}

/** Host names a browser sends for this machine's loopback interface. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The host name of a Host header, without its port; lower case. */
export function hostName (host: string | undefined): string | undefined {
  if (host == null || host.length === 0) return undefined
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host.trim())
  return m?.[1]?.toLowerCase()
}

/** True when the Host header names a loopback address (or one of `extra`, e.g. a deliberately exposed address). */
export function isAllowedHost (host: string | undefined, extra: ReadonlySet<string> = new Set()): boolean {
  const name = hostName(host)
  if (name == null) return false
  return LOOPBACK_HOSTS.has(name) || /^127(\.\d{1,3}){3}$/.test(name) || name.endsWith('.localhost') || extra.has(name)
}

/** The cookie holding the token; the port is in its name because cookies do not tell ports apart. */
export function cookieName (port: number): string {
  return `swarmdrop_token_${port}`
}

function cookies (req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim())
  }
  return out
}

function same (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.byteLength === y.byteLength && timingSafeEqual(x, y)
}

/** Where the request's token came from, if it carries the right one. */
export function tokenOf (req: IncomingMessage, url: URL, token: string, port: number): 'query' | 'cookie' | 'header' | undefined {
  const q = url.searchParams.get('token')
  if (q != null && same(q, token)) return 'query'
  const c = cookies(req).get(cookieName(port))
  if (c != null && same(c, token)) return 'cookie'
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ') === true && same(auth.slice(7).trim(), token)) return 'header'
  return undefined
}

/**
 * Why a state-changing request is refused, or undefined when it is same-origin. A request
 * with neither Origin nor Sec-Fetch-Site is not from a browser (curl, scripts): the token
 * alone vouches for it, since no page can make a browser drop both headers on a POST.
 */
export function crossOriginReason (req: IncomingMessage): string | undefined {
  const origin = req.headers.origin
  const site = req.headers['sec-fetch-site']
  if (origin != null) {
    let o: URL
    try {
      o = new URL(origin)
    } catch {
      return `Origin "${origin}" is not a URL`
    }
    if (o.protocol !== 'http:' || o.host !== (req.headers.host ?? '').toLowerCase()) return `Origin ${origin} is not this page (http://${req.headers.host ?? ''})`
  }
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`
  return undefined
}

/** The Set-Cookie value that keeps the token for later requests of this page. */
export function tokenCookie (token: string, port: number): string {
  return `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`
}
