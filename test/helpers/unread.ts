/**
 * Bytes received on a network's streams and not yet read by their consumers: what a slow
 * reader holds in the muxer's buffers (ByteStream.unread, summed). Test-only access to the
 * network's private libp2p node.
 */
import type { Network } from '../../src/net/network.js'

/** Unread bytes over every stream of `network`, or of its connections to `peer` alone. */
export function unreadBytes (network: Network, peer?: string): number {
  let total = 0
  for (const c of (network as any).libp2p.getConnections()) {
    if (peer != null && c.remotePeer.toString() !== peer) continue
    for (const s of c.streams) total += s.sourceReadableLength?.() ?? 0
  }
  return total
}
