/**
 * One block stream per peer, shared by every download that asks that peer (in the spirit of
 * Helia bitswap's Network: one message stream per peer, wants of every session on it).
 *
 * A download attaches to the peer's link and gets a handle. The link opens the stream on the
 * first attach (a second download attaching meanwhile waits for the same open), forwards every
 * handle's wants on it, and hands what comes back to the downloads it concerns:
 *
 *   BLOCK      to every download that asked for it on this link (the first copy asked settles
 *              the want; the others get it marked `shared`: one copy came over the network); a
 *              block nobody asked for (cancelled in flight) to one download, which counts it as a
 *              duplicate
 *   HAVE, DONT_HAVE, LATER, BUSY   to every download (each keeps only the CIDs it wants or asked)
 *
 * A WANT_BLOCK goes out only for a CID no other download has asked of the peer and not had yet
 * (the block, when it comes, goes to both). A CANCEL goes out only for a CID no other download
 * still wants from the peer: the provider
 * keeps one want per CID per stream, so one download's cancel must not take another's want
 * away. When the stream ends (broken, reset after a stall, provider gone) every download hears
 * it and re-attaches, which opens one new stream. When the last download detaches the stream
 * is drained (our side ended, the rest read and dropped) and a later download opens a new one.
 */
import { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL, MAX_CIDS_PER_FRAME, REDIAL_GRACE_MS } from '../constants.js'
import { FrameType, type Frame, type ListFrameType } from '../messages.js'
import type { TransferNetwork } from '../types.js'
import { ProviderLink } from './link.js'

/** A download's side of a peer link. */
export interface LinkClient {
  /** `shared`: a BLOCK another download on this link was handed too (counted there as received). */
  onFrame: (frame: Frame, shared: boolean) => void
  /** The stream carried a block for another download: the peer is serving (optional). */
  onActive?: () => void
  /** The shared stream ended (`err` undefined: the provider closed it). Not called after detach(). */
  onEnd: (err?: Error) => void
}

/** What a download holds: its view of the shared stream. */
export interface LinkHandle {
  readonly open: boolean
  send: (type: ListFrameType, cids: CID[]) => void
  /** This download is done with the peer: its wants are cancelled (unless another download has them). */
  detach: () => void
  /** The stream is stalled or broken: reset it for every download (each re-attaches). */
  reset: (err: Error) => void
}

/** Counters of the links (a test counts the streams opened). */
export interface PeerLinkStats {
  /** Block streams opened, over the transfer's life. */
  opened: number
}

/** attach(): the stream ended between its open and this download's turn (the provider reset it at once). */
export class LinkEndedError extends Error {
  static override name = 'LinkEndedError'

  constructor (cause?: Error) {
    super(`the block stream ended as it opened${cause != null ? `: ${cause.message}` : ''}`, { cause })
    this.name = 'LinkEndedError'
  }
}

interface Opening {
  promise: Promise<void>
  abort: AbortController
  /** Each waiting download's reject: redial() fails them all. */
  waiters: Set<(err: Error) => void>
  /** Set by redial(): drops the open if it has not ended REDIAL_GRACE_MS later. */
  redialTimer?: ReturnType<typeof setTimeout>
}

/** attach(): the open this download waited for was dropped, because the peer connected again (redial()). */
export class LinkRedialError extends Error {
  static override name = 'LinkRedialError'

  constructor () {
    super('the peer connected again: the block stream is opened anew')
    this.name = 'LinkRedialError'
  }
}

class Handle implements LinkHandle {
  detached = false
  /** Why the stream ended, when it ended under this handle (ended()). */
  endedWith?: Error
  /** Blocks this download asked for on this link and has not had or cancelled. */
  readonly wantBlocks = new Set<string>()
  /** CIDs this download asked about (WANT_HAVE) and has not cancelled. */
  readonly wantHaves = new Set<string>()

  constructor (readonly link: PeerLink, readonly client: LinkClient) {}

  get open (): boolean {
    return !this.detached && this.link.isOpen
  }

  send (type: ListFrameType, cids: CID[]): void {
    if (!this.open) return
    this.link.send(this, type, cids)
  }

  detach (): void {
    if (this.detached) return
    this.detached = true
    this.link.detach(this)
  }

  reset (err: Error): void {
    if (this.detached) return
    this.link.reset(err, this)
  }
}

class PeerLink {
  readonly handles = new Set<Handle>()
  private stream?: ProviderLink
  /** The open in progress: its promise, its abort, and the downloads waiting for it. */
  private opening?: Opening

  constructor (readonly peer: string, private readonly owner: PeerLinks) {}

  get isOpen (): boolean {
    return this.stream?.open === true
  }

  /**
   * Opens the stream unless it is open or being opened. `signal` ends this download's wait;
   * the open itself stops only when every download waiting for it has stopped waiting (or on
   * redial()).
   */
  async connect (signal: AbortSignal): Promise<void> {
    if (this.isOpen) return
    if (this.opening == null) {
      const abort = new AbortController()
      const opening: Opening = { promise: this.open(abort.signal), abort, waiters: new Set() }
      this.opening = opening
      // a newer open (after redial()) is not this one's to clear
      opening.promise.finally(() => {
        clearTimeout(opening.redialTimer)
        if (this.opening === opening) this.opening = undefined
      }).catch(() => {})
    }
    const opening = this.opening
    let waiter: ((err: Error) => void) | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        if (signal.aborted) {
          onAbort()
          return
        }
        waiter = reject
        opening.waiters.add(reject)
        signal.addEventListener('abort', onAbort, { once: true })
        opening.promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
      })
    } finally {
      if (waiter != null) opening.waiters.delete(waiter)
      // nobody waits for it any more: stop it, and let the next connect() open anew
      if (opening.waiters.size === 0 && signal.aborted && this.opening === opening) {
        this.opening = undefined
        opening.abort.abort(signal.reason)
      }
    }
  }

  /**
   * The peer connected again: an open made before may hang on the old connection's dead
   * addresses. Unless it ends within REDIAL_GRACE_MS, it is dropped for every download waiting
   * for it (LinkRedialError); they attach again. Not at once: libp2p reports the connection that
   * this very open's dial makes (peer:connect) while that dial completes, and dropping the open
   * then would abort the dial, which closes the new connection; the next open would do the same,
   * for ever.
   */
  redial (): void {
    const opening = this.opening
    if (opening == null || opening.redialTimer != null) return
    opening.redialTimer = setTimeout(() => {
      if (this.opening !== opening) return
      this.opening = undefined
      opening.abort.abort(new LinkRedialError())
      for (const reject of [...opening.waiters]) reject(new LinkRedialError())
      opening.waiters.clear()
    }, REDIAL_GRACE_MS)
    opening.redialTimer.unref?.()
  }

  private async open (signal: AbortSignal): Promise<void> {
    const stream = await this.owner.network.openStream(this.peer, BLOCKS_PROTOCOL, { signal })
    if (signal.aborted) {
      // dropped (redial(), or nobody waits any more) while it opened: not the link's stream
      stream.abort(new Error('the open was dropped'))
      throw signal.reason
    }
    this.owner.stats.opened++
    const link: ProviderLink = new ProviderLink(stream, {
      onFrame: (frame) => { if (this.stream === link) this.dispatch(frame) },
      onEnd: (err) => { if (this.stream === link) this.ended(err) }
    })
    if (this.handles.size === 0) {
      // every download that waited for it went away meanwhile
      link.drain()
      return
    }
    this.stream = link
  }

  send (h: Handle, type: ListFrameType, cids: CID[]): void {
    const stream = this.stream
    if (stream == null) return
    if (type === FrameType.CANCEL) {
      const out: CID[] = []
      for (const cid of cids) {
        const key = cid.toString()
        h.wantBlocks.delete(key)
        h.wantHaves.delete(key)
        if (!this.wanted(key)) out.push(cid)
      }
      if (out.length > 0) stream.send(type, out)
      return
    }
    if (type === FrameType.WANT_BLOCK) {
      // asked already by another download: the block will be handed to both (dispatch)
      const out = cids.filter(cid => !this.wanted(cid.toString(), true))
      for (const cid of cids) h.wantBlocks.add(cid.toString())
      if (out.length > 0) stream.send(type, out)
      return
    }
    for (const cid of cids) h.wantHaves.add(cid.toString())
    stream.send(type, cids)
  }

  /**
   * Some download still wants `key` from this peer; `blockOnly`: has asked for the block itself
   * (WANT_BLOCK) and not had it yet.
   */
  private wanted (key: string, blockOnly = false): boolean {
    for (const h of this.handles) if (h.wantBlocks.has(key) || (!blockOnly && h.wantHaves.has(key))) return true
    return false
  }

  private dispatch (frame: Frame): void {
    if (frame.type !== FrameType.BLOCK) {
      if (frame.type === FrameType.DONT_HAVE || frame.type === FrameType.LATER || frame.type === FrameType.BUSY) {
        // the provider dropped (or never queued) these wants: whoever asks again must send them
        for (const cid of frame.cids) for (const h of this.handles) h.wantBlocks.delete(cid.toString())
      }
      for (const h of [...this.handles]) if (!h.detached) h.client.onFrame(frame, false)
      return
    }
    const key = frame.cid.toString()
    let delivered = false
    const others: Handle[] = []
    for (const h of [...this.handles]) {
      if (h.detached) continue
      if (!h.wantBlocks.delete(key)) {
        others.push(h)
        continue
      }
      h.client.onFrame(frame, delivered)
      delivered = true
    }
    // the peer answers its wants in order: one download waiting behind another's blocks is not
    // facing a stalled peer (its stall timer would reset the stream under both)
    for (const h of others) if (!h.detached) h.client.onActive?.()
    if (delivered) return
    // unasked (cancelled while on its way): one download sees it, as a duplicate or a block it still wants
    const first = [...this.handles].find(h => !h.detached)
    first?.client.onFrame(frame, false)
  }

  detach (h: Handle): void {
    if (!this.handles.delete(h)) return
    const cancel: CID[] = []
    if (this.handles.size > 0) {
      // sent a frame at a time: a download of a DAG that fans out may have asked about thousands of blocks
      for (const key of new Set([...h.wantBlocks, ...h.wantHaves])) {
        if (this.wanted(key)) continue
        cancel.push(CID.parse(key))
        if (cancel.length === MAX_CIDS_PER_FRAME) this.stream?.send(FrameType.CANCEL, cancel.splice(0))
      }
      h.wantBlocks.clear()
      h.wantHaves.clear()
      if (cancel.length > 0) this.stream?.send(FrameType.CANCEL, cancel)
      return
    }
    // the stream ends with this download, and the provider forgets its WANT_HAVEs with it: only
    // the blocks asked for (at most a window each) are cancelled, so they stop coming
    for (const key of h.wantBlocks) cancel.push(CID.parse(key))
    h.wantBlocks.clear()
    h.wantHaves.clear()
    // the last download left: end our side after cancelling what is outstanding
    const stream = this.stream
    this.stream = undefined
    this.owner.forget(this)
    stream?.drain({ type: FrameType.CANCEL, cids: cancel })
  }

  /** Resets the stream for every download; `by`, the one that asked, is not told (it knows). */
  reset (err: Error, by?: Handle): void {
    const stream = this.stream
    if (stream == null) return
    if (by != null) {
      by.detached = true
      this.handles.delete(by)
    }
    stream.abort(err)
    this.ended(err)
  }

  /** The stream is gone: every download attached hears it and attaches again (to a new stream). */
  private ended (err?: Error): void {
    this.stream = undefined
    const handles = [...this.handles]
    this.handles.clear()
    this.owner.forget(this)
    for (const h of handles) {
      h.wantBlocks.clear()
      h.wantHaves.clear()
      h.detached = true
      h.endedWith = err ?? new Error('the provider closed the stream')
    }
    for (const h of handles) h.client.onEnd(err)
  }
}

/** Every peer link of one transfer. */
export class PeerLinks {
  private readonly links = new Map<string, PeerLink>()
  readonly stats: PeerLinkStats = { opened: 0 }

  constructor (readonly network: TransferNetwork) {}

  /**
   * Attaches a download to `peer`'s block stream, opening it if needed. Rejects like
   * openStream (the peer refused, or `signal` aborted the open), or with LinkEndedError when the
   * stream ended before the handle was returned: nothing stays attached then. The client's
   * callbacks may run before this resolves (frames of other downloads, the stream's end).
   */
  async attach (peer: string, client: LinkClient, signal: AbortSignal): Promise<LinkHandle> {
    let link = this.links.get(peer)
    if (link == null) {
      link = new PeerLink(peer, this)
      this.links.set(peer, link)
    }
    const h = new Handle(link, client)
    link.handles.add(h)
    try {
      await link.connect(signal)
    } catch (err) {
      h.detached = true
      link.handles.delete(h)
      if (link.handles.size === 0) this.forget(link)
      throw err
    }
    // ended() already told the client (before it held the handle) and forgot the link
    if (h.detached) throw new LinkEndedError(h.endedWith)
    return h
  }

  forget (link: PeerLink): void {
    if (this.links.get(link.peer) === link) this.links.delete(link.peer)
  }

  /** `peer` connected again: an open to it in progress is dropped and made anew (PeerLink.redial). */
  redial (peer: string): void {
    this.links.get(peer)?.redial()
  }

  /** Every link reset (the transfer stops). */
  close (err: Error): void {
    for (const link of [...this.links.values()]) link.reset(err)
    this.links.clear()
  }
}
