/** Named limits and defaults of the node layer. */

/** Listen on every interface, on a port the OS picks. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

/** After discovering a peer by mDNS, the node with the higher peer id waits this long for the other's dial before dialling itself. */
export const MDNS_YIELD_MS = 1000

/** Redial of lost bootstrap peers: first delay, cap, and jitter fraction. */
export const REDIAL_MIN_MS = 100
export const REDIAL_MAX_MS = 30_000
export const REDIAL_JITTER = 0.2

/** Name of the lock file that marks a repository in use by a live process. */
export const LOCK_FILE = 'node.lock'

/**
 * Peers that left and are still listed by `peers` (with their names), most recent first kept.
 * Identities are free: without a bound, 2,400 short-lived ones left 2,400 entries (issue 18).
 */
export const MAX_GONE_PEERS = 256

/** Nicknames kept (Hellos come from the whole swarm, not only connected peers); oldest of unconnected peers dropped first. */
export const MAX_NAMED_PEERS = 1024
