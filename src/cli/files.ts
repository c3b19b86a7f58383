/**
 * File operations the CLI runs on a node, shared by the control-socket
 * handlers (a running node) and `get` (a temporary node): share, list,
 * fetch to a file. The node does the work; this module picks names and
 * paths, and turns progress events into plain numbers.
 */
import { stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import type { SwarmNode } from '../node/index.js'
import type { StoreStat } from '../storage/index.js'
import type { TransferFetchEvents } from '../transfer/index.js'

/** A node with its store, protocol and transfer (all SwarmNodes are). */
export type FilesNode = SwarmNode

export class PathNotFoundError extends Error {
  static override name = 'PathNotFoundError'
  readonly path: string

  constructor (path: string, reason: string) {
    super(`cannot share ${path}: ${reason}`)
    this.name = 'PathNotFoundError'
    this.path = path
  }
}

export interface SharedFile { cid: string, name: string, size: number }

/** Checks that every path is a readable regular file; returns absolute paths. */
export async function checkSharePaths (paths: string[], cwd: string): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) {
    const abs = resolve(cwd, p)
    let info
    try {
      info = await stat(abs)
    } catch (err: any) {
      throw new PathNotFoundError(p, err.code === 'ENOENT' ? 'no such file' : `cannot read it (${err.code ?? err.message})`)
    }
    if (!info.isFile()) throw new PathNotFoundError(p, info.isDirectory() ? 'it is a folder; share the files inside it' : 'it is not a regular file')
    out.push(abs)
  }
  return out
}

export async function shareFiles (node: FilesNode, paths: string[], options: { signal?: AbortSignal } = {}): Promise<SharedFile[]> {
  const out: SharedFile[] = []
  for (const path of paths) {
    options.signal?.throwIfAborted()
    const rec = await node.share(path, { name: basename(path), signal: options.signal })
    out.push({ cid: rec.cid, name: rec.name, size: rec.size })
  }
  return out
}

export interface ListedFile {
  cid: string
  name: string
  size: number
  /** Providers known (this node included when it has the file). */
  providers: number
  /** Complete in this node's store. */
  local: boolean
  encrypted: boolean
}

export async function listFiles (node: FilesNode): Promise<ListedFile[]> {
  const records = new Map((await node.store.list()).map(r => [r.cid, r]))
  const seen = new Set<string>()
  const out: ListedFile[] = []
  for (const e of node.protocol.catalog()) {
    seen.add(e.cid)
    out.push({ cid: e.cid, name: e.name, size: e.size, providers: e.providers.length, local: records.get(e.cid)?.complete === true, encrypted: e.encrypted })
  }
  for (const r of records.values()) {
    if (seen.has(r.cid) || !r.complete) continue
    out.push({ cid: r.cid, name: r.name, size: r.size, providers: 1, local: true, encrypted: r.encrypted === true })
  }
  return out
}

export interface StatusFiles { files: number, local: number, store: StoreStat }

export async function fileStatus (node: FilesNode): Promise<StatusFiles> {
  const list = await listFiles(node)
  return { files: list.length, local: list.filter(f => f.local).length, store: await node.store.stat() }
}

/** Progress of one fetch, as sent to clients and drawn as a bar. */
export interface FetchProgressInfo {
  cid: string
  /** File bytes present locally. */
  bytes: number
  total?: number
  /** Bytes received over the network in this fetch. */
  received: number
  providers: number
  rate: number
}

export function progressOf (evt: TransferFetchEvents): FetchProgressInfo | undefined {
  if (evt.type === 'transfer:fetch:provider') return undefined
  const d = evt.detail
  const info: FetchProgressInfo = { cid: d.cid, bytes: d.bytes, received: d.received, providers: d.providers, rate: d.rate }
  if (d.total != null) info.total = d.total
  return info
}

export interface FetchedFile {
  cid: string
  name: string
  size: number
  path: string
  /** Bytes that came over the network (less than size when the fetch resumed). */
  received: number
  /** Peers that sent blocks. */
  providers: number
  elapsed: number
}

export interface FetchToFileOptions {
  /** -o: a file path, or a folder for the announced name. */
  output?: string
  /** Folder for relative paths and the default output. */
  cwd: string
  timeout?: number
  signal?: AbortSignal
  onProgress?: (info: FetchProgressInfo) => void
}

/** Where `get` writes: -o as given (a folder → the safe name inside it), else the safe name in cwd. */
export async function outputPath (name: string, options: { output?: string, cwd: string }): Promise<{ path: string, explicit: boolean }> {
  const { exportPath } = await import('../storage/index.js')
  if (options.output == null) return { path: exportPath(options.cwd, name), explicit: false }
  const abs = resolve(options.cwd, options.output)
  let isDir = options.output.endsWith('/')
  if (!isDir) {
    try {
      isDir = (await stat(abs)).isDirectory()
    } catch {}
  }
  return isDir ? { path: exportPath(abs, name), explicit: false } : { path: abs, explicit: true }
}

/** Fetches `cid` into the node's store (resuming what is there) and writes it out. */
export async function fetchToFile (node: FilesNode, cid: string, options: FetchToFileOptions): Promise<FetchedFile> {
  const { parseCid } = await import('../storage/index.js')
  parseCid(cid)
  const result = await node.fetch(cid, {
    signal: options.signal,
    timeout: options.timeout,
    onProgress: (evt) => {
      const info = progressOf(evt)
      if (info != null) options.onProgress?.(info)
    }
  })
  const record = await node.store.get(cid)
  const name = node.protocol.entry(cid)?.name ?? record?.name ?? cid
  const { path, explicit } = await outputPath(name, options)
  await node.store.export(cid, path, { signal: options.signal, overwrite: explicit })
  return {
    cid,
    name,
    size: result.size,
    path,
    received: result.bytesReceived,
    providers: Object.keys(result.providers).length,
    elapsed: result.elapsed
  }
}
