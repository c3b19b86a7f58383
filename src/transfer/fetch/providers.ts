/**
 * The providers of one download: opens a block stream to each, re-opens it after a stall or a
 * break (bounded backoff, provider.ts), hears the network's peer:disconnect / peer:connect, and
 * bans a provider that sent a wrong block. What comes in on the streams goes to the session.
 */
import type { CID } from '../../content/index.js'
import { BACKOFF_MAX_MS, INVALID_BLOCK_PENALTY, PROTOCOL_VIOLATION_PENALTY } from '../constants.js'
import { BlockProtocolError } from '../errors.js'
import { FrameType, type Frame } from '../messages.js'
import { LinkEndedError, LinkRedialError, type LinkHandle } from './peer-link.js'
import { FetchProvider } from './provider.js'
import type { FetchProviderProgress, SessionHost } from './types.js'

/** What the provider set needs from its session. */
export interface ProvidersOwner {
  readonly host: SessionHost
  readonly finished: boolean
  /** Aborted when the download ends: dials in progress stop. */
  readonly signal: AbortSignal
  /** Missing blocks not being written: what a new stream asks about (WANT_HAVE). */
  unlanded: () => CID[]
  /** Requests to this provider are void (its stream is gone). */
  release: (peer: string, key: string) => void
  /** A provider sent a wrong block: forget what it announced. */
  forget: (peer: string) => void
  /** `shared`: a BLOCK another download on the same peer link was handed too (peer-link.ts). */
  onFrame: (p: FetchProvider, frame: Frame, shared: boolean) => void
  /** Something changed that may let more blocks be asked for. */
  changed: () => void
  emit: (p: FetchProvider, status: FetchProviderProgress['status'], reason?: string) => void
}

/**
 * Whether `test` holds for a dial error: for the error or one of its causes, or for `attempts`
 * ('some' or 'every') of the errors an aggregate holds (libp2p's dial: one per address).
 */
function dialErrorIs (err: any, test: (e: any) => boolean, attempts: 'some' | 'every'): boolean {
  for (let e = err, depth = 0; e != null && depth < 5; e = e.cause, depth++) {
    if (test(e)) return true
    if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors[attempts]((x: unknown) => dialErrorIs(x, test, attempts))) return true
  }
  return false
}

/** A dial error that says this node itself has no network (no route out of it), not that the peer is gone. */
export function isOffline (err: unknown): boolean {
  return dialErrorIs(err, e => ['ENETUNREACH', 'ENETDOWN'].includes(e.code) || /\b(ENETUNREACH|ENETDOWN)\b/.test(String(e.message ?? '')), 'some')
}

/** A dial error that says nothing listens at the peer's addresses (its node stopped), or it has none left. */
export function isRefused (err: unknown): boolean {
  return dialErrorIs(err, e => e.code === 'ECONNREFUSED' || e.name === 'NoValidAddressesError' || /\bECONNREFUSED\b|connection refused/i.test(String(e.message ?? '')), 'every')
}

export class ProviderSet {
  readonly all = new Map<string, FetchProvider>()
  readonly banned: string[] = []

  constructor (private readonly owner: ProvidersOwner) {}

  private get host (): SessionHost {
    return this.owner.host
  }

  /** A provider to ask (given, discovered, or announced again). */
  add (peer: string): void {
    if (this.owner.finished || peer === this.host.network.peerId) return
    const known = this.all.get(peer)
    if (known != null) {
      // heard of again (a new announcement): retry now if it was away
      if (known.state === 'down' || known.state === 'left') known.retryAt = 0
      return
    }
    const p = new FetchProvider(peer, this.host.limits.initialWindow, Date.now())
    this.all.set(peer, p)
    void this.connect(p)
  }

  /** The network's peer:connect / peer:disconnect. */
  peerEvent (type: string, peer: string): void {
    const p = this.all.get(peer)
    if (p == null || this.owner.finished || p.state === 'banned') return
    if (type === 'peer:connect') {
      // an open made while it was away may hang on its old connection's dead addresses: dropped
      // for every download waiting for it (they get LinkRedialError and attach again)
      this.host.links.redial(peer)
      if (p.state === 'down' || p.state === 'left') {
        p.retryAt = 0
        this.check(Date.now())
      }
      return
    }
    this.linkDown(p, 'left', 'it disconnected')
  }

  private async connect (p: FetchProvider): Promise<void> {
    p.state = 'connecting'
    const dial = new AbortController()
    p.dial = dial
    const signal = AbortSignal.any([this.owner.signal, dial.signal, AbortSignal.timeout(this.host.limits.stallTimeout)])
    // the handle, once attach() returned it: what the shared stream carries before that (answers
    // to other downloads, or its end, which makes attach() reject) is not this download's yet
    let link: LinkHandle | undefined
    try {
      // the peer's one block stream, shared with every other download asking it (peer-link.ts)
      link = await this.host.links.attach(p.peer, {
        onFrame: (frame, shared) => { if (link != null && p.link === link) this.owner.onFrame(p, frame, shared) },
        // blocks for other downloads on the same stream: it is serving, in its order (not stalled)
        onActive: () => {
          if (link == null || p.link !== link) return
          if (p.heard(Date.now())) this.owner.emit(p, 'added', 'answering again')
        },
        onEnd: (err) => {
          if (link == null || p.link !== link) return
          this.penalizeViolation(p.peer, err)
          this.linkDown(p, 'down', err?.message ?? 'the provider closed the stream')
        }
      }, signal)
      if (this.owner.finished || p.state !== 'connecting' || p.dial !== dial) {
        link.detach()
        return
      }
      // the stream ended in the moment between attach() and here: its end was not ours to hear yet
      if (!link.open) throw new LinkEndedError()
      p.link = link
      p.state = 'open'
      p.offline = false
      p.leftAt = undefined
      p.stalledSince = undefined
      p.heard(Date.now())
      this.owner.emit(p, 'added')
      // ask which of the missing blocks it has; it answers now and again as it gets more
      link.send(FrameType.WANT_HAVE, this.owner.unlanded())
      this.owner.changed()
    } catch (err: any) {
      if (this.owner.finished || p.state !== 'connecting' || p.dial !== dial) return
      if (err instanceof LinkRedialError) {
        void this.connect(p)
        return
      }
      const timedOut = signal.aborted && !this.owner.signal.aborted
      const reason = timedOut ? `no stream within ${this.host.limits.stallTimeout} ms` : String(err?.message ?? err)
      this.host.log('cannot open a block stream to %p: %s', p.peer, reason)
      p.failed(Date.now(), reason)
      if (err instanceof LinkEndedError) this.penalizeViolation(p.peer, err.cause)
      // this node has no route at all (its own link is down: ENETUNREACH): the provider did not
      // leave, this node is offline. Down, not left: the idle timeout decides, and names it
      p.offline = !timedOut && isOffline(err)
      // only a refusal says it left (its node stopped: nothing listens on its port). Anything
      // else may be a blip: its host does not answer (EHOSTUNREACH, a dial that hangs: a laptop
      // whose Wi-Fi dropped), or a connection that died in an outage ends as it is used (EOF,
      // reset) before the ping monitor closed it. Down, not left: the idle timeout decides
      const unreachable = timedOut || p.offline || !isRefused(err)
      if (unreachable) p.leftAt = undefined
      // a refused dial means it is gone; a dial that hangs, or a stream that ended as it opened,
      // may be a network blip: retried after the backoff
      if (unreachable || err instanceof LinkEndedError) {
        p.state = 'down'
        this.owner.emit(p, 'failed', reason)
      } else {
        p.state = 'left'
        if (p.leftAt == null) {
          p.leftAt = Date.now()
          this.owner.emit(p, 'left', reason)
        }
      }
    }
  }

  /** The shared stream ended because `peer` broke the block protocol: its score is lowered. */
  private penalizeViolation (peer: string, err: unknown): void {
    if (err instanceof BlockProtocolError) this.host.network.penalize(peer, PROTOCOL_VIOLATION_PENALTY)
  }

  /** Its stream broke or it disconnected: requests go to the others, it is retried after a backoff. */
  private linkDown (p: FetchProvider, state: 'down' | 'left', reason: string): void {
    const now = Date.now()
    // a stream being opened is given up too: a new attempt follows after the backoff
    if (p.state === 'connecting') p.dial?.abort(new Error(reason))
    const link = p.link
    p.link = undefined
    link?.reset(new Error(reason))
    this.releaseAsked(p)
    const leaving = state === 'left' && p.leftAt == null
    if (state === 'left') {
      if (p.state !== 'left') this.owner.emit(p, 'left', reason)
      p.leftAt ??= now
    } else if (p.state === 'open') {
      this.owner.emit(p, 'failed', reason)
    }
    this.host.log('provider %p %s: %s', p.peer, state === 'left' ? 'left' : 'is down', reason)
    if (p.state === 'open' || p.state === 'connecting' || state === 'left') p.state = state
    p.failed(now, reason)
    // its connection is gone: asked again at once, whatever the backoff of earlier stalls. The
    // verdict (leftError) comes PROVIDER_LEFT_GRACE_MS after this; a peer that is still there (a
    // connection the ping monitor dropped after a blip) answers within it, one that left refuses
    // (once per BACKOFF_MAX_MS: a peer whose every new connection ends at once must not be
    // redialled in a loop)
    if (leaving && now - p.quickRetryAt >= BACKOFF_MAX_MS) {
      p.retryAt = now
      p.quickRetryAt = now
    }
    this.owner.changed()
    if (p.due(now)) void this.connect(p)
  }

  private releaseAsked (p: FetchProvider): void {
    for (const key of p.asked.keys()) this.owner.release(p.peer, key)
    p.asked.clear()
  }

  /** Health round: marks stalls, re-opens streams whose backoff is over. */
  check (now: number): void {
    if (this.owner.finished) return
    const { stallTimeout } = this.host.limits
    let changed = false
    for (const p of this.all.values()) {
      if (p.stalls(now, stallTimeout)) {
        p.stalledSince = now
        p.failed(now, `no block for ${stallTimeout} ms`)
        this.host.log('provider %p stalled: nothing for %d ms with %d block(s) outstanding', p.peer, stallTimeout, p.asked.size)
        this.owner.emit(p, 'failed', `no block for ${stallTimeout} ms`)
        changed = true
      }
      if (p.due(now)) {
        // a new stream: the old one (if any) is dropped with what it owed
        const link = p.link
        p.link = undefined
        link?.reset(new Error('stalled: asking again on a new stream'))
        this.releaseAsked(p)
        void this.connect(p)
      }
    }
    if (changed) this.owner.changed()
  }

  /**
   * Drops a provider that sent a wrong block: no more requests to it in this download.
   * `penalize`: false for a copy handed to another download too, which penalizes it (once).
   */
  ban (p: FetchProvider, key: string, penalize = true): void {
    if (p.state === 'banned') return
    p.state = 'banned'
    this.banned.push(p.peer)
    this.host.log('%p sent a block that does not hash to %s: dropped from this download', p.peer, key)
    if (penalize) this.host.network.penalize(p.peer, INVALID_BLOCK_PENALTY)
    this.owner.emit(p, 'banned', `sent a wrong block for ${key}`)
    p.asked.clear()
    this.owner.forget(p.peer)
    // this download stops asking it; others sharing the stream decide for themselves
    p.link?.detach()
    p.link = undefined
    this.owner.changed()
  }

  /** The download ended: it leaves every peer link (its outstanding wants cancelled). */
  close (): void {
    for (const p of this.all.values()) {
      const link = p.link
      p.link = undefined
      p.asked.clear()
      // the stream stays open for other downloads; the last one to leave drains it
      link?.detach()
    }
  }
}
