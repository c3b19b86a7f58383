/**
 * The catalog: what this node heard exists in the swarm, and who provides it.
 *
 * Pure state (no network, no timers): the protocol feeds it what it heard and
 * calls expire() on a timer; every change is reported through `emit`. It is
 * bounded as a whole (pairs and bytes, budget.ts), not only per provider, so
 * identities minted by the thousand cannot grow it: past the budget, whole
 * providers are evicted, those known only from reports first, then those not
 * connected, then the most recently met (docs/SECURITY.md, "Catalog").
 */
import type { FileMeta } from './codec.js'
import { MAX_CATALOG_BYTES, MAX_CATALOG_PAIRS, MAX_CONFLICTS_PER_FILE, MAX_FILES_PER_PROVIDER, MAX_ORPHAN_CIDS, MAX_PROVIDERS_PER_FILE, TOMBSTONE_KEEP_MS, MAX_TOMBSTONES } from './constants.js'
import { CatalogBudget, entryBytes } from './budget.js'
import { setNewest } from '../util/newest-map.js'

export interface CatalogProvider {
  /** Peer id (base58). */
  peer: string
  /** Holds every block of the file (false: a partial copy, e.g. while downloading). */
  complete: boolean
  /** When this provider was last heard from about this file (ms since the epoch). */
  lastSeen: number
}

/** Metadata another provider announced for the same CID, differing from the entry's. */
export interface MetaConflict {
  peer: string
  name: string
  size: number
  mediaType: string
  encrypted: boolean
}

export interface CatalogEntry {
  cid: string
  /** The name, size, media type and flag shown: this node's own when it provides the file, else the first provider's own announcement. */
  name: string
  size: number
  mediaType: string
  encrypted: boolean
  /** A folder: the files in it (absent for a file). */
  files?: number
  /** Every provider known, this node included when it provides the file; complete ones first, then most recent. */
  providers: CatalogProvider[]
  /** Other metadata announced for this CID by its providers (at most MAX_CONFLICTS_PER_FILE); absent when all agree. */
  conflicts?: MetaConflict[]
}

export interface CatalogEvents {
  /** `peer` was newly listed for a file whose metadata is known (by its own announcement or a catalog answer). */
  'file:announced': { entry: CatalogEntry, peer: string }
  /** `peer` withdrew the file (its own signed withdraw). */
  'file:withdrawn': { cid: string, peer: string }
  /** `peer` was newly listed as a provider of `cid` (by announce, have or catalog answer). */
  'provider:added': { cid: string, peer: string }
  /** `peer` is no longer listed for `cid` (withdrawn, expired or evicted). */
  'provider:removed': { cid: string, peer: string }
}

export type CatalogEmit = <K extends keyof CatalogEvents>(type: K, detail: CatalogEvents[K]) => void

interface ProviderState {
  complete: boolean
  lastSeen: number
  /** Heard from the provider itself (signed by it), not only reported by another peer. */
  firstHand: boolean
  hasMeta: boolean
  /** The metadata this provider announced itself, when it differs from the entry's (a conflict). */
  meta?: FileMeta
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
  /** The signer's own time of the message (Envelope.issued_ms), 0 or absent when not given. */
  issued?: number
}

/** `stale`: refused because the signer's own time says the claim is not newer than its Withdraw of the file (a replay). */
export type AddResult = 'added' | 'updated' | 'refused' | 'stale'

export interface CatalogOptions {
  /** Most (file, provider) pairs held (default MAX_CATALOG_PAIRS). */
  maxPairs?: number
  /** Most bytes held, as budget.ts counts them (default MAX_CATALOG_BYTES). */
  maxBytes?: number
  /** Peers with an open connection now: kept before others when the budget evicts. */
  connected?: () => Set<string>
}

function sameMeta (a: FileMeta, b: FileMeta): boolean {
  return a.name === b.name && a.size === b.size && a.mediaType === b.mediaType && a.encrypted === b.encrypted && a.files === b.files
}

/** A claim issued at `issued` (the signer's clock) is not newer than the signer's remembered Withdraw: a replay. */
function replays (withdrawn: { issued: number } | undefined, issued: number | undefined): boolean {
  return withdrawn != null && withdrawn.issued > 0 && (issued ?? 0) > 0 && (issued ?? 0) <= withdrawn.issued
}

export class Catalog {
  private readonly self: string
  private readonly emit: CatalogEmit
  private readonly entries = new Map<string, EntryState>()
  private readonly budget: CatalogBudget
  /** Withdrawals, per `cid peer`: when heard (local clock) and the signer's own time of it. */
  private readonly tombstones = new Map<string, { at: number, issued: number }>()
  private orphans = 0

  constructor (self: string, emit: CatalogEmit, options: CatalogOptions = {}) {
    this.self = self
    this.emit = emit
    this.budget = new CatalogBudget(self, options.maxPairs ?? MAX_CATALOG_PAIRS, options.maxBytes ?? MAX_CATALOG_BYTES, options.connected)
  }

  /**
   * True when `signer`'s own claim of `cid` issued at `issued` (its clock) is not newer than its
   * remembered Withdraw of it: a replay of an older signed message. The validator ignores a message
   * made only of such claims, so it is not relayed either; `add` refuses each one ('stale').
   */
  isReplay (cid: string, signer: string, issued: number | undefined): boolean {
    return replays(this.tombstones.get(`${cid} ${signer}`), issued)
  }

  /** Lists `peer` as a provider of `cid` (or refreshes it). */
  add (claim: AddProvider, now = Date.now()): AddResult {
    const key = `${claim.cid} ${claim.peer}`
    const withdrawn = this.tombstones.get(key)
    if (withdrawn != null) {
      if (!claim.firstHand && claim.lastSeen <= withdrawn.at) return 'refused'
      // a replayed announcement: the signer's own clock says it is not newer than its withdrawal
      if (claim.firstHand && replays(withdrawn, claim.issued)) return 'stale'
      this.tombstones.delete(key)
    }
    let entry = this.entries.get(claim.cid)
    if (entry == null) {
      if (claim.meta == null && this.orphans >= MAX_ORPHAN_CIDS) return 'refused'
      entry = { cid: claim.cid, providers: new Map() }
      this.entries.set(claim.cid, entry)
      this.budget.resize(entryBytes(entry))
      this.orphans++
    }
    const existing = entry.providers.get(claim.peer)
    if (existing == null && claim.peer !== this.self && !this.makeRoom(entry, claim)) {
      this.dropIfEmpty(entry)
      return 'refused'
    }
    const before = entryBytes(entry)
    const wasVisible = entry.meta != null
    this.takeMeta(entry, claim)

    let result: AddResult
    let added = false
    let announced = false
    if (existing == null) {
      entry.providers.set(claim.peer, { complete: claim.complete, lastSeen: claim.lastSeen, firstHand: claim.firstHand, hasMeta: claim.meta != null })
      this.budget.added(claim.peer, claim.cid, claim.firstHand, now)
      this.noteConflict(entry, claim)
      added = true
      announced = claim.meta != null
      result = 'added'
    } else {
      if (claim.firstHand || claim.lastSeen >= existing.lastSeen) existing.complete = claim.complete
      existing.lastSeen = Math.max(existing.lastSeen, claim.lastSeen)
      existing.firstHand ||= claim.firstHand
      if (claim.firstHand) this.budget.added(claim.peer, claim.cid, true, now)
      this.noteConflict(entry, claim)
      announced = claim.meta != null && (!existing.hasMeta || !wasVisible)
      existing.hasMeta ||= claim.meta != null
      result = 'updated'
    }
    this.budget.resize(entryBytes(entry) - before)
    // evict before telling anyone, so that listeners never see the catalog over its budget
    if (this.budget.over()) this.evict()
    if (this.entries.get(claim.cid)?.providers.has(claim.peer) === true) {
      if (added) this.emit('provider:added', { cid: claim.cid, peer: claim.peer })
      if (announced) this.emit('file:announced', { entry: this.view(entry), peer: claim.peer })
    }
    return result
  }

  /** Removes `peer` from `cid`; `withdrawn` when the peer said so itself (`issued`: its own time of the Withdraw). */
  remove (cid: string, peer: string, reason: 'withdrawn' | 'expired' | 'evicted', at = Date.now(), issued = 0): boolean {
    const entry = this.entries.get(cid)
    // a Withdraw of a file the signer is not listed for changes nothing, and leaves no tombstone: minted
    // signers withdrawing made-up CIDs would otherwise push real withdrawals out of the bounded table
    if (entry == null || !entry.providers.has(peer)) return false
    if (reason === 'withdrawn') this.tombstone(`${cid} ${peer}`, at, issued)
    const before = entryBytes(entry)
    entry.providers.delete(peer)
    this.budget.removed(peer, cid)
    if (entry.metaFrom === peer) this.replaceMeta(entry)
    this.budget.resize(entryBytes(entry) - before)
    if (reason === 'withdrawn') this.emit('file:withdrawn', { cid, peer })
    this.emit('provider:removed', { cid, peer })
    this.dropIfEmpty(entry)
    return true
  }

  /** Removes every provider (but this node) not heard from since `now - ttl`; forgets old withdrawals. */
  expire (now: number, ttl: number): void {
    for (const entry of [...this.entries.values()]) {
      for (const [peer, state] of [...entry.providers]) {
        if (peer !== this.self && now - state.lastSeen > ttl) this.remove(entry.cid, peer, 'expired', now)
      }
    }
    const keep = Math.max(ttl, TOMBSTONE_KEEP_MS)
    for (const [key, t] of this.tombstones) {
      if (now - t.at > keep) this.tombstones.delete(key)
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

  /** The file's metadata while no provider disputes it (announced other metadata: a conflict in its view). */
  undisputedMeta (cid: string): FileMeta | undefined {
    const entry = this.entries.get(cid)
    if (entry == null) return undefined
    for (const s of entry.providers.values()) if (s.meta != null) return undefined
    return entry.meta
  }

  /** Providers of `cid` (known metadata or not), complete ones first, then the most recently heard. */
  providers (cid: string, now = Date.now()): CatalogProvider[] {
    const entry = this.entries.get(cid)
    return entry == null ? [] : this.providerViews(entry, now)
  }

  /**
   * Every (file, provider) pair with metadata that this node verified itself: the provider is this
   * node or was heard first-hand. Catalog answers are built from these only, so a report (true or
   * made up) is never passed on. This node is left out of a file it holds without metadata of its
   * own (a Have: its record is named by the CID): an answer lists its own pair as a first-hand
   * claim of the file's metadata, which would lend it the entry's metadata, a squatter's perhaps
   * (its Haves tell the swarm it holds the file).
   */
  * pairs (): Generator<{ meta: FileMeta, peer: string, complete: boolean, lastSeen: number }> {
    for (const entry of this.entries.values()) {
      if (entry.meta == null) continue
      for (const [peer, s] of entry.providers) {
        if (peer === this.self ? s.hasMeta : s.firstHand) yield { meta: entry.meta, peer, complete: s.complete, lastSeen: s.lastSeen }
      }
    }
  }

  /** Files with metadata, (file, provider) pairs and bytes held, as the budget counts them. */
  usage (): { files: number, pairs: number, bytes: number } {
    return { files: this.size, pairs: this.budget.pairs, bytes: this.budget.bytes }
  }

  get size (): number {
    return this.entries.size - this.orphans
  }

  /**
   * Whether a new provider may join `entry`: within its per-provider cap and the per-file cap; at
   * the per-file cap a first-hand claim evicts a provider known only from reports (never the reverse).
   */
  private makeRoom (entry: EntryState, claim: AddProvider): boolean {
    if (this.budget.count(claim.peer) >= MAX_FILES_PER_PROVIDER) return false
    if (entry.providers.size < MAX_PROVIDERS_PER_FILE) return true
    if (!claim.firstHand) return false
    for (const [peer, s] of entry.providers) {
      if (!s.firstHand && peer !== this.self) return this.remove(entry.cid, peer, 'evicted')
    }
    return false
  }

  /**
   * Which metadata the entry shows: this node's own, always; else the first heard, replaced only by a
   * provider's own announcement: the same provider's, or any provider's when what was kept came from
   * a report. Reports never replace it. Others' differing announcements are conflicts (noteConflict).
   */
  private takeMeta (entry: EntryState, claim: AddProvider): void {
    const meta = claim.meta
    if (meta == null) return
    const take = entry.meta == null ||
      (claim.peer === this.self) ||
      (entry.metaFrom !== this.self && claim.firstHand && (entry.metaFrom === claim.peer || entry.metaFirstHand !== true))
    if (!take) return
    const old = entry.meta
    if (old == null) this.orphans--
    entry.meta = meta
    entry.metaFrom = claim.peer
    entry.metaFirstHand = claim.firstHand
    this.reconcile(entry, claim.peer, old)
  }

  /**
   * After the shown metadata changed from `old`: providers that announced the new one no longer
   * conflict, those that announced the old one (first-hand) now do, up to MAX_CONFLICTS_PER_FILE.
   */
  private reconcile (entry: EntryState, from: string, old: FileMeta | undefined): void {
    const meta = entry.meta as FileMeta
    let conflicts = 0
    for (const s of entry.providers.values()) {
      if (s.meta != null && sameMeta(s.meta, meta)) delete s.meta
      if (s.meta != null) conflicts++
    }
    if (old == null || sameMeta(old, meta)) return
    for (const [peer, s] of entry.providers) {
      if (conflicts >= MAX_CONFLICTS_PER_FILE) return
      if (peer !== from && s.hasMeta && s.firstHand && s.meta == null) {
        s.meta = old
        conflicts++
      }
    }
  }

  /** Records a provider's own differing metadata (at most MAX_CONFLICTS_PER_FILE per file), or clears it. */
  private noteConflict (entry: EntryState, claim: AddProvider): void {
    const state = entry.providers.get(claim.peer)
    if (state == null || claim.meta == null || !claim.firstHand || entry.meta == null) return
    if (sameMeta(claim.meta, entry.meta)) {
      delete state.meta
      return
    }
    if (state.meta == null && [...entry.providers.values()].filter(s => s.meta != null).length >= MAX_CONFLICTS_PER_FILE) return
    state.meta = claim.meta
  }

  /** The provider whose metadata was shown left: show this node's, or another first-hand announcer's. */
  private replaceMeta (entry: EntryState): void {
    let next: [string, ProviderState] | undefined
    for (const p of entry.providers) {
      if (!p[1].hasMeta) continue
      if (p[0] === this.self) {
        next = p
        break
      }
      if (next == null || (p[1].firstHand && !next[1].firstHand)) next = p
    }
    if (next == null) return
    const [peer, s] = next
    entry.metaFrom = peer
    entry.metaFirstHand = s.firstHand
    if (s.meta != null) {
      const old = entry.meta
      entry.meta = s.meta
      this.reconcile(entry, peer, old)
    }
  }

  private evict (): void {
    for (const peer of this.budget.victims()) {
      for (const cid of this.budget.cidsOf(peer)) this.remove(cid, peer, 'evicted')
      if (!this.budget.overSlack()) return
    }
  }

  private tombstone (key: string, at: number, issued: number): void {
    setNewest(this.tombstones, key, { at, issued }, MAX_TOMBSTONES)
  }

  private dropIfEmpty (entry: EntryState): void {
    if (entry.providers.size > 0) return
    this.budget.resize(-entryBytes(entry))
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
    const conflicts: MetaConflict[] = []
    for (const [peer, s] of entry.providers) {
      if (s.meta != null) conflicts.push({ peer, name: s.meta.name, size: s.meta.size, mediaType: s.meta.mediaType, encrypted: s.meta.encrypted })
    }
    return {
      cid: entry.cid,
      name: meta.name,
      size: meta.size,
      mediaType: meta.mediaType,
      encrypted: meta.encrypted,
      ...(meta.files != null ? { files: meta.files } : {}),
      providers: this.providerViews(entry, now),
      ...(conflicts.length > 0 ? { conflicts } : {})
    }
  }
}
