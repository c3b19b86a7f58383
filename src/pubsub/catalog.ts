/**
 * The catalog: what this node heard exists in the swarm, and who provides it.
 *
 * Pure state (no network, no timers): the protocol feeds it what it heard and
 * calls expire() on a timer; every change is reported through `emit`.
 */
import type { FileMeta } from './codec.js'
import { MAX_FILES_PER_PROVIDER, MAX_ORPHAN_CIDS, MAX_PROVIDERS_PER_FILE } from './constants.js'

export interface CatalogProvider {
  /** Peer id (base58). */
  peer: string
  /** Holds every block of the file (false: a partial copy, e.g. while downloading). */
  complete: boolean
  /** When this provider was last heard from about this file (ms since the epoch). */
  lastSeen: number
}

export interface CatalogEntry {
  cid: string
  name: string
  size: number
  mediaType: string
  encrypted: boolean
  /** Every provider known, this node included when it provides the file; complete ones first, then most recent. */
  providers: CatalogProvider[]
}

export interface CatalogEvents {
  /** `peer` was newly listed for a file whose metadata is known (by its own announcement or a catalog answer). */
  'file:announced': { entry: CatalogEntry, peer: string }
  /** `peer` withdrew the file (its own signed withdraw). */
  'file:withdrawn': { cid: string, peer: string }
  /** `peer` was newly listed as a provider of `cid` (by announce, have or catalog answer). */
  'provider:added': { cid: string, peer: string }
  /** `peer` is no longer listed for `cid` (withdrawn or expired). */
  'provider:removed': { cid: string, peer: string }
}

export type CatalogEmit = <K extends keyof CatalogEvents>(type: K, detail: CatalogEvents[K]) => void

interface ProviderState {
  complete: boolean
  lastSeen: number
  /** Heard from the provider itself (signed by it), not only reported by another peer. */
  firstHand: boolean
  hasMeta: boolean
}

interface EntryState {
  cid: string
  meta?: FileMeta
  /** The provider whose announcement gave `meta`. */
  metaFrom?: string
  /** `meta` came from that provider itself, not from another peer's report. */
  metaFirstHand?: boolean
  providers: Map<string, ProviderState>
}

export interface AddProvider {
  cid: string
  peer: string
  complete: boolean
  lastSeen: number
  /** Metadata, when the claim carries it (announce, catalog answer). */
  meta?: FileMeta
  firstHand: boolean
}

export type AddResult = 'added' | 'updated' | 'refused'

/** How many withdrawals to remember, so a stale report cannot resurrect a withdrawn provider. */
const MAX_TOMBSTONES = 10_000

export class Catalog {
  private readonly self: string
  private readonly emit: CatalogEmit
  private readonly entries = new Map<string, EntryState>()
  private readonly perProvider = new Map<string, number>()
  private readonly tombstones = new Map<string, number>()
  private orphans = 0

  constructor (self: string, emit: CatalogEmit) {
    this.self = self
    this.emit = emit
  }

  /** Lists `peer` as a provider of `cid` (or refreshes it). */
  add (claim: AddProvider): AddResult {
    const key = `${claim.cid} ${claim.peer}`
    const withdrawnAt = this.tombstones.get(key)
    if (withdrawnAt != null) {
      if (!claim.firstHand && claim.lastSeen <= withdrawnAt) return 'refused'
      this.tombstones.delete(key)
    }
    let entry = this.entries.get(claim.cid)
    if (entry == null) {
      if (claim.meta == null && this.orphans >= MAX_ORPHAN_CIDS) return 'refused'
      entry = { cid: claim.cid, providers: new Map() }
      this.entries.set(claim.cid, entry)
      this.orphans++
    }
    const existing = entry.providers.get(claim.peer)
    const count = this.perProvider.get(claim.peer) ?? 0
    if (existing == null && claim.peer !== this.self && (count >= MAX_FILES_PER_PROVIDER || entry.providers.size >= MAX_PROVIDERS_PER_FILE)) {
      this.dropIfEmpty(entry)
      return 'refused'
    }

    const wasVisible = entry.meta != null
    // metadata: the first heard; replaced only by a provider's own announcement: the same provider's,
    // or any provider's when what we had was only reported by a third peer
    if (claim.meta != null && (entry.meta == null || (claim.firstHand && (entry.metaFrom === claim.peer || entry.metaFirstHand !== true)))) {
      if (entry.meta == null) this.orphans--
      entry.meta = claim.meta
      entry.metaFrom = claim.peer
      entry.metaFirstHand = claim.firstHand
    }

    if (existing == null) {
      entry.providers.set(claim.peer, { complete: claim.complete, lastSeen: claim.lastSeen, firstHand: claim.firstHand, hasMeta: claim.meta != null })
      this.perProvider.set(claim.peer, count + 1)
      this.emit('provider:added', { cid: claim.cid, peer: claim.peer })
      if (claim.meta != null) this.emit('file:announced', { entry: this.view(entry), peer: claim.peer })
      return 'added'
    }

    if (claim.firstHand || claim.lastSeen >= existing.lastSeen) existing.complete = claim.complete
    existing.lastSeen = Math.max(existing.lastSeen, claim.lastSeen)
    existing.firstHand ||= claim.firstHand
    const newlyAnnounced = claim.meta != null && (!existing.hasMeta || !wasVisible)
    existing.hasMeta ||= claim.meta != null
    if (newlyAnnounced) this.emit('file:announced', { entry: this.view(entry), peer: claim.peer })
    return 'updated'
  }

  /** Removes `peer` from `cid`; `withdrawn` when the peer said so itself. */
  remove (cid: string, peer: string, reason: 'withdrawn' | 'expired', at = Date.now()): boolean {
    const entry = this.entries.get(cid)
    if (reason === 'withdrawn') this.tombstone(`${cid} ${peer}`, at)
    if (entry == null || !entry.providers.has(peer)) return false
    entry.providers.delete(peer)
    const count = (this.perProvider.get(peer) ?? 1) - 1
    if (count <= 0) this.perProvider.delete(peer)
    else this.perProvider.set(peer, count)
    if (entry.metaFrom === peer) {
      // keep the metadata while anyone still has the file; prefer another announcer's
      for (const [p, s] of entry.providers) {
        if (s.hasMeta) {
          entry.metaFrom = p
          entry.metaFirstHand = s.firstHand
          break
        }
      }
    }
    if (reason === 'withdrawn') this.emit('file:withdrawn', { cid, peer })
    this.emit('provider:removed', { cid, peer })
    this.dropIfEmpty(entry)
    return true
  }

  /** Removes every provider (but this node) not heard from since `now - ttl`. */
  expire (now: number, ttl: number): void {
    for (const entry of [...this.entries.values()]) {
      for (const [peer, state] of [...entry.providers]) {
        if (peer !== this.self && now - state.lastSeen > ttl) this.remove(entry.cid, peer, 'expired', now)
      }
    }
    for (const [key, at] of this.tombstones) {
      if (now - at > ttl) this.tombstones.delete(key)
    }
  }

  /** Files with known metadata. */
  list (now = Date.now()): CatalogEntry[] {
    const out: CatalogEntry[] = []
    for (const entry of this.entries.values()) {
      if (entry.meta != null) out.push(this.view(entry, now))
    }
    return out
  }

  get (cid: string, now = Date.now()): CatalogEntry | undefined {
    const entry = this.entries.get(cid)
    return entry?.meta == null ? undefined : this.view(entry, now)
  }

  meta (cid: string): FileMeta | undefined {
    return this.entries.get(cid)?.meta
  }

  /** Providers of `cid` (known metadata or not), complete ones first, then the most recently heard. */
  providers (cid: string, now = Date.now()): CatalogProvider[] {
    const entry = this.entries.get(cid)
    return entry == null ? [] : this.providerViews(entry, now)
  }

  /** Every (file, provider) pair with metadata, for catalog answers. */
  * pairs (): Generator<{ meta: FileMeta, peer: string, complete: boolean, lastSeen: number }> {
    for (const entry of this.entries.values()) {
      if (entry.meta == null) continue
      for (const [peer, s] of entry.providers) yield { meta: entry.meta, peer, complete: s.complete, lastSeen: s.lastSeen }
    }
  }

  /** CIDs this node is listed for. */
  ownCids (): string[] {
    const out: string[] = []
    for (const entry of this.entries.values()) if (entry.providers.has(this.self)) out.push(entry.cid)
    return out
  }

  get size (): number {
    return this.entries.size - this.orphans
  }

  private tombstone (key: string, at: number): void {
    this.tombstones.delete(key)
    this.tombstones.set(key, at)
    if (this.tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.tombstones.keys().next().value
      if (oldest != null) this.tombstones.delete(oldest)
    }
  }

  private dropIfEmpty (entry: EntryState): void {
    if (entry.providers.size > 0) return
    this.entries.delete(entry.cid)
    if (entry.meta == null) this.orphans--
  }

  private providerViews (entry: EntryState, now = Date.now()): CatalogProvider[] {
    return [...entry.providers]
      .map(([peer, s]) => ({ peer, complete: s.complete, lastSeen: peer === this.self ? now : s.lastSeen }))
      .sort((a, b) => Number(b.complete) - Number(a.complete) || b.lastSeen - a.lastSeen)
  }

  private view (entry: EntryState, now = Date.now()): CatalogEntry {
    const meta = entry.meta as FileMeta
    return {
      cid: entry.cid,
      name: meta.name,
      size: meta.size,
      mediaType: meta.mediaType,
      encrypted: meta.encrypted,
      providers: this.providerViews(entry, now)
    }
  }
}
