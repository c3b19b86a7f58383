/** A node's nickname (cut to MAX_NAME_BYTES, sent in the swarm protocol's Hello) and the identify agent string. */
import { VERSION } from '../version.js'
import { MAX_NICKNAME_BYTES as MAX_NAME_BYTES } from '../content/constants.js'

const AGENT_PREFIX = 'swarmdrop/'

/**
 * The identify agent string: `swarmdrop/<version>` and nothing else. The nickname travels in the
 * swarm protocol's Hello (src/pubsub/presence.ts), to members of the swarm only; identify answers
 * anyone who connects, so it carries no name (issue 18: it leaked the host name).
 */
export function agentString (): string {
  return `${AGENT_PREFIX}${VERSION}`
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
