/**
 * Named limits and timing of the pubsub protocol (docs/PROTOCOL.md quotes
 * these values; change both together).
 */

/** "Validators reject messages larger than 64 KiB" (PROTOCOL.md, Validation). */
export const MAX_MESSAGE_BYTES = 64 * 1024

/** Catalog answers and announce batches are cut into messages of at most this many bytes, leaving room under the cap. */
export const MAX_BATCH_BYTES = 60 * 1024

/** "A media type is `type/subtype` with optional parameters, at most 255 bytes of printable ASCII." */
export const MAX_MEDIA_TYPE_BYTES = 255

/** "A request id is 8 to 32 random bytes." We send 8. */
export const MIN_REQUEST_ID_BYTES = 8
export const MAX_REQUEST_ID_BYTES = 32
export const REQUEST_ID_BYTES = 8

/** "An announce or withdraw lists 1 to 1024 files; a catalog answer 1 to 1024 records of 1 to 64 providers each." */
export const MAX_FILES_PER_MESSAGE = 1024
export const MAX_PROVIDERS_PER_RECORD = 64

/** Media type used when a caller gives none. */
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream'

// --- timing ---

/** After the first peer subscribes, wait this long (more connections land) before hello, catalog request and own files. */
export const JOIN_DELAY_MS = 50

/**
 * The responder a catalog request names answers at once. Every other node waits
 * CATALOG_FALLBACK_DELAY_MS (none when no responder is named) plus a uniform random
 * delay in [0, CATALOG_ANSWER_WINDOW_MS], then sends only what the answers it heard left out.
 */
export const CATALOG_FALLBACK_DELAY_MS = 250
export const CATALOG_ANSWER_WINDOW_MS = 400

/** With no answer heard this long after a catalog request, the newcomer asks again, at most CATALOG_RETRIES times. */
export const CATALOG_RETRY_MS = 1_000
export const CATALOG_RETRIES = 2

/** Own files are re-announced every interval × uniform(1 − jitter, 1 + jitter). */
export const REANNOUNCE_INTERVAL_MS = 20_000
export const REANNOUNCE_JITTER = 0.25

/** A provider not heard from for this long (about three missed re-announces) leaves the catalog. */
export const PROVIDER_TTL_MS = 90_000

/** Expiry sweeps run every min(this, ttl / 4). */
export const SWEEP_INTERVAL_MS = 1_000

/** want(): give up (resolve with no providers) after this long. */
export const WANT_TIMEOUT_MS = 5_000

/** want(): after the first provider answers, wait this long for others before resolving. */
export const WANT_SETTLE_MS = 50

/** A provider answers a want after a uniform random delay in [0, this]... */
export const WANT_ANSWER_WINDOW_MS = 50

/** ...and stays silent if this many complete providers already answered that request. */
export const WANT_ENOUGH_ANSWERS = 3

// --- limits against abuse (issue 7 tunes these) ---

/**
 * Score penalty (gossipsub app-specific component, no decay) for each rejected message, charged to the
 * peer that delivered it: the one whose RPCs gossipsub graylists (below −80). 30 makes three rejected
 * messages graylist a peer on any mix of the swarm's two topics (3 × −30 = −90), where gossipsub's own
 * invalid-delivery score is per topic (2 on one topic and 1 on the other gave only −50).
 */
export const INVALID_MESSAGE_PENALTY = 30

/**
 * Requests are rate-limited per signer with token buckets (refilled at RATE per second, holding at most BURST):
 * over the limit, a request is ignored (neither relayed nor answered). A newcomer's request and its retries fit the burst.
 */
export const CATALOG_REQUEST_RATE_PER_S = 1
export const CATALOG_REQUEST_BURST = 3

export const WANT_RATE_PER_S = 20
export const WANT_BURST = 40

/**
 * The same requests are also limited per delivering peer (the connection they came on: a peer
 * that mints signers still has one connection) and for the node as a whole, so that neither
 * many signers on one connection nor many connections multiply what the node takes in. A relay
 * forwards for many signers, hence more room than per signer.
 */
export const CATALOG_REQUEST_RATE_PER_PEER_S = 4
export const CATALOG_REQUEST_BURST_PER_PEER = 12
export const WANT_RATE_PER_PEER_S = 50
export const WANT_BURST_PER_PEER = 100
export const CATALOG_REQUEST_RATE_TOTAL_S = 10
export const CATALOG_REQUEST_BURST_TOTAL = 30
export const WANT_RATE_TOTAL_S = 100
export const WANT_BURST_TOTAL = 200

/**
 * Bytes of messages on the announce topic (announce, withdraw, have, hello, catalog answer) this node
 * decodes, per delivering peer and for the node as a whole (token buckets: a message is decoded only while
 * both hold its size, and a valid one is charged it; decoding costs about 0.5-0.8 µs per byte of a
 * 1,024-CID Withdraw, so these bound the CPU a flood of valid messages from minted signers costs).
 * Otherwise a message is ignored (neither decoded, handled nor relayed). Invalid messages are not
 * charged: they are rejected and penalised, and three graylist their deliverer. The per-peer rate matches what a catalog answerer sends
 * (CATALOG_ANSWER_BYTES_PER_S); the bursts hold a large node's re-announcement (10,000 files ≈ 0.6 MiB).
 */
export const ANNOUNCE_BYTES_PER_PEER_S = 256 * 1024
export const ANNOUNCE_BURST_BYTES_PER_PEER = 1024 * 1024
export const ANNOUNCE_BYTES_TOTAL_S = 512 * 1024
export const ANNOUNCE_BURST_BYTES_TOTAL = 4 * 1024 * 1024

/** Haves this node publishes to answer Wants, in total: at most this many a second (burst: twice). */
export const WANT_ANSWERS_PER_S = 20

/**
 * Bytes of catalog answers this node publishes, in total: at most this many a second, with a
 * burst of CATALOG_ANSWER_BURST_BYTES; an answer that does not fit is cut (the newcomer's retries
 * and the other peers' fallback answers fill the gap).
 */
export const CATALOG_ANSWER_BYTES_PER_S = 256 * 1024
export const CATALOG_ANSWER_BURST_BYTES = 1024 * 1024

/** At most this many files are listed for one provider; more announcements from it are dropped. */
export const MAX_FILES_PER_PROVIDER = 10_000

/** At most this many providers are kept per file. */
export const MAX_PROVIDERS_PER_FILE = 256

/** At most this many CIDs known only from have (no metadata yet). */
export const MAX_ORPHAN_CIDS = 1_024

/** At most this many catalog requests are waiting for their answer timer at once. */
export const MAX_PENDING_ANSWERS = 32

/** At most this many peers have a rate-limit bucket; idle buckets are dropped first. */
export const MAX_RATE_LIMITED_PEERS = 4_096

// --- presence (Hello) ---

/** A node publishes at most one Hello per this interval, however many peers subscribe or say hello. */
export const HELLO_MIN_INTERVAL_MS = 1_000

/** Nicknames remembered (to tell a stranger's first Hello from a repeat); the least recently heard dropped first. */
export const MAX_HELLO_PEERS = 4_096

// --- the catalog as a whole (identities are free: these do not grow with their number) ---

/**
 * The catalog holds at most this many (file, provider) pairs and this many bytes (as budget.ts
 * estimates them); past either, whole providers are evicted down to 90 %: those known only from
 * reports first, then those not connected, then the most recently met.
 */
export const MAX_CATALOG_PAIRS = 50_000
export const MAX_CATALOG_BYTES = 16 * 1024 * 1024

/** Differing metadata recorded per file (other providers' own announcements); more are not recorded. */
export const MAX_CONFLICTS_PER_FILE = 8

/** Withdrawals are remembered this long (and at most MAX_TOMBSTONES), so a replayed announcement older than the withdrawal is refused. */
export const TOMBSTONE_KEEP_MS = 10 * 60_000
export const MAX_TOMBSTONES = 10_000
