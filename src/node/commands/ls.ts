/** List files: what the swarm's catalog names and what this node's store holds, once each. */
import type { FileRecord, Store, StoreStat } from '../../storage/index.js'
import type { CommandContext } from './context.js'

export interface ListedFile {
  cid: string
  name: string
  size: number
  /** Providers known (this node included when it has the file). */
  providers: number
  /** Complete in this node's store. */
  local: boolean
  encrypted: boolean
  /** Pinned in this node's store (gc keeps it); absent when there is no local record. */
  pinned?: boolean
  /** Kept by reference: the file it is read from, and how it looks now (`changed` or `missing`: no longer served). */
  reference?: { path: string, state: 'ok' | 'changed' | 'missing' }
  /** A folder: the files in it (absent for a file). */
  files?: number
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

export async function ls (c: CommandContext): Promise<ListedFile[]> {
  const records = new Map((await c.store.list()).map(r => [r.cid, r]))
  const seen = new Set<string>()
  const out: ListedFile[] = []
  for (const e of c.protocol.catalog()) {
    seen.add(e.cid)
    const r = records.get(e.cid)
    out.push({ cid: e.cid, name: e.name, size: e.size, providers: e.providers.length, local: r?.complete === true, encrypted: e.encrypted, ...(e.files != null ? { files: e.files } : {}), ...localFields(r) })
  }
  for (const r of records.values()) {
    if (seen.has(r.cid) || !r.complete) continue
    out.push(listLocal(r))
  }
  return out
}

/** A local record as listed when no catalog names it (or no node runs). */
export function listLocal (r: FileRecord): ListedFile {
  return { cid: r.cid, name: r.name, size: r.size, providers: 1, local: r.complete, encrypted: r.encrypted === true, ...(r.files != null ? { files: r.files } : {}), ...localFields(r) }
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

export async function filesStatus (c: CommandContext): Promise<FilesStatus> {
  const list = await ls(c)
  return { files: list.length, local: list.filter(f => f.local).length, store: await storeStatus(c.store) }
}
