/**
 * One download, wiring the fetch components together: the want list (what is missing, who has
 * it), the providers and their health, the pure scheduler, the landing pipeline. The session
 * owns the timers and turns frames into want-list updates, plans into WANT_BLOCKs.
 *
 * Every change re-plans, once per turn of the event loop; every plan's `wakeAt` is armed (a
 * deferred block is always asked again).
 */
import { setMaxListeners } from 'node:events'
import { CustomProgressEvent } from 'progress-events'
import { verifyBytes, type BlockBytes, type CID, type DagNode } from '../../content/index.js'
import { BUSY_BACKOFF_MS, LATER_MS, MAX_DUPLICATE_REQUESTS, PROVIDER_LEFT_GRACE_MS, SILENT_PEER_MS, SUSPEND_GAP_MS } from '../constants.js'
import { TransferNotStartedError } from '../errors.js'
import { FrameType, type Frame } from '../messages.js'
import { Landing } from './landing.js'
import { RateMeter, type FetchProvider } from './provider.js'
import { ProviderSet } from './providers.js'
import { plan } from './scheduler.js'
import { explainTimeout, leftError } from './verdict.js'
import { WantList, type Want } from './want-list.js'
import type { FetchProgress, FetchProviderProgress, FetchResult, PeerReceived, SessionHost, SessionOptions } from './types.js'
import { walkLocal, type Walker } from './walk.js'

export class FetchSession implements Walker {
  readonly rootKey: string
  readonly wants: WantList
  readonly present = new Set<string>()
  readonly providers: ProviderSet
  total?: number
  bytesPresent = 0
  blocksPresent = 0
  expanding = 0
  private readonly controller = new AbortController()
  private readonly started = Date.now()
  private readonly landing: Landing
  private readonly meter = new RateMeter()
  private settle?: { resolve: (r: FetchResult) => void, reject: (e: unknown) => void }
  finished = false
  private found = false
  private received = 0
  private blocksReceived = 0
  private duplicates = 0
  private invalid = 0
  private idleTimer?: ReturnType<typeof setTimeout>
  private healthTimer?: ReturnType<typeof setInterval>
  private wakeTimer?: ReturnType<typeof setTimeout>
  private wakeAt = Infinity
  /** A plan is due in the next turn of the event loop (schedule()). */
  private planQueued = false
  private readonly onPeerEvent = (evt: CustomEvent<{ peer: string }>): void => { this.providers.peerEvent(evt.type, evt.detail.peer) }

  constructor (readonly root: CID, readonly host: SessionHost, private readonly options: SessionOptions) {
    // every stream opened for this download listens on it (libp2p's dial), and there may be many providers
    setMaxListeners(Infinity, this.controller.signal)
    this.rootKey = root.toString()
    this.wants = new WantList(host.limits.maxPendingBlocks)
    const self = this
    this.landing = new Landing(host.store, host)
    this.providers = new ProviderSet({
      host,
      signal: this.controller.signal,
      get finished () { return self.finished },
      unlanded: () => this.wants.unlanded(),
      release: (peer, key) => { this.wants.release(peer, key) },
      forget: (peer) => { this.wants.forget(peer) },
      onFrame: (p, frame, shared) => { this.onFrame(p, frame, shared) },
      changed: () => { this.schedule() },
      emit: (p, status, reason) => { this.emitProvider(p, status, reason) }
    })
  }

  get shallow (): boolean {
    return this.options.shallow === true
  }

  get finishedOrAborted (): boolean {
    return this.finished
  }

  /** Aborts the download (transfer stopping). */
  abort (err: Error): void {
    this.fail(err)
  }

  async run (): Promise<FetchResult> {
    const signal = this.options.signal
    const onAbort = (): void => { this.fail(signal?.reason ?? new Error('aborted')) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const done = new Promise<FetchResult>((resolve, reject) => { this.settle = { resolve, reject } })
    // awaited below, after the walk of what is stored: a fetch aborted (or failed) during that
    // walk rejects it before anyone awaits it, which must not count as an unhandled rejection
    // (a `swarmdrop start` whose client went away at that moment exited with it)
    done.catch(() => {})
    const net = this.host.network
    try {
      await walkLocal(this, this.root, true)
      // aborted or failed during the walk: no timer, listener or provider is started
      if (this.finished) return await done
      if (this.wants.size === 0) {
        this.complete()
        return await done
      }
      this.progress('transfer:fetch:root')
      this.resetIdle()
      this.lastTick = Date.now()
      const tick = Math.max(100, Math.min(1000, this.host.limits.stallTimeout / 4))
      this.healthTimer = setInterval(() => { this.checkHealth() }, tick)
      this.healthTimer.unref?.()
      net.addEventListener?.('peer:disconnect', this.onPeerEvent)
      net.addEventListener?.('peer:connect', this.onPeerEvent)
      for (const p of this.options.providers ?? []) this.providers.add(p)
      if (this.options.findProviders != null) void this.discover()
      return await done
    } catch (err) {
      this.fail(err)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      net.removeEventListener?.('peer:disconnect', this.onPeerEvent)
      net.removeEventListener?.('peer:connect', this.onPeerEvent)
      this.cleanup()
    }
  }

  /** Another download stored `key`: if this one wants it, take it from the store. */
  blockStored (key: string): void {
    const w = this.wants.get(key)
    if (this.finished || w == null || w.landing) return
    w.landing = true
    this.landing.local(w.cid, w.isRoot).then(async (landed) => {
      if (this.finished) return
      if (landed == null || !landed.ok) {
        w.landing = false
        return
      }
      this.cancelElsewhere(w)
      await this.gotBlock(w, landed.node)
    }).catch((err) => { this.fail(err) }).finally(() => { this.afterLanding() })
  }

  // ---- providers ----

  private async discover (): Promise<void> {
    try {
      const found = this.options.findProviders?.(this.rootKey, { signal: this.controller.signal })
      if (found == null) return
      for await (const peer of found) {
        if (this.finished) break
        this.providers.add(peer)
        // the swarm says it holds the file (the catalog, an answer to a want): one that leaves
        // before its first HAVE has left with blocks of this download, and the verdict names it
        // (leftError) instead of a "not found" at the idle timeout
        const p = this.providers.all.get(peer)
        if (p != null) p.listed = true
      }
    } catch (err) {
      if (!this.finished) this.host.log('provider discovery for %s ended: %e', this.rootKey, err)
    }
  }

  /** Health round: stalls, retries, and the end when every provider that had blocks left. */
  private checkHealth (): void {
    if (this.finished) return
    const now = Date.now()
    if (this.wokeUp(now)) return
    this.providers.check(now)
    const left = leftError(this.rootKey, this.providers.all.values(), this.wants.size, now, PROVIDER_LEFT_GRACE_MS, peer => this.wants.mayHold(peer), Math.max(SILENT_PEER_MS, this.host.limits.stallTimeout), this.host.label)
    if (left != null) this.fail(left)
  }

  // ---- frames ----

  private onFrame (p: FetchProvider, frame: Frame, shared = false): void {
    if (this.finished) return
    const now = Date.now()
    const since = p.owingSince
    if (p.heard(now)) this.emitProvider(p, 'added', 'answering again')
    switch (frame.type) {
      case FrameType.BLOCK:
        void this.onBlock(p, since, frame.cid, frame.data, shared)
        return
      case FrameType.HAVE:
        for (const cid of frame.cids) {
          const key = cid.toString()
          if (!this.wants.have(p.peer, key)) continue
          p.everHad = true
          if (key === this.rootKey) this.found = true
        }
        break
      case FrameType.DONT_HAVE:
        for (const cid of frame.cids) {
          const key = cid.toString()
          p.asked.delete(key)
          this.wants.dontHave(p.peer, key)
        }
        break
      case FrameType.LATER:
        p.saidLater = true
        for (const cid of frame.cids) {
          const key = cid.toString()
          if (p.asked.delete(key)) this.wants.later(p.peer, key, now + LATER_MS)
        }
        break
      case FrameType.BUSY:
        for (const cid of frame.cids) {
          const key = cid.toString()
          if (p.asked.delete(key)) this.wants.release(p.peer, key)
        }
        p.busyStrikes = Math.min(p.busyStrikes + 1, 4)
        p.busyUntil = now + BUSY_BACKOFF_MS * 2 ** (p.busyStrikes - 1)
        break
      default:
        return // requests and unknown frames mean nothing to a requester
    }
    this.schedule()
  }

  /** `shared`: another download was handed the same copy and reports it to the transfer's totals. */
  private async onBlock (p: FetchProvider, since: number, cid: Extract<Frame, { type: typeof FrameType.BLOCK }>['cid'], data: BlockBytes, shared: boolean): Promise<void> {
    const key = cid.toString()
    const now = Date.now()
    const received: SessionHost['onReceived'] = (...args) => { if (!shared) this.host.onReceived(...args) }
    const asked = p.asked.delete(key)
    this.received += data.byteLength
    this.meter.record(now, data.byteLength)
    if (asked) p.delivered(now, since, data.byteLength, this.host.limits)
    const w = this.wants.get(key)
    if (w == null || w.landing) {
      if (w != null) this.wants.release(p.peer, key)
      // a copy nobody waits for (cancelled on its way, or never asked) is checked all the same:
      // a peer that sends blocks that do not match their CIDs is a liar, asked or not
      if (!verifyBytes(cid, data)) {
        this.wrongBlock(p, key, data.byteLength, received, shared)
        this.schedule()
        return
      }
      this.duplicates++
      received(p.peer, data.byteLength, true, false)
      this.schedule()
      return
    }
    w.landing = true
    this.wants.release(p.peer, key)
    try {
      const landed = await this.landing.land(w.cid, data, w.isRoot)
      if (this.finished) return
      if (!landed.ok) {
        w.landing = false
        this.wrongBlock(p, key, data.byteLength, received, shared)
        return
      }
      received(p.peer, data.byteLength, false, false)
      p.bytes += data.byteLength
      p.blocks++
      this.blocksReceived++
      this.cancelElsewhere(w)
      await this.gotBlock(w, landed.node, p.peer)
    } catch (err) {
      this.fail(err)
    } finally {
      this.afterLanding()
    }
  }

  /** `p` sent bytes that do not hash to `key`: counted as invalid, and `p` banned from this download. */
  private wrongBlock (p: FetchProvider, key: string, bytes: number, received: SessionHost['onReceived'], shared: boolean): void {
    this.invalid++
    received(p.peer, bytes, false, true)
    // one wrong copy handed to several downloads (peer-link.ts) is one offence: penalized once
    this.providers.ban(p, key, !shared)
  }

  /** The first copy wins: the block is cancelled wherever else it is asked. */
  private cancelElsewhere (w: Want): void {
    for (const peer of w.requested.keys()) {
      const other = this.providers.all.get(peer)
      if (other?.asked.delete(w.key) === true) other.link?.send(FrameType.CANCEL, [w.cid])
    }
    this.wants.releaseAll(w)
  }

  /** A wanted block is in the store: count it, walk its children. */
  private async gotBlock (w: Want, node: DagNode | undefined, peer?: string): Promise<void> {
    this.wants.remove(w.key)
    this.present.add(w.key)
    this.blocksPresent++
    if (node != null) {
      if (w.isRoot) this.total = node.fileSize ?? this.total
      this.bytesPresent += w.internal ? node.ownBytes : w.fileBytes
      if (!(this.shallow && w.isRoot)) for (const child of node.children) await walkLocal(this, child.cid, false, child.fileBytes)
      if (w.isRoot) this.progress('transfer:fetch:root')
    } else {
      this.bytesPresent += w.fileBytes
    }
    this.resetIdle()
    if (peer != null) this.options.onProgress?.(new CustomProgressEvent('transfer:fetch:block', { ...this.snapshot(), block: w.key, peer }))
  }

  private afterLanding (): void {
    if (this.finished) return
    const fresh = this.wants.takeFresh()
    if (fresh.length > 0) {
      for (const p of this.providers.all.values()) p.link?.send(FrameType.WANT_HAVE, fresh)
      // another download may have stored one since this one looked (it waited untracked beyond
      // maxPendingBlocks, or a walk was between its store check and the want): take it from there
      for (const cid of fresh) {
        const key = cid.toString()
        this.host.store.has(key).then((stored) => { if (stored) this.blockStored(key) }, () => {})
      }
    }
    this.schedule()
    if (this.wants.size === 0 && this.landing.pending === 0 && this.expanding === 0) this.complete()
  }

  // ---- scheduling ----

  /**
   * Re-plans once what happened in this turn of the event loop: a frame, a landing, a provider's
   * change each call it, and a socket read can bring dozens of frames (HAVEs from 8 peers in a
   * swarm), where one plan over the want list serves them all. Profiled in a 64 MiB swarm fetch
   * (8 fetchers), planning on every event was the transfer's largest cost.
   */
  private schedule (): void {
    if (this.planQueued || this.finished) return
    this.planQueued = true
    setImmediate(() => {
      this.planQueued = false
      try {
        this.planNow()
      } catch (err) {
        // no caller is left to catch it (a frame's or a landing's used to): the download fails, not the process
        this.fail(err)
      }
    })
  }

  private planNow (): void {
    if (this.finished) return
    if (!this.host.isStarted()) {
      this.fail(new TransferNotStartedError(true))
      return
    }
    if (this.landing.pending >= this.host.limits.maxPendingWrites) return // a landing re-plans
    const now = Date.now()
    const { requests, wakeAt } = plan({
      wants: this.wants.values(),
      missing: this.wants.size,
      providers: this.providers.all,
      minWindow: this.host.limits.minWindow,
      maxDuplicates: MAX_DUPLICATE_REQUESTS
    }, now)
    for (const [peer, keys] of requests) {
      const p = this.providers.all.get(peer)
      if (p?.link == null) continue
      const cids: CID[] = []
      for (const key of keys) {
        const w = this.wants.get(key)
        if (w == null) continue
        this.wants.request(peer, key, now)
        p.asking(key, now)
        cids.push(w.cid)
      }
      p.link.send(FrameType.WANT_BLOCK, cids)
    }
    if (wakeAt != null) this.wake(wakeAt, now)
  }

  /** Re-plans at `at` (an earlier wake-up re-plans and re-arms whatever is still deferred). */
  private wake (at: number, now: number): void {
    if (this.wakeTimer != null && this.wakeAt <= at) return
    if (this.wakeTimer != null) clearTimeout(this.wakeTimer)
    this.wakeAt = at
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined
      this.wakeAt = Infinity
      this.schedule()
    }, Math.max(0, at - now) + 1)
    this.wakeTimer.unref?.()
  }

  // ---- progress, completion, failure ----

  snapshot (): FetchProgress {
    let open = 0
    for (const p of this.providers.all.values()) if (p.state === 'open') open++
    const s: FetchProgress = {
      cid: this.rootKey,
      bytes: this.bytesPresent,
      blocks: this.blocksPresent,
      received: this.received,
      providers: open,
      rate: this.meter.rate(Date.now())
    }
    if (this.total != null) s.total = this.total
    if (this.wants.internal === 0 && this.expanding === 0 && this.present.has(this.rootKey)) s.totalBlocks = this.blocksPresent + this.wants.size
    return s
  }

  private progress (type: 'transfer:fetch:root' | 'transfer:fetch:complete'): void {
    this.options.onProgress?.(new CustomProgressEvent(type, this.snapshot()))
  }

  private emitProvider (p: FetchProvider, status: FetchProviderProgress['status'], reason?: string): void {
    const detail: FetchProviderProgress = { cid: this.rootKey, peer: p.peer, status }
    if (reason != null) detail.reason = reason
    this.options.onProgress?.(new CustomProgressEvent('transfer:fetch:provider', detail))
  }

  /**
   * The process was suspended (a laptop's lid closed, SIGSTOP) or its event loop blocked: the
   * health round, due every second at most, did not run for SUSPEND_GAP_MS. Nothing that
   * happened meanwhile says anything about the providers (their silence was this node's sleep,
   * and they may have dropped the connections to it): the idle and stall clocks start again and
   * every provider that is not open is asked again at once. True when it was so.
   */
  private wokeUp (now: number): boolean {
    const gap = now - this.lastTick
    this.lastTick = now
    if (gap < SUSPEND_GAP_MS) return false
    this.host.log('fetch of %s: the process was suspended for %d ms; its clocks start again', this.rootKey, gap)
    this.resetIdle()
    for (const p of this.providers.all.values()) {
      p.lastHeard = now
      p.owingSince = now
      p.leftAt = undefined
      if (p.state === 'down' || p.state === 'left') p.retryAt = 0
    }
    this.providers.check(now)
    this.schedule()
    return true
  }

  private lastTick = Date.now()

  private resetIdle (): void {
    if (this.idleTimer != null) clearTimeout(this.idleTimer)
    const timeout = this.options.timeout
    this.idleTimer = setTimeout(() => {
      // a timer that fires late by more than a health round's gap: the process was suspended
      if (this.wokeUp(Date.now())) return
      this.fail(explainTimeout({
        cid: this.rootKey,
        timeout,
        found: this.found || this.present.has(this.rootKey),
        providers: [...this.providers.all.values()],
        missing: this.wants.size,
        now: Date.now(),
        holds: peer => this.wants.mayHold(peer),
        label: this.host.label
      }))
    }, timeout)
  }

  private complete (): void {
    if (this.finished) return
    // every byte is here. The count can fall short of it: the bytes under a dag-pb node that the
    // DAG links more than once (a file with a repeated, aligned run of 1 GiB or more) are counted
    // when its children are walked, once
    if (this.total != null && !this.shallow) this.bytesPresent = this.total
    this.progress('transfer:fetch:complete')
    this.finished = true
    const providers: Record<string, PeerReceived> = {}
    for (const p of this.providers.all.values()) if (p.blocks > 0) providers[p.peer] = { bytes: p.bytes, blocks: p.blocks }
    this.settle?.resolve({
      cid: this.rootKey,
      size: this.total ?? 0,
      blocks: this.blocksPresent,
      blocksReceived: this.blocksReceived,
      bytesReceived: this.received,
      duplicates: this.duplicates,
      invalid: this.invalid,
      providers,
      banned: [...this.providers.banned],
      elapsed: Date.now() - this.started
    })
    this.cleanup()
  }

  private fail (err: unknown): void {
    if (this.finished) return
    this.finished = true
    this.settle?.reject(err)
    this.cleanup()
  }

  private cleaned = false

  private cleanup (): void {
    this.finished = true
    if (this.cleaned) return
    this.cleaned = true
    if (this.idleTimer != null) clearTimeout(this.idleTimer)
    if (this.healthTimer != null) clearInterval(this.healthTimer)
    if (this.wakeTimer != null) clearTimeout(this.wakeTimer)
    this.controller.abort(new Error('download finished'))
    this.providers.close()
  }
}
