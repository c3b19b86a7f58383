/** List files: what the swarm's catalog names and what this node's store holds, once each. */
import type { StoreStat } from '../../storage/index.js'
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
  /** A folder: the files in it (absent for a file). */
  files?: number
}

export interface FilesStatus {
  /** Files listed by ls(). */
  files: number
  /** Of those, complete in this node's store. */
  local: number
  store: StoreStat
}

export async function ls (c: CommandContext): Promise<ListedFile[]> {
  const records = new Map((await c.store.list()).map(r => [r.cid, r]))
  const seen = new Set<string>()
  const out: ListedFile[] = []
  for (const e of c.protocol.catalog()) {
    seen.add(e.cid)
    out.push({ cid: e.cid, name: e.name, size: e.size, providers: e.providers.length, local: records.get(e.cid)?.complete === true, encrypted: e.encrypted, ...(e.files != null ? { files: e.files } : {}) })
  }
  for (const r of records.values()) {
    if (seen.has(r.cid) || !r.complete) continue
    out.push({ cid: r.cid, name: r.name, size: r.size, providers: 1, local: true, encrypted: r.encrypted === true, ...(r.files != null ? { files: r.files } : {}) })
  }
  return out
}

export async function filesStatus (c: CommandContext): Promise<FilesStatus> {
  const list = await ls(c)
  return { files: list.length, local: list.filter(f => f.local).length, store: await c.store.stat() }
}
