/**
 * Private swarms: every connection wrapped in a pre-shared-key cipher
 * (@libp2p/pnet, kubo's key format), plus a check that names the failure.
 *
 * With a wrong key (or none) the other side's bytes decrypt to noise and
 * libp2p fails somewhere in the Noise handshake with a generic error. Every
 * libp2p connection starts with the multistream-select header in both
 * directions, so the protector looks at the first bytes after decryption
 * (or, on a node without a key, the first bytes received): anything else
 * means the two peers do not share a swarm key, and it says so in the log
 * ("swarm key mismatch") and closes the connection.
 */
import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionProtector, MultiaddrConnection } from '@libp2p/interface'
import { createLogger } from '../util/logger.js'

/** varint(19) + "/multistream/1.0.0\n": the first bytes of any libp2p connection, both ways. */
const MULTISTREAM_HEADER = new TextEncoder().encode('\x13/multistream/1.0.0\n')

export class SwarmKeyMismatchError extends Error {
  static override name = 'SwarmKeyMismatchError'
  readonly remoteAddr: string

  constructor (remoteAddr: string, hasKey: boolean) {
    super(hasKey
      ? `swarm key mismatch: the peer at ${remoteAddr} does not use this node's swarm key`
      : `swarm key mismatch: the peer at ${remoteAddr} is in a private swarm (it uses a swarm key) and this node has none`)
    this.name = 'SwarmKeyMismatchError'
    this.remoteAddr = remoteAddr
  }
}

const log = createLogger('network:pnet')

/** A swarm-key mismatch as the layers above see it: which side, the other side's address, one line. */
export interface SwarmKeyMismatch {
  /** `outbound`: this node dialled `addr`; `inbound`: a peer at `addr` dialled this node. */
  direction: 'inbound' | 'outbound'
  addr: string
  message: string
}

export type MismatchListener = (mismatch: SwarmKeyMismatch) => void

/** The line a user reads; both sides say "different swarm key". */
export function mismatchMessage (direction: 'inbound' | 'outbound', addr: string, hasKey: boolean): string {
  return direction === 'outbound'
    ? `the peer at ${addr} refused the connection: it uses a different swarm key${hasKey ? ' (or none)' : ' (this node has none)'}`
    : `a peer at ${addr} tried to connect with a different swarm key${hasKey ? ' (or none)' : ' (this node has none)'}`
}

/** Where the libp2p upgrader came from: an outbound dial's options carry the upgrader, an inbound upgrade's only a signal. */
function directionOf (options: unknown): 'inbound' | 'outbound' {
  return options != null && typeof options === 'object' && 'upgrader' in options ? 'outbound' : 'inbound'
}

function checkFirstBytes (conn: MultiaddrConnection, hasKey: boolean, report: (hasKey: boolean) => void): MultiaddrConnection {
  const source = conn.source
  let checked = 0
  async function * inspected (): AsyncGenerator<any> {
    for await (const chunk of source) {
      if (checked < MULTISTREAM_HEADER.length) {
        const bytes: Uint8Array = chunk instanceof Uint8Array ? chunk : chunk.subarray()
        for (let i = 0; i < bytes.length && checked < MULTISTREAM_HEADER.length; i++, checked++) {
          if (bytes[i] !== MULTISTREAM_HEADER[checked]) {
            const err = new SwarmKeyMismatchError(conn.remoteAddr.toString(), hasKey)
            log.error('%s', err.message)
            report(hasKey)
            throw err
          }
        }
      }
      yield chunk
    }
    if (hasKey && checked < MULTISTREAM_HEADER.length) {
      // our handshake bytes went out and the peer hung up without a word: it could not decrypt them
      log.error('swarm key mismatch: the peer at %s closed the connection after the private-swarm handshake (it uses another swarm key)', conn.remoteAddr.toString())
      report(hasKey)
    }
  }
  return { ...conn, source: inspected() }
}

/** The connection protector for a node: pnet with the key, or a plain check without one; `onMismatch` hears each mismatch. */
export function swarmProtector (swarmKey: Uint8Array | undefined, onMismatch: MismatchListener = () => {}): (components: any) => ConnectionProtector {
  return (components) => {
    const pnet = swarmKey != null ? preSharedKey({ psk: swarmKey })(components) : undefined
    const hasKey = pnet != null
    return {
      async protect (conn, options) {
        const direction = directionOf(options)
        // an inbound peer is known by its IP only (its port is ephemeral); an outbound one by the address dialled
        const addr = direction === 'inbound' ? hostOf(conn.remoteAddr.toString()) : conn.remoteAddr.toString()
        const report = (): void => { onMismatch({ direction, addr, message: mismatchMessage(direction, addr, hasKey) }) }
        if (pnet == null) return checkFirstBytes(conn, false, report)
        let protectedConn: MultiaddrConnection
        try {
          protectedConn = await pnet.protect(conn, options)
        } catch (err: any) {
          log.error('swarm key mismatch? the private-swarm handshake with %s failed (the peer may have no swarm key): %s', conn.remoteAddr.toString(), err.message)
          report()
          throw err
        }
        return checkFirstBytes(protectedConn, true, report)
      }
    }
  }
}

/** `/ip4/1.2.3.4/tcp/5` → `1.2.3.4`. */
function hostOf (addr: string): string {
  const parts = addr.split('/')
  return parts.length > 2 ? parts[2] ?? addr : addr
}
