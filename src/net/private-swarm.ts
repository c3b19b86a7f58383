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

function checkFirstBytes (conn: MultiaddrConnection, hasKey: boolean): MultiaddrConnection {
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
            throw err
          }
        }
      }
      yield chunk
    }
    if (hasKey && checked < MULTISTREAM_HEADER.length) {
      // our handshake bytes went out and the peer hung up without a word: it could not decrypt them
      log.error('swarm key mismatch: the peer at %s closed the connection after the private-swarm handshake (it uses another swarm key)', conn.remoteAddr.toString())
    }
  }
  return { ...conn, source: inspected() }
}

/** The connection protector for a node: pnet with the key, or a plain check without one. */
export function swarmProtector (swarmKey: Uint8Array | undefined): (components: any) => ConnectionProtector {
  return (components) => {
    const pnet = swarmKey != null ? preSharedKey({ psk: swarmKey })(components) : undefined
    return {
      async protect (conn, options) {
        if (pnet == null) return checkFirstBytes(conn, false)
        let protectedConn: MultiaddrConnection
        try {
          protectedConn = await pnet.protect(conn, options)
        } catch (err: any) {
          log.error('swarm key mismatch? the private-swarm handshake with %s failed (the peer may have no swarm key): %s', conn.remoteAddr.toString(), err.message)
          throw err
        }
        return checkFirstBytes(protectedConn, true)
      }
    }
  }
}
