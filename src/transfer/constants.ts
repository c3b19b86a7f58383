/**
 * Limits and timings of the block exchange. docs/PROTOCOL.md (`## Block exchange`)
 * quotes the same values; change both together.
 */
// the constant alone (net/index.js would load libp2p with it)
import { MAX_STREAM_WINDOW_BYTES } from '../net/constants.js'

/** Protocol id negotiated on every block exchange stream. */
export const BLOCKS_PROTOCOL = '/swarmdrop/blocks/1.0.0'

/**
 * "A block is at most 2 MiB": the storage profile cuts files into 1 MiB raw leaves and
 * dag-pb nodes of at most 1024 links (~ 50 KiB), so 2 MiB leaves room and bounds memory.
 */
export const MAX_BLOCK_SIZE = 2 * 1024 * 1024

/** "A frame is at most MAX_BLOCK_SIZE plus 1 KiB of header"; longer frames abort the stream. */
export const MAX_FRAME_SIZE = MAX_BLOCK_SIZE + 1024

/**
 * "A CID list frame carries at most 1024 CIDs"; senders split longer lists, and a frame with
 * more aborts the stream (BlockProtocolError, PROTOCOL_VIOLATION_PENALTY).
 */
export const MAX_CIDS_PER_FRAME = 1024

/**
 * Longest CID of the content profile in binary: CIDv1 = version, codec (raw 0x55 or dag-pb
 * 0x70), sha2-256 code, digest length, 32-byte digest = 36 bytes (a CIDv0 is 34).
 */
export const MAX_CID_BYTES = 36

/** Longest CID list frame: the type byte and 1024 CIDs of 36 bytes, each after a 1-byte length. */
export const MAX_LIST_FRAME_SIZE = 1 + MAX_CIDS_PER_FRAME * (1 + MAX_CID_BYTES)

/** Expected size of a leaf (the storage profile's chunk size), used to turn rates into windows. */
export const CHUNK_SIZE = 1024 * 1024

/**
 * Peers whose bytes and blocks `stats()` keeps (`served.byPeer`, `received.byPeer`): the most
 * recently counted ones. One entry per peer ever met would grow for the life of the node.
 */
export const MAX_TALLIED_PEERS = 1024

// ---- serving side ----

/** Inbound block streams one peer may hold open at once (libp2p resets the excess). */
export const MAX_STREAMS_PER_PEER = 8

/** Serving streams that may be sending blocks at once; WANT_BLOCKs on further streams get BUSY. */
export const MAX_ACTIVE_STREAMS = 64

/** Block bytes read from the store and not yet handed to the muxer, per peer; excess waits. */
export const MAX_BYTES_IN_FLIGHT_PER_PEER = 8 * 1024 * 1024

/** Same, summed over every peer; excess waits. */
export const MAX_BYTES_IN_FLIGHT = 64 * 1024 * 1024

/**
 * Request bytes one peer's block streams may have received and not yet had read by the server,
 * summed over its streams; past it, its streams holding the most are reset (RequestBacklogError).
 * A stream's receive window does not bound them (ByteStream.unread): a peer that sends requests
 * faster than they are taken in, or keeps sending on streams whose answers it never reads, would
 * otherwise park up to two windows per stream (8 × 8 MiB) or, while they are read, without limit.
 * An honest fetcher's requests are want lists of 37 bytes per CID, sent as its walk finds them:
 * 8 MiB is about 226,000 CIDs, a 220 GiB file's every block asked at once.
 */
export const MAX_UNREAD_REQUEST_BYTES_PER_PEER = 2 * MAX_STREAM_WINDOW_BYTES

/** "A provider queues at most 256 wanted blocks per stream"; the excess is answered BUSY. */
export const MAX_QUEUED_PER_STREAM = 256

/**
 * Answer frames (HAVE, DONT_HAVE, BUSY; each at most 1024 CIDs, ~38 KB; lists of one type merge) waiting for a peer
 * that does not read them; at this many, its stream is not read until it takes some.
 */
export const MAX_CONTROL_FRAMES_PER_STREAM = 16

/**
 * Store blocks a server remembers having hashed (key and length, ~60 bytes each): read again
 * (for another peer, or after a stall) they are not hashed again.
 */
export const VERIFIED_CACHE_BLOCKS = 4096

/** Blocks a serving stream reads and verifies ahead of the one it is sending (within the byte budgets). */
export const READ_AHEAD = 4

/**
 * Remembered want-haves per stream (announced with HAVE when the block arrives later). Each is
 * a validated CID's 59-character key: at most ~1 MiB of keys per stream. The same cap bounds
 * the blocks a stream's super-seeding keeps hidden; beyond it they are revealed at once.
 */
export const MAX_HAVE_SUBSCRIPTIONS_PER_STREAM = 16384

/**
 * A serving stream whose peer has not taken the frame being sent for this long (it grants no
 * flow-control window) is stalled: its block reservations are released (its queue waits
 * until it reads again) and it stops counting as a holder for LATER. Checked every
 * SEND_STALL_MS / 4.
 */
export const SEND_STALL_MS = 2000

/**
 * A stream that got a block from us counts as a holder of it (and makes us answer LATER to
 * others) only while it reads: it took a frame from us within this long, and is not stalled.
 */
export const HOLDER_IDLE_MS = 5000

/**
 * Super-seeding: of the blocks a peer asks about (WANT_HAVE), a provider reveals (HAVE) its
 * share, hidden blocks / open streams, clamped to [REVEAL_MIN, REVEAL_MAX]; one more per
 * block served, and another share when the peer asks nothing for REVEAL_IDLE_MS.
 */
export const REVEAL_MIN = 4
export const REVEAL_MAX = 16
export const REVEAL_IDLE_MS = 100

/**
 * A block this provider already sent to another peer that is still connected and reading
 * (HOLDER_IDLE_MS, SEND_STALL_MS) is answered LATER the first time a peer asks for it (that
 * peer should get it from the other one);
 * the requester does not ask this provider again while another holder is known, and not
 * before LATER_MS in any case. Measured with `npm run bench -- p2` (64 MiB to 8 fetchers, runs
 * alternated, docs/BENCHMARKS.md): at 2 s the sharer uploaded 1.34–1.63× the file in 6.8–7.2 s,
 * at 4 s 1.11–1.22× in 6.3–6.7 s (at 8 s no better than 4): asked again too soon, the sharer
 * sent a block its first taker was about to offer.
 */
export const LATER_MS = 4000

// ---- fetching side ----

/**
 * Largest number of outstanding blocks per provider: what one block stream's flow-control window
 * (MAX_STREAM_WINDOW_BYTES, 4 MiB) holds with a block to spare, 3 blocks of CHUNK_SIZE (per
 * download: downloads of one peer share its stream). More does not move faster (the provider
 * sends only as far as the credit the reader returns) and made the stream slower: a provider
 * asked for more than the window holds sends each frame as soon as the reader returns a little
 * credit, so a stream that should carry 256 KiB frames carried
 * 15,000 frames for 256 MiB instead of 1,500, each its own Noise message, window update and
 * socket write. Measured (`throughput --size 256 --max-window 3` against 32, docs/BENCHMARKS.md):
 * the provider's CPU per MiB 4.5–5.1 ms → 2.6 ms, the requester's 7.0–7.3 → 6.3 ms.
 */
export const MAX_WINDOW = Math.max(1, Math.floor(MAX_STREAM_WINDOW_BYTES / CHUNK_SIZE) - 1)

/** Blocks requested from a provider before its rate is known. */
export const INITIAL_WINDOW = MAX_WINDOW

/** Smallest number of outstanding blocks per provider (a slow one still has the next block asked). */
export const MIN_WINDOW = Math.min(2, MAX_WINDOW)

/** A provider's window holds what it delivers in this many seconds at its measured rate. */
export const WINDOW_SECONDS = 0.25

/**
 * A provider with outstanding blocks that sends nothing for this long is stalled: its blocks
 * go to the others and it is asked again on a new stream (see BACKOFF_*), never dropped.
 */
export const STALL_TIMEOUT_MS = 10_000

/**
 * Retries of a provider that stalled, whose stream broke or that could not be reached: the
 * first at once, then after BACKOFF_BASE_MS, doubling up to BACKOFF_MAX_MS, for as long as the
 * download runs. A block that arrives resets the count.
 */
export const BACKOFF_BASE_MS = 500
export const BACKOFF_MAX_MS = 8_000

/**
 * When every provider that had blocks of a download has left the swarm (peer:disconnect, or
 * its stream closed and a new one was refused) for this long, the download fails at once with
 * ProviderLeftError instead of waiting for the idle timeout (issue 12, acceptance 4: ≤ 5 s).
 */
export const PROVIDER_LEFT_GRACE_MS = 2_000

/**
 * A download's health round runs every second at most; when it has not run for this long the
 * process was suspended (a laptop's lid closed, SIGSTOP) or its event loop was blocked, and the
 * download's clocks (idle timeout, stalls, providers that left) start again rather than judge
 * the providers by a silence that was this node's (fetch/session.ts, wokeUp).
 */
export const SUSPEND_GAP_MS = 3_000

/**
 * A peer:connect drops a block-stream open in progress to that peer (it may hang on the old
 * connection's dead addresses: peer-link.ts, redial) when the open has not ended this long after:
 * an open that ends sooner was the dial that made the connection, reported while it completed.
 */
export const REDIAL_GRACE_MS = 1_000

/**
 * Nor does a connected provider keep it waiting when it said HAVE for none of the missing
 * blocks and sent nothing for the stall timeout (10 s by default), and at least this long:
 * another downloader that got its blocks from those who left. It may still be getting them from
 * a source this node does not know (it says HAVE only once it has one), so the wait is a stall
 * timeout's, not less; and at least twice the longest pause between a complete copy's reveals
 * (REVEAL_IDLE_MS × 16), so a super-seeding copy that hides the missing blocks is never taken
 * for one.
 */
export const SILENT_PEER_MS = 2 * 16 * REVEAL_IDLE_MS

/**
 * Missing blocks one download tracks at once; the rest of a wide DAG waits as bare CIDs (issue 18).
 * A tracked block costs ~1 KB (its want, the peers that have it); the scheduler asks each provider
 * for at most MAX_WINDOW at a time, so 16,384 keeps hundreds of providers busy. At 65,536 a DAG
 * that fans out made a replicating node's RSS peak at 2.1x idle (test/security-replication.test.ts).
 */
export const MAX_PENDING_BLOCKS = 16_384

/** How long a provider that answered BUSY is left alone (doubles on each BUSY, up to 8×). */
export const BUSY_BACKOFF_MS = 250

/** A block may be requested from at most this many providers at once (endgame duplicates). */
export const MAX_DUPLICATE_REQUESTS = 2

/** Default idle timeout of a fetch: fail if no block arrives for this long. */
export const FETCH_TIMEOUT_MS = 30_000

/** Blocks verified and being written to the store at once; scheduling pauses above it. */
export const MAX_PENDING_WRITES = 32

/** Application score taken from a peer that sent a block that does not match its CID. */
export const INVALID_BLOCK_PENALTY = 50

/** Application score taken from a peer that broke the framing. */
export const PROTOCOL_VIOLATION_PENALTY = 20
