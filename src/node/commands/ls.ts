/** List files: what the swarm's catalog names and what this node's store holds, once each. */
import type { CatalogEntry, CatalogProvider } from '../../pubsub/index.js'
import type { FileRecord, Store, StoreStat } from '../../storage/index.js'
import type { CommandContext } from './context.js'

export interface ListedFile {
  cid: string
  name: string
  size: number
  /**
   * Providers holding the whole file and connected now (this node included when it holds it):
   * a provider that went away or is heard of only through the catalog's TTL is not counted.
   */
  providers: number
  /** Peers connected now that hold part of the file (downloading it), counted apart. */
  partial: number
  /** Complete in this node's store. */
  local: boolean
  encrypted: boolean
  /** Pinned in this node's store (gc keeps it); absent when there is no local record. */
  pinned?: boolean
  /** Kept by reference: the file it is read from, and how it looks now (`changed` or `missing`: no longer served). */
  reference?: { path: string, state: 'ok' | 'changed' | 'missing' }
  /** A folder: the files in it (absent for a file). */
  files?: number
  /** Other names this content is announced under (by other providers, or this node's own share), when any. */
  otherNames?: string[]
}

export interface FileProvider {
  peer: string
  /** Its nickname, when it said hello. */
  name?: string
  /** Holds the whole file (false: part of it, downloading). */
  complete: boolean
  /** Connected now (this node counts as connected). */
  connected: boolean
  /** This node. */
  self: boolean
}

export interface FilesStatus {
  /** Files listed by ls(). */
  files: number
  /** Of those, complete in this node's store. */
  local: number
  store: StoreStat & {
    /** Bytes `gc` would free now (blocks no pinned file needs). */
    freeable: number
  }
}

/** Peers with an open connection now. */
export function connectedPeers (c: Pick<CommandContext, 'network'>): Set<string> {
  return new Set(c.network.connections().map(x => x.peer))
}

/**
 * The one provider count (CLI, control API, web page): complete providers connected now plus this
 * node when its copy is complete; partial holders connected now apart.
 */
export function countProviders (providers: CatalogProvider[], connected: Set<string>, self: string, local: boolean): { providers: number, partial: number } {
  let complete = local ? 1 : 0
  let partial = 0
  for (const p of providers) {
    if (p.peer === self || !connected.has(p.peer)) continue
    if (p.complete) complete++
    else partial++
  }
  return { providers: complete, partial }
}

/** Names other than `name` this content is known under: other providers' announcements and this node's own record. */
export function otherNames (entry: Pick<CatalogEntry, 'name' | 'conflicts'>, localName?: string): string[] {
  const names = new Set<string>()
  for (const c of entry.conflicts ?? []) names.add(c.name)
  if (localName != null) names.add(localName)
  names.delete(entry.name)
  return [...names]
}

export async function ls (c: CommandContext): Promise<ListedFile[]> {
  const records = new Map((await c.store.list()).map(r => [r.cid, r]))
  const connected = connectedPeers(c)
  const self = c.network.peerId
  const seen = new Set<string>()
  const out: ListedFile[] = []
  for (const e of c.protocol.catalog()) {
    seen.add(e.cid)
    const rec = records.get(e.cid)
    const local = rec?.complete === true
    const others = otherNames(e, rec?.name)
    out.push({ cid: e.cid, name: e.name, size: e.size, ...countProviders(e.providers, connected, self, local), local, encrypted: e.encrypted, ...(e.files != null ? { files: e.files } : {}), ...(others.length > 0 ? { otherNames: others } : {}), ...localFields(rec) })
  }
  for (const r of records.values()) {
    if (seen.has(r.cid) || !r.complete) continue
    out.push(listLocal(r))
  }
  return out
}

/** A local record as listed when no catalog names it (or no node runs). */
export function listLocal (r: FileRecord): ListedFile {
  return { cid: r.cid, name: r.name, size: r.size, providers: 1, partial: 0, local: r.complete, encrypted: r.encrypted === true, ...(r.files != null ? { files: r.files } : {}), ...localFields(r) }
}

function localFields (r: FileRecord | undefined): Pick<ListedFile, 'pinned' | 'reference'> {
  if (r == null) return {}
  return { pinned: r.pinned, ...(r.reference != null ? { reference: r.reference } : {}) }
}

/** The store's counts and what gc would free (the dry run of the gc that `swarmdrop gc` runs). */
export async function storeStatus (store: Store): Promise<FilesStatus['store']> {
  const { removedBytes } = await store.gc({ unpinned: true, dryRun: true })
  return { ...await store.stat(), freeable: removedBytes }
}

/** Every provider the catalog lists for `cid` (this node too when it holds the file), connected ones first. */
export async function providersOf (c: CommandContext, cid: string, nameOf: (peer: string) => string | undefined): Promise<FileProvider[]> {
  const connected = connectedPeers(c)
  const self = c.network.peerId
  const rec = await c.store.get(cid)
  const out: FileProvider[] = []
  if (rec?.complete === true) out.push({ peer: self, complete: true, connected: true, self: true })
  for (const p of c.protocol.entry(cid)?.providers ?? []) {
    if (p.peer === self) continue
    const name = nameOf(p.peer)
    out.push({ peer: p.peer, ...(name != null ? { name } : {}), complete: p.complete, connected: connected.has(p.peer), self: false })
  }
  return out.sort((a, b) => Number(b.connected) - Number(a.connected) || Number(b.complete) - Number(a.complete))
}

export async function filesStatus (c: CommandContext): Promise<FilesStatus> {
  const list = await ls(c)
  return { files: list.length, local: list.filter(f => f.local).length, store: await storeStatus(c.store) }
}
