/**
 * The public types of the swarm protocol: what src/node and library users see
 * (re-exported by index.ts). The parts that implement it live beside this file.
 */
import type { TypedEventEmitter } from '../util/events.js'
import type { ComponentLogger } from '../util/logger.js'
import type { Network } from '../net/index.js'
import type { CatalogEntry, CatalogEvents } from './catalog.js'
import type { RejectReason, WireType } from './codec.js'
import type { SwarmTopics } from './topics.js'

/** A file this node holds, as the store lists it. */
export interface LocalFile {
  cid: string
  name: string
  size: number
  mediaType: string
  encrypted?: boolean
  /** A folder: the files in it. */
  files?: number
  complete: boolean
}

/** A file to announce. */
export interface FileAnnouncement {
  cid: string
  name: string
  size: number
  /** Empty means application/octet-stream. */
  mediaType: string
  encrypted?: boolean
  /** A folder (a UnixFS directory): the files in it, at any depth; `size` is their bytes. */
  files?: number
}

/** Timing and scoring options; every one has a default in constants.ts. */
export interface SwarmProtocolOptions {
  /** A provider not heard from for this long leaves the catalog (default PROVIDER_TTL_MS, 90 s). Must exceed reannounceInterval × (1 + reannounceJitter). */
  providerTtl?: number
  /** Own files (and the Hello) are re-announced this often (default REANNOUNCE_INTERVAL_MS, 20 s). */
  reannounceInterval?: number
  /** Re-announce jitter as a fraction of the interval (default REANNOUNCE_JITTER, 0.25). */
  reannounceJitter?: number
  /** Delay from the first subscribed peer to hello, catalog request and own files, and from a new subscriber to our Hello (default JOIN_DELAY_MS, 50 ms). */
  joinDelay?: number
  /** Catalog answers by peers other than the named responder wait this long first (default CATALOG_FALLBACK_DELAY_MS, 250 ms)... */
  catalogFallbackDelay?: number
  /** ...plus a uniform random delay up to this (default CATALOG_ANSWER_WINDOW_MS, 400 ms). */
  catalogAnswerWindow?: number
  /** A catalog request with no answer is repeated after this (default CATALOG_RETRY_MS, 1 s), at most CATALOG_RETRIES times. */
  catalogRetry?: number
  /** want() resolves with no providers after this (default WANT_TIMEOUT_MS, 5 s). */
  wantTimeout?: number
  /** want() waits this long after the first provider for more (default WANT_SETTLE_MS, 50 ms). */
  wantSettle?: number
  /** Want answers wait a uniform random delay up to this (default WANT_ANSWER_WINDOW_MS, 50 ms). */
  wantAnswerWindow?: number
  /** Score penalty per rejected message, charged to the peer that delivered it (default INVALID_MESSAGE_PENALTY; 0 turns it off). */
  invalidMessagePenalty?: number
  /** Most (file, provider) pairs the catalog holds (default MAX_CATALOG_PAIRS). */
  maxCatalogPairs?: number
  /** Most bytes of metadata (names, media types) the catalog holds (default MAX_CATALOG_BYTES). */
  maxCatalogBytes?: number
}

export interface SwarmProtocolInit extends SwarmProtocolOptions {
  network: Network
  /** Where logs go: `logger.forComponent('pubsub')` (default: `swarmdrop:pubsub`, no node prefix). */
  logger?: ComponentLogger
  swarm: string
  /** This node's nickname, sent in Hello. */
  name: string
  /** What this node has, to answer catalog requests and wants and to re-announce (default: nothing). */
  localFiles?: () => Promise<LocalFile[]>
}

export interface SwarmProtocolEvents extends CatalogEvents, Record<string, unknown> {
  /** A peer said hello with its nickname (its first Hello, or a new name). */
  'peer:hello': { peer: string, name: string }
  /** A validator rejected a message; `peer` is its signer, `via` the peer that delivered it. */
  'message:rejected': { peer: string, via?: string, topic: string, reason: RejectReason }
}

/** Counters for tests, benchmarks and `swarmdrop status`. */
export interface SwarmProtocolStats {
  /** Messages this node published, in total and per type. */
  published: number
  publishedByType: Partial<Record<WireType, number>>
  /** Valid messages received from others. */
  received: number
  receivedByType: Partial<Record<WireType, number>>
  /** Messages rejected by the validators, in total and per reason. */
  rejected: number
  rejectedByReason: Partial<Record<RejectReason, number>>
  /** Valid messages ignored because their signer, the peer that delivered them, or the node as a whole went over a rate limit. */
  ignored: number
  /** The same, by the limit that was hit: `<type> <limit>` for requests (`want peer`), `announce-bytes peer` / `announce-bytes total` for the announce topic's byte budget. */
  ignoredByLimit: Record<string, number>
  /**
   * Files of Announces and Haves not listed because the signer's own time (Envelope.issued_ms) is not
   * newer than its Withdraw of the file: replays of an older signed message (catalog.ts tombstones).
   */
  stale: number
  /** Catalog and want answers not sent because others had already answered. */
  suppressed: number
  /**
   * Times this node found itself alone (no peer subscribed to the swarm's request topic at an
   * expiry sweep: its network went away, or it slept), after which the first peer back is met as
   * at start: Hello, catalog request, own files (docs/PROTOCOL.md §6).
   */
  rejoins: number
  /** Answers waiting for their timer. */
  pendingAnswers: number
  /** This node's own catalog request awaiting answers (1) or settled (0). */
  pendingRequests: number
  /** (file, provider) pairs and bytes the catalog holds, as its budget counts them (budget.ts). */
  catalogPairs: number
  catalogBytes: number
}

export interface WantOptions {
  /** Resolve with no providers after this many ms (default 5 s). */
  timeout?: number
  signal?: AbortSignal
}

export interface SwarmProtocol {
  readonly topics: SwarmTopics
  start: () => Promise<void>
  stop: () => Promise<void>
  isStarted: () => boolean
  /** Tells the swarm this node provides a (complete) file. */
  announce: (file: FileAnnouncement, options?: { signal?: AbortSignal }) => Promise<void>
  /** Tells the swarm this node no longer provides `cid`. */
  withdraw: (cid: string, options?: { signal?: AbortSignal }) => Promise<void>
  /** Tells the swarm this node holds `cid`, completely or in part (used while downloading). */
  have: (cid: string, complete: boolean, options?: { signal?: AbortSignal }) => Promise<void>
  /**
   * Remote providers of `cid`: at once if the catalog knows some, else asks the swarm
   * and resolves after the first answers (or with [] after the timeout).
   */
  want: (cid: string, options?: WantOptions) => Promise<string[]>
  /** Every file heard of, with its providers. */
  catalog: () => CatalogEntry[]
  entry: (cid: string) => CatalogEntry | undefined
  /** Remote peers that provide `cid` (this node excluded), complete ones first, then the most recently heard. */
  providers: (cid: string) => string[]
  stats: () => SwarmProtocolStats
  addEventListener: TypedEventEmitter<SwarmProtocolEvents>['addEventListener']
  removeEventListener: TypedEventEmitter<SwarmProtocolEvents>['removeEventListener']
}
