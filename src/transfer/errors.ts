/**
 * Errors raised by the transfer layer. Code and tests match on `.name`.
 */

/** No provider had the CID before the timeout (none was found, or none of them answered HAVE). */
export class NotFoundInSwarmError extends Error {
  static override name = 'NotFoundInSwarmError'
  readonly cid: string
  /** Providers asked, and of them those never reached (dial refused, left, stream never opened). */
  readonly providers: number
  readonly unreachable: number

  constructor (cid: string, timeout: number, providers: number, unreachable = 0) {
    const waited = `(waited ${timeout} ms)`
    let message: string
    if (providers === 0) {
      message = `no peer in the swarm provides ${cid} ${waited}; check the CID, or wait until a peer that has it is online`
    } else if (unreachable >= providers) {
      message = providers === 1
        ? `the only peer that provides ${cid} is offline or unreachable ${waited}; try again when it is online`
        : `all ${providers} peers that provide ${cid} are offline or unreachable ${waited}; try again when one of them is online`
    } else {
      const asked = providers === 1 ? 'the 1 peer asked does not have' : `none of the ${providers} peers asked has`
      message = `${asked} ${cid}${unreachable > 0 ? ` (${unreachable} of them could not be reached)` : ''} ${waited}; check the CID, or wait until a peer that has it is online`
    }
    super(message)
    this.name = 'NotFoundInSwarmError'
    this.cid = cid
    this.providers = providers
    this.unreachable = unreachable
  }
}

/** The download started but no block arrived for `timeout` ms. */
export class TransferTimeoutError extends Error {
  static override name = 'TransferTimeoutError'
  readonly cid: string
  readonly missing: number

  constructor (cid: string, timeout: number, missing: number) {
    super(`fetching ${cid} stalled: no block arrived for ${timeout} ms and ${missing} block(s) are still missing; the blocks received so far are kept, run the fetch again to resume`)
    this.name = 'TransferTimeoutError'
    this.cid = cid
    this.missing = missing
  }
}

/** A CID the transfer cannot verify or walk (unknown hash function or codec). */
export class UnsupportedCidError extends Error {
  static override name = 'UnsupportedCidError'
  readonly cid: string

  constructor (cid: string, reason: string) {
    super(`cannot fetch ${cid}: ${reason}`)
    this.name = 'UnsupportedCidError'
    this.cid = cid
  }
}

/** A peer broke the block exchange framing (empty or oversized frame, truncated varint or CID, undecodable CID). */
export class BlockProtocolError extends Error {
  static override name = 'BlockProtocolError'

  constructor (reason: string) {
    super(`block exchange protocol violation: ${reason}`)
    this.name = 'BlockProtocolError'
  }
}

/** A peer's block streams hold more requests than the server has read (MAX_UNREAD_REQUEST_BYTES_PER_PEER): this one is reset. */
export class RequestBacklogError extends Error {
  static override name = 'RequestBacklogError'

  constructor (unread: number, limit: number) {
    super(`the peer has sent ${unread} bytes of block requests that are not read yet (limit ${limit} over its streams): it sends faster than it is answered, or does not read its answers`)
    this.name = 'RequestBacklogError'
  }
}

/** fetch() was called on a transfer that is not started, or it was stopped during the fetch (`stopped`). */
export class TransferNotStartedError extends Error {
  static override name = 'TransferNotStartedError'
  /** True when the transfer (its node) stopped while this fetch ran. */
  readonly stopped: boolean

  constructor (stopped = false) {
    super(stopped
      ? 'the node stopped during the fetch; the blocks received so far are kept, and a fetch after the node starts again resumes from them'
      : 'the transfer service is not started; start the node first')
    this.name = 'TransferNotStartedError'
    this.stopped = stopped
  }
}

/** How a message names a peer: its nickname and short id where known (TransferInit.peerName), else its id. */
export type PeerLabel = (peer: string) => string

const bareId: PeerLabel = peer => peer

/** "P (the only provider)" or "all N providers (P, Q, …)". */
function whoOf (peers: string[], label: PeerLabel): string {
  return peers.length === 1 ? `${label(peers[0] ?? '')} (the only provider)` : `all ${peers.length} providers (${peers.map(label).join(', ')})`
}

/**
 * Every provider that had blocks of the download left the swarm; what was received is kept.
 * `others`: peers still connected that have none of the missing blocks (other downloaders).
 */
export class ProviderLeftError extends Error {
  static override name = 'ProviderLeftError'
  readonly cid: string
  readonly peers: string[]
  readonly missing: number
  readonly others: number

  constructor (cid: string, peers: string[], missing: number, others = 0, label: PeerLabel = bareId) {
    const who = others === 0
      ? whoOf(peers, label)
      : peers.length === 1 ? `${label(peers[0] ?? '')} (the only provider of the missing blocks)` : `all ${peers.length} providers of the missing blocks (${peers.map(label).join(', ')})`
    const rest = others === 0 ? '' : ` and the ${others} peer(s) still connected have none of them`
    super(`${who} left the swarm while fetching ${cid}; ${missing} block(s) are still missing${rest}; the blocks received so far are kept, run the fetch again to resume when a provider is back`)
    this.name = 'ProviderLeftError'
    this.cid = cid
    this.peers = peers
    this.missing = missing
    this.others = others
  }
}

/** The providers of the download are connected but stopped answering for the whole timeout. */
export class ProviderStalledError extends Error {
  static override name = 'ProviderStalledError'
  readonly cid: string
  readonly peer: string
  readonly missing: number

  /** Every provider was out of reach because this node had no network (its dials failed with ENETUNREACH). */
  readonly offline: boolean

  constructor (cid: string, peer: string, silentMs: number, missing: number, others: number, offline = false, label: PeerLabel = bareId) {
    const also = others > 0 ? ` (and ${others} other provider(s) too)` : ''
    const why = offline
      ? `this node lost its network connection (no route to any provider) ${Math.round(silentMs / 1000)} s ago`
      : `${label(peer)} stopped answering ${Math.round(silentMs / 1000)} s ago${also}`
    super(`${why} while fetching ${cid}; ${missing} block(s) are still missing; the blocks received so far are kept, run the fetch again to resume`)
    this.name = 'ProviderStalledError'
    this.offline = offline
    this.cid = cid
    this.peer = peer
    this.missing = missing
  }
}

/** Every provider that had blocks of the download sent a wrong one and was dropped from it; what was received (checked) is kept. */
export class ProviderBannedError extends Error {
  static override name = 'ProviderBannedError'
  readonly cid: string
  readonly peers: string[]
  readonly missing: number

  constructor (cid: string, peers: string[], missing: number, label: PeerLabel = bareId) {
    const was = peers.length === 1 ? 'was' : 'were'
    super(`${whoOf(peers, label)} sent blocks that do not match their CIDs and ${was} dropped from fetching ${cid}; ${missing} block(s) are still missing; the blocks received so far were checked and are kept, run the fetch again to resume from another provider`)
    this.name = 'ProviderBannedError'
    this.cid = cid
    this.peers = peers
    this.missing = missing
  }
}
