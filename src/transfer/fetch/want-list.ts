/**
 * The want list of one download: every block still missing, who is known to have it, who it
 * is asked of now, and who answered LATER. It only records; the scheduler (scheduler.ts)
 * decides, the session sends. Keys are the store's CID strings.
 *
 * Missing blocks are tracked up to a bound (`maxTracked`); further ones found while walking
 * the DAG wait in a queue of bare CID strings and are tracked as blocks land (issue 18: a DAG
 * that fans out must not hold a large record per block it has not asked for yet).
 *
 * A tracked block costs ~1 KB of heap, a waiting one ~150 B (measured with 65,536 of each,
 * test/security-replication.test.ts); they were ~2.5 KB and ~1.3 KB while keys were cons
 * chains (see flatString), every want had its own three empty collections and waiting blocks
 * were CID objects.
 */
import { cidKey, DAG_PB_CODEC, parseCid, type CID } from '../../content/index.js'
import type { PlanWant } from './scheduler.js'

export interface Want extends PlanWant {
  readonly cid: CID
  readonly isRoot: boolean
  /** File bytes this block stands for (summed over every place the DAG links it). */
  fileBytes: number
  /** Changed only through the WantList: empty ones are shared until the first peer is added. */
  readonly haveAt: ReadonlySet<string>
  readonly requested: ReadonlyMap<string, number>
  readonly later: ReadonlyMap<string, number>
  landing: boolean
}

/** Mutable view of a want's peer collections, for the WantList only. */
interface Peers {
  haveAt: Set<string>
  requested: Map<string, number>
  later: Map<string, number>
}

/**
 * The collections of a want no peer has touched: shared (three empty Maps and Sets cost ~600 B
 * per want, most of a want that waits for a provider that never comes). Never written to: the
 * WantList replaces one with a new collection before adding to it (deleting from or clearing
 * an empty one is harmless).
 */
const NO_PEERS: ReadonlySet<string> = new Set()
const NO_TIMES: ReadonlyMap<string, number> = new Map()

export class WantList {
  private readonly wants = new Map<string, Want>()
  /** Blocks beyond maxTracked: CID string → file bytes, in the order found (a Map keeps it). */
  private readonly waiting = new Map<string, number>()
  /** Wants added since the providers were last told (sent as WANT_HAVE). */
  private fresh: CID[] = []
  /** dag-pb nodes still missing: while there are any, the DAG's size is not known. */
  internal = 0

  constructor (private readonly maxTracked = Infinity) {}

  get size (): number {
    return this.wants.size + this.waiting.size
  }

  /** Blocks tracked now (the scheduler's view). */
  get tracked (): number {
    return this.wants.size
  }

  get (key: string): Want | undefined {
    return this.wants.get(key)
  }

  values (): IterableIterator<Want> {
    return this.wants.values()
  }

  /** True when the block is wanted (tracked or waiting); adds `fileBytes` to what it stands for. */
  addBytes (key: string, fileBytes: number): boolean {
    const known = this.wants.get(key)
    if (known != null) {
      known.fileBytes += fileBytes
      return true
    }
    const waiting = this.waiting.get(key)
    if (waiting == null) return false
    this.waiting.set(key, waiting + fileBytes)
    return true
  }

  add (cid: CID, fileBytes: number, isRoot = false): void {
    // the store's key, flat: a DAG that fans out has tens of thousands of these (~1.6 KB each as cons chains)
    const key = cidKey(cid)
    if (this.addBytes(key, fileBytes)) return
    if (!isRoot && this.wants.size >= this.maxTracked) {
      this.waiting.set(key, fileBytes)
      return
    }
    this.track(cid, key, fileBytes, isRoot)
  }

  private track (cid: CID, key: string, fileBytes: number, isRoot: boolean): void {
    const want: Want = {
      key,
      cid,
      internal: cid.code === DAG_PB_CODEC,
      isRoot,
      fileBytes,
      prio: Math.random(),
      haveAt: NO_PEERS,
      requested: NO_TIMES,
      later: NO_TIMES,
      landing: false
    }
    if (want.internal) this.internal++
    this.wants.set(want.key, want)
    this.fresh.push(cid)
  }

  /** CIDs added since the last call: to be asked of every open provider with WANT_HAVE. */
  takeFresh (): CID[] {
    const out = this.fresh
    this.fresh = []
    return out
  }

  /** CIDs to ask a newly opened stream about. */
  unlanded (): CID[] {
    const out: CID[] = []
    for (const w of this.wants.values()) if (!w.landing) out.push(w.cid)
    return out
  }

  /** The block is here: forgets it, and tracks waiting blocks in its place. */
  remove (key: string): Want | undefined {
    const w = this.wants.get(key)
    if (w == null) return undefined
    this.wants.delete(key)
    if (w.internal) this.internal--
    for (const [key, fileBytes] of this.waiting) {
      if (this.wants.size >= this.maxTracked) break
      this.waiting.delete(key)
      this.track(parseCid(key), key, fileBytes, false)
    }
    return w
  }

  /** `peer` has `key`; true when that is news. */
  have (peer: string, key: string): boolean {
    const w = this.wants.get(key)
    if (w == null || w.haveAt.has(peer)) return false
    const p = w as unknown as Peers
    if (w.haveAt === NO_PEERS) p.haveAt = new Set()
    p.haveAt.add(peer)
    return true
  }

  dontHave (peer: string, key: string): void {
    const w = this.wants.get(key) as Peers | undefined
    if (w == null) return
    w.requested.delete(peer)
    w.haveAt.delete(peer)
  }

  request (peer: string, key: string, now: number): void {
    const w = this.wants.get(key)
    if (w == null) return
    const p = w as unknown as Peers
    if (w.requested === NO_TIMES) p.requested = new Map()
    p.requested.set(peer, now)
  }

  release (peer: string, key: string): void {
    (this.wants.get(key) as Peers | undefined)?.requested.delete(peer)
  }

  /** The block is no longer asked of anyone (it landed from one of them). */
  releaseAll (w: Want): void {
    (w as unknown as Peers).requested.clear()
  }

  later (peer: string, key: string, until: number): void {
    const w = this.wants.get(key)
    if (w == null) return
    const p = w as unknown as Peers
    p.requested.delete(peer)
    if (w.later === NO_TIMES) p.later = new Map()
    p.later.set(peer, until)
  }

  /**
   * `peer` may have a missing block: it said HAVE for a tracked one, or blocks wait untracked
   * (never asked about, so nothing is known of who has them).
   */
  mayHold (peer: string): boolean {
    if (this.waiting.size > 0) return true
    for (const w of this.wants.values()) if (w.haveAt.has(peer)) return true
    return false
  }

  /** Nothing of `peer` counts any more (it sent a wrong block). */
  forget (peer: string): void {
    for (const w of this.wants.values()) {
      const p = w as unknown as Peers
      p.haveAt.delete(peer)
      p.requested.delete(peer)
      p.later.delete(peer)
    }
  }
}
