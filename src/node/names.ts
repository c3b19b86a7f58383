/** A node's nickname: cut to MAX_NAME_BYTES, carried in libp2p identify's agent string. */
import { VERSION } from '../version.js'
import { MAX_NAME_BYTES } from './constants.js'

const AGENT_PREFIX = 'swarmdrop/'

export function agentString (name: string): string {
  return `${AGENT_PREFIX}${VERSION} name=${encodeURIComponent(name)}`
}

export function nameFromAgent (agent: string | undefined): string | undefined {
  if (agent == null || !agent.startsWith(AGENT_PREFIX)) return undefined
  const m = / name=([^ ]*)/.exec(agent)
  if (m?.[1] == null) return undefined
  try {
    return truncateName(decodeURIComponent(m[1]))
  } catch {
    return undefined
  }
}

export function truncateName (name: string): string {
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.byteLength <= MAX_NAME_BYTES) return name
  // cut on a character boundary
  let out = ''
  for (const ch of name) {
    if (Buffer.byteLength(out + ch, 'utf8') > MAX_NAME_BYTES) break
    out += ch
  }
  return out
}
