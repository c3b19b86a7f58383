/**
 * The want list of one download: every block still missing, who is known to have it, who it
 * is asked of now, and who answered LATER. It only records; the scheduler (scheduler.ts)
 * decides, the session sends. Keys are the store's CID strings.
 *
 * Missing blocks are tracked up to a bound (`maxTracked`); further ones found while walking
 * the DAG wait in a queue of bare CIDs and are tracked as blocks land (issue 18: a DAG that
 * fans out must not hold a large record per block it has not asked for yet).
 */
import { DAG_PB_CODEC, type CID } from '../../content/index.js'
import type { PlanWant } from './scheduler.js'

export interface Want extends PlanWant {
  readonly cid: CID
  readonly isRoot: boolean
  /** File bytes this block stands for (summed over every place the DAG links it). */
  fileBytes: number
  haveAt: Set<string>
  requested: Map<string, number>
  later: Map<string, number>
  landing: boolean
}

export class WantList {
  private readonly wants = new Map<string, Want>()
  private readonly waiting: Array<{ cid: CID, fileBytes: number }> = []
  private readonly waitingKeys = new Map<string, { cid: CID, fileBytes: number }>()
  /** Wants added since the providers were last told (sent as WANT_HAVE). */
  private fresh: CID[] = []
  /** dag-pb nodes still missing: while there are any, the DAG's size is not known. */
  internal = 0

  constructor (private readonly maxTracked = Infinity) {}

  get size (): number {
    return this.wants.size + this.waiting.length
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
    const known = this.wants.get(key) ?? this.waitingKeys.get(key)
    if (known == null) return false
    known.fileBytes += fileBytes
    return true
  }

  add (cid: CID, fileBytes: number, isRoot = false): void {
    const key = cid.toString()
    if (this.addBytes(key, fileBytes)) return
    if (!isRoot && this.wants.size >= this.maxTracked) {
      const w = { cid, fileBytes }
      this.waiting.push(w)
      this.waitingKeys.set(key, w)
      return
    }
    this.track(cid, fileBytes, isRoot)
  }

  private track (cid: CID, fileBytes: number, isRoot: boolean): void {
    const want: Want = {
      key: cid.toString(),
      cid,
      internal: cid.code === DAG_PB_CODEC,
      isRoot,
      fileBytes,
      prio: Math.random(),
      haveAt: new Set(),
      requested: new Map(),
      later: new Map(),
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
    while (this.wants.size < this.maxTracked && this.waiting.length > 0) {
      const next = this.waiting.shift()
      if (next == null) break
      this.waitingKeys.delete(next.cid.toString())
      this.track(next.cid, next.fileBytes, false)
    }
    return w
  }

  /** `peer` has `key`; true when that is news. */
  have (peer: string, key: string): boolean {
    const w = this.wants.get(key)
    if (w == null || w.haveAt.has(peer)) return false
    w.haveAt.add(peer)
    return true
  }

  dontHave (peer: string, key: string): void {
    const w = this.wants.get(key)
    if (w == null) return
    w.requested.delete(peer)
    w.haveAt.delete(peer)
  }

  request (peer: string, key: string, now: number): void {
    this.wants.get(key)?.requested.set(peer, now)
  }

  release (peer: string, key: string): void {
    this.wants.get(key)?.requested.delete(peer)
  }

  later (peer: string, key: string, until: number): void {
    const w = this.wants.get(key)
    if (w == null) return
    w.requested.delete(peer)
    w.later.set(peer, until)
  }

  /** Nothing of `peer` counts any more (it sent a wrong block). */
  forget (peer: string): void {
    for (const w of this.wants.values()) {
      w.haveAt.delete(peer)
      w.requested.delete(peer)
      w.later.delete(peer)
    }
  }
}
