/**
 * The public shapes of a download (progress events, result) and the seams between the fetch
 * components and the transfer that owns them.
 */
import type { CustomProgressEvent } from 'progress-events'
import type { BlockBytes } from '../../content/index.js'
import type { Logger } from '../../util/logger.js'
import type { BlockStore, TransferNetwork } from '../types.js'
import type { PeerLinks } from './peer-link.js'
import type { PeerLabel } from '../errors.js'

export interface FetchProgress {
  /** The root CID being fetched. */
  cid: string
  /** File bytes present locally (from earlier runs and this one). */
  bytes: number
  /** File size, once the root block is known. */
  total?: number
  /** Blocks present locally. */
  blocks: number
  /** Blocks of the DAG, once every internal node is known. */
  totalBlocks?: number
  /** Block bytes received over the network in this fetch (duplicates included). */
  received: number
  /** Providers currently connected for this download. */
  providers: number
  /** Receive rate over the last seconds, bytes per second. */
  rate: number
}

export interface FetchBlockProgress extends FetchProgress {
  /** The block that just arrived, and who sent it. */
  block: string
  peer: string
}

export interface FetchProviderProgress {
  cid: string
  peer: string
  /**
   * `added`: stream open (again); `failed`: stream broke, stalled or could not be opened (the
   * provider is backed off and asked again); `left`: it left the swarm; `banned`: sent a wrong block.
   */
  status: 'added' | 'failed' | 'left' | 'banned'
  reason?: string
}

export type TransferFetchEvents =
  | CustomProgressEvent<FetchProgress, 'transfer:fetch:root'>
  | CustomProgressEvent<FetchBlockProgress, 'transfer:fetch:block'>
  | CustomProgressEvent<FetchProviderProgress, 'transfer:fetch:provider'>
  | CustomProgressEvent<FetchProgress, 'transfer:fetch:complete'>

export interface SessionOptions {
  signal?: AbortSignal
  onProgress?: (evt: TransferFetchEvents) => void
  providers?: Iterable<string>
  findProviders?: (cid: string, options: { signal: AbortSignal }) => AsyncIterable<string> | Iterable<string>
  timeout: number
  /** The root block only (FetchOptions.shallow). */
  shallow?: boolean
}

export interface SessionLimits {
  initialWindow: number
  minWindow: number
  maxWindow: number
  windowSeconds: number
  stallTimeout: number
  maxPendingWrites: number
  /** Missing blocks one download tracks at once; deeper parts of the DAG wait (issue 18, replication). */
  maxPendingBlocks: number
}

export interface PeerReceived {
  bytes: number
  blocks: number
}

export interface FetchResult {
  cid: string
  /** File size in bytes. */
  size: number
  /** Blocks in the DAG. */
  blocks: number
  /** Blocks and bytes that came over the network in this fetch (0 when everything was here). */
  blocksReceived: number
  bytesReceived: number
  /** Blocks that arrived twice (endgame) or unasked. */
  duplicates: number
  /** Blocks rejected because they did not hash to their CID. */
  invalid: number
  /** Who sent what in this fetch. */
  providers: Record<string, PeerReceived>
  /** Providers dropped for sending wrong blocks. */
  banned: string[]
  /** Milliseconds from call to completion. */
  elapsed: number
}

/** Callbacks from a session into the transfer that owns it. */
export interface SessionHost {
  network: TransferNetwork
  store: BlockStore
  log: Logger
  limits: SessionLimits
  isStarted: () => boolean
  /** Every peer's one block stream, shared by the transfer's downloads. */
  links: PeerLinks
  /** A block was verified and is being written: peers may be served it from memory meanwhile. */
  onVerified: (key: string, bytes: BlockBytes) => void
  /** The write of a verified block ended (stored, or failed); `stored` when it is in the store. */
  onLanded: (key: string, stored: boolean) => void
  /** Bytes received over the network, for the transfer's totals. */
  onReceived: (peer: string, bytes: number, duplicate: boolean, invalid: boolean) => void
  /** How errors name a peer. */
  label: PeerLabel
}
