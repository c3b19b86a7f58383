import type { Logger } from '../util/logger.js'
import { createLogger } from '../util/logger.js'
import {
  FETCH_TIMEOUT_MS, INITIAL_WINDOW, MAX_ACTIVE_STREAMS, MAX_BYTES_IN_FLIGHT, MAX_BYTES_IN_FLIGHT_PER_PEER, MAX_HAVE_SUBSCRIPTIONS_PER_STREAM, MAX_UNREAD_REQUEST_BYTES_PER_PEER,
  MAX_PENDING_BLOCKS, MAX_PENDING_WRITES, MAX_QUEUED_PER_STREAM, MAX_STREAMS_PER_PEER, MAX_WINDOW, MIN_WINDOW, STALL_TIMEOUT_MS, WINDOW_SECONDS
} from './constants.js'
import { parseCid, type BlockBytes } from '../content/index.js'
import { TransferNotStartedError, type PeerLabel } from './errors.js'
import { shortId } from '../util/strings.js'
import { BlockServer } from './server.js'
import { PeerTally } from './peer-tally.js'
import { FetchSession } from './fetch/session.js'
import { PeerLinks } from './fetch/peer-link.js'
import type { FetchResult, SessionLimits } from './fetch/types.js'
import type { FetchOptions, Transfer, TransferInit, TransferStats } from './index.js'
import type { BlockStore, TransferNetwork } from './types.js'

export class BlockTransfer implements Transfer {
  private readonly network: TransferNetwork
  private readonly store: BlockStore
  private readonly server: BlockServer
  private readonly log: Logger
  private readonly limits: SessionLimits
  private readonly defaultTimeout: number
  private readonly sessions = new Set<FetchSession>()
  /** One block stream per peer, shared by every download (fetch/peer-link.ts). */
  private readonly links: PeerLinks
  private readonly received = { bytes: 0, blocks: 0, duplicates: 0, invalid: 0 }
  private readonly receivedBy = new PeerTally()
  /** Verified blocks being written to the store: served from memory until they are on disk. */
  private readonly landing = new Map<string, BlockBytes>()
  private started = false
  private readonly label: PeerLabel

  constructor (init: TransferInit) {
    this.network = init.network
    this.store = init.store
    this.log = init.logger ?? createLogger('transfer')
    this.defaultTimeout = init.timeout ?? FETCH_TIMEOUT_MS
    const peerName = init.peerName
    this.label = peerName == null
      ? peer => peer
      : peer => { const name = peerName(peer); return name != null ? `${name} (${shortId(peer)})` : peer }
    // a minWindow over the default maximum raises the maximum with it; an explicit one under it is an error
    const minWindow = init.minWindow ?? MIN_WINDOW
    const maxWindow = init.maxWindow ?? Math.max(MAX_WINDOW, minWindow)
    if (!(minWindow >= 1 && maxWindow >= minWindow)) throw new RangeError(`window bounds: minWindow ${minWindow} and maxWindow ${maxWindow} need 1 <= minWindow <= maxWindow`)
    this.limits = {
      initialWindow: Math.min(maxWindow, Math.max(minWindow, init.initialWindow ?? INITIAL_WINDOW)),
      minWindow,
      maxWindow,
      windowSeconds: init.windowSeconds ?? WINDOW_SECONDS,
      stallTimeout: init.stallTimeout ?? STALL_TIMEOUT_MS,
      maxPendingWrites: init.maxPendingWrites ?? MAX_PENDING_WRITES,
      maxPendingBlocks: init.maxPendingBlocks ?? MAX_PENDING_BLOCKS
    }
    this.links = new PeerLinks(this.network)
    this.server = new BlockServer(this.network, this.store, this.landing, {
      maxStreamsPerPeer: init.maxStreamsPerPeer ?? MAX_STREAMS_PER_PEER,
      maxActiveStreams: init.maxActiveStreams ?? MAX_ACTIVE_STREAMS,
      maxBytesInFlightPerPeer: init.maxBytesInFlightPerPeer ?? MAX_BYTES_IN_FLIGHT_PER_PEER,
      maxBytesInFlight: init.maxBytesInFlight ?? MAX_BYTES_IN_FLIGHT,
      maxQueuedPerStream: init.maxQueuedPerStream ?? MAX_QUEUED_PER_STREAM,
      maxHaveSubscriptions: MAX_HAVE_SUBSCRIPTIONS_PER_STREAM,
      maxUnreadPerPeer: MAX_UNREAD_REQUEST_BYTES_PER_PEER
    }, this.log, init.onServed)
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.server.start()
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    for (const s of this.sessions) s.abort(new TransferNotStartedError(true))
    this.links.close(new TransferNotStartedError(true))
    await this.server.stop()
  }

  async fetch (cid: string, options: FetchOptions = {}): Promise<FetchResult> {
    options.signal?.throwIfAborted()
    const root = parseCid(cid)
    if (!this.started) throw new TransferNotStartedError()
    const session = new FetchSession(root, {
      network: this.network,
      store: this.store,
      log: this.log,
      limits: this.limits,
      isStarted: () => this.started,
      links: this.links,
      onVerified: (key, bytes) => {
        this.landing.set(key, bytes)
        this.server.notifyStored(key)
      },
      onLanded: (key, stored) => {
        this.landing.delete(key)
        // another download of a DAG that shares this block takes it from the store
        if (stored) for (const other of this.sessions) if (other !== session) other.blockStored(key)
      },
      onReceived: (peer, bytes, duplicate, invalid) => {
        this.received.bytes += bytes
        if (duplicate) this.received.duplicates++
        else if (invalid) this.received.invalid++
        else this.received.blocks++
        this.receivedBy.add(peer, bytes)
      },
      label: this.label
    }, {
      ...options,
      timeout: options.timeout ?? this.defaultTimeout
    })
    this.sessions.add(session)
    try {
      const result = await session.run()
      this.log('fetched %s: %d blocks, %d bytes received from %d provider(s) in %d ms', result.cid, result.blocksReceived,
        result.bytesReceived, Object.keys(result.providers).length, result.elapsed)
      return result
    } finally {
      this.sessions.delete(session)
    }
  }

  notifyStored (cid: string): void {
    this.server.notifyStored(cid)
    for (const s of this.sessions) s.blockStored(cid)
  }

  stats (): TransferStats {
    return {
      served: this.server.stats(),
      received: { ...this.received, byPeer: this.receivedBy.toRecord() },
      fetches: this.sessions.size
    }
  }
}
