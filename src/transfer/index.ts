/**
 * Transfer: moves the blocks of a file between peers over direct, Noise-encrypted libp2p
 * streams (`/swarmdrop/blocks/1.0.0`, docs/PROTOCOL.md `## Block exchange`).
 *
 * A transfer serves the blocks of its store to any peer that asks, within limits, and
 * fetches a file DAG from many providers at once: verified block by block, persisted as
 * blocks arrive (a later fetch of the same CID resumes), progress reported as events.
 *
 * @example
 * ```ts
 * const transfer = createTransfer({ network, store })
 * await transfer.start()
 * const result = await transfer.fetch(cid, {
 *   providers: ['12D3Koo…'],
 *   onProgress: (evt) => { if (evt.type === 'transfer:fetch:block') console.log(evt.detail.bytes, '/', evt.detail.total) }
 * })
 * await transfer.stop()
 * ```
 */
import type { Logger } from '../util/logger.js'
import type { PeerCounters, ServedStream, ServerStats } from './server.js'
import type { FetchResult, TransferFetchEvents } from './fetch/types.js'
import { BlockTransfer } from './transfer.js'
import type { AbortOptions, BlockStore, TransferNetwork } from './types.js'

export interface TransferInit {
  /** The network the protocol runs on. */
  network: TransferNetwork
  /** Where served blocks come from and fetched blocks go. */
  store: BlockStore
  /** Inbound block streams one peer may hold open (default 8; libp2p resets the excess). */
  maxStreamsPerPeer?: number
  /** Streams sending blocks at once, over all peers (default 64); WANT_BLOCKs on further streams get BUSY. */
  maxActiveStreams?: number
  /** Block bytes held in memory for one peer while serving (default 8 MiB); excess waits. */
  maxBytesInFlightPerPeer?: number
  /** Block bytes held in memory while serving, over all peers (default 64 MiB); excess waits. */
  maxBytesInFlight?: number
  /** Blocks queued per stream (default 256); further WANT_BLOCKs get BUSY. */
  maxQueuedPerStream?: number
  /** Default idle timeout of fetch() in ms (default 30 000). */
  timeout?: number
  /** Outstanding blocks per provider before its rate is known (default 3; kept within the bounds). */
  initialWindow?: number
  /**
   * Bounds of a provider's window (default 2 and 3: what one block stream's 4 MiB yamux window
   * holds with a block to spare). A minWindow over 3 raises the default maximum to it; an
   * explicit maxWindow under minWindow is a RangeError.
   */
  minWindow?: number
  maxWindow?: number
  /** A window holds what the provider delivers in this many seconds (default 0.25). */
  windowSeconds?: number
  /**
   * A provider with outstanding blocks silent this long is stalled (default 10 000 ms): its
   * blocks go to the others and it is asked again on a new stream, with a bounded backoff.
   */
  stallTimeout?: number
  /** Received blocks being verified and written at once (default 32). */
  maxPendingWrites?: number
  /** Missing blocks one fetch tracks at once; the rest of a wide DAG waits as bare CIDs (default 16 384). */
  maxPendingBlocks?: number
  /** Logger (default `swarmdrop:transfer`). */
  logger?: Logger
  /**
   * Told when a stream on which this node sent blocks ends (the peer finished, cancelled or
   * left): the peer, the first CID it asked about there (a download's root) and the bytes sent.
   */
  onServed?: (info: ServedStream) => void
  /**
   * A peer's nickname, where one is known: errors then name a provider as `alice (12D3Ko…ZB8D)`
   * rather than by its whole peer id ("alice (…) stopped answering 30 s ago").
   */
  peerName?: (peer: string) => string | undefined
}

export interface FetchOptions extends AbortOptions {
  /** Peers to ask at once. */
  providers?: Iterable<string>
  /**
   * More providers as they become known (catalog, `want` answers, new `have`s): iterated
   * for as long as the fetch runs, then its signal aborts.
   */
  findProviders?: (cid: string, options: { signal: AbortSignal }) => AsyncIterable<string> | Iterable<string>
  /**
   * Idle timeout in ms: fail if no block arrives for this long (default: the transfer's,
   * 30 s). ProviderBannedError when every provider that had blocks sent a wrong one,
   * NotFoundInSwarmError when no provider ever had the root, ProviderStalledError when
   * every provider stopped answering, else TransferTimeoutError. Sooner, ProviderLeftError
   * when every provider that had blocks left the swarm (PROVIDER_LEFT_GRACE_MS after).
   */
  timeout?: number
  onProgress?: (evt: TransferFetchEvents) => void
  /**
   * Fetch the root block only, not the DAG under it (default false): a folder's path is
   * resolved one directory node at a time, so only the blocks on the path are fetched.
   */
  shallow?: boolean
}

export interface TransferStats {
  /** What this node served to others. */
  served: ServerStats
  /** What this node received (all fetches since start): verified blocks, duplicates, rejected ones; per peer for the 1,024 peers heard from most recently. */
  received: { bytes: number, blocks: number, duplicates: number, invalid: number, byPeer: Record<string, PeerCounters> }
  /** Fetches running now. */
  fetches: number
}

export interface Transfer {
  start: () => Promise<void>
  stop: () => Promise<void>
  isStarted: () => boolean
  /** Fetches the DAG under `cid` into the store; resolves when every block is stored. */
  fetch: (cid: string, options?: FetchOptions) => Promise<FetchResult>
  /** Tells peers that asked with WANT_HAVE that a block stored by someone else (e.g. an import) is here now. */
  notifyStored: (cid: string) => void
  stats: () => TransferStats
}

/** Builds a transfer (not started). */
export function createTransfer (init: TransferInit): Transfer {
  return new BlockTransfer(init)
}

export { BLOCKS_PROTOCOL } from './constants.js'
export { NotFoundInSwarmError, TransferTimeoutError, UnsupportedCidError, BlockProtocolError, TransferNotStartedError, ProviderLeftError, ProviderStalledError, ProviderBannedError, RequestBacklogError } from './errors.js'
export { createMemoryBlockStore, type MemoryBlockStore } from './memory-store.js'
export type { BlockStore, TransferNetwork } from './types.js'
export type { FetchResult, FetchProgress, FetchBlockProgress, FetchProviderProgress, TransferFetchEvents, PeerReceived } from './fetch/types.js'
export type { ServerStats, PeerCounters, ServedStream } from './server.js'
