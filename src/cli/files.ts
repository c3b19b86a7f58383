/**
 * File operations the CLI runs on a node, shared by the control-socket handlers (a running
 * node) and `get` (a temporary node). Each is a thin call into the node's library API
 * (src/node: share, get, ls); this module only maps CLI arguments to it.
 */
import type { FetchedFile, FetchProgressInfo, FilesStatus, ListedFile, SwarmNode } from '../node/index.js'
import { checkSharePath } from '../node/share-path.js'
import type { ShareProgress } from '../control/contract.js'
import { stat } from 'node:fs/promises'
import { UsageError } from './errors.js'

export { PathNotFoundError } from '../node/errors.js'
export type { FetchedFile, FetchProgressInfo, ListedFile } from '../node/index.js'

/** A node with its store, protocol and transfer (all SwarmNodes are). */
export type FilesNode = SwarmNode

/** What `share` prints and sends over the control socket (the record stays in the node). */
export interface SharedFile {
  cid: string
  /** The file's name (for an encrypted share: the real name, announced only as a placeholder). */
  name: string
  /** Bytes of the file (for an encrypted share: of the plaintext). */
  size: number
  /** Encrypted shares: the capability link `swarmdrop:<cid>#<key>` that fetches and decrypts it. */
  link?: string
  /** A folder: the files in it. */
  files?: number
  /** Kept by reference: read from where it is, not copied into the store. */
  byReference?: boolean
}

export type StatusFiles = FilesStatus

/** Reads a --swarm-key file; a missing one is a usage error that says how to make it. */
export async function readKeyFile (path: string): Promise<Uint8Array> {
  const { readSwarmKeyFile } = await import('../node/index.js')
  const missing = await stat(path).then(() => false, (err) => err?.code === 'ENOENT' || err?.code === 'ENOTDIR')
  if (missing) throw new UsageError(`--swarm-key: there is no file ${path}; make the swarm's key once with \`swarmdrop key gen -o ${path}\` and copy that file to every node`)
  return readSwarmKeyFile(path)
}

/** Checks that every path is a readable regular file or a folder; returns absolute paths. */
export async function checkSharePaths (paths: string[], cwd: string): Promise<string[]> {
  const out: string[] = []
  for (const p of paths) out.push((await checkSharePath(p, cwd)).path)
  return out
}

export async function shareFiles (node: FilesNode, paths: string[], options: { signal?: AbortSignal, encrypt?: boolean, copy?: boolean, onProgress?: (p: ShareProgress) => void } = {}): Promise<SharedFile[]> {
  const out: SharedFile[] = []
  for (const path of paths) {
    let read = 0
    const { cid, name, size, link, files, byReference } = await node.share(path, {
      ...(options.signal != null ? { signal: options.signal } : {}),
      encrypt: options.encrypt === true,
      copy: options.copy === true,
      onProgress: (evt) => {
        if (evt.type === 'store:import:read') {
          read = evt.detail.read
          options.onProgress?.({ path, read, ...(evt.detail.total != null ? { total: evt.detail.total } : {}) })
        }
        // a folder's symbolic links and special files are not shared: said so, one line each
        if (evt.type === 'store:import:skipped') options.onProgress?.({ path, read, skipped: evt.detail.path, reason: evt.detail.reason })
      }
    })
    out.push({ cid, name, size, ...(link != null ? { link } : {}), ...(files != null ? { files } : {}), ...(byReference === true ? { byReference } : {}) })
  }
  return out
}

export async function listFiles (node: FilesNode): Promise<ListedFile[]> {
  return node.ls()
}

export async function fileStatus (node: FilesNode): Promise<StatusFiles> {
  return node.filesStatus()
}

export interface FetchToFileOptions {
  /** The key of a capability link: decrypt instead of writing the stored bytes. */
  key?: Uint8Array
  /** -o: a file path, or a folder for the announced name. */
  output?: string
  /** Folder for relative paths and the default output. */
  cwd: string
  timeout?: number
  /** Replace an existing output file. */
  force?: boolean
  /** Keep a copy in the store (default: a reference to the output file). */
  copy?: boolean
  /** Wait up to this many ms for the catalog to name the file (a temporary node). */
  catalogWait?: number
  signal?: AbortSignal
  onProgress?: (info: FetchProgressInfo) => void
}

/** Fetches `cid` into the node's store (resuming what is there) and writes it out (decrypted when given a key). */
export async function fetchToFile (node: FilesNode, cid: string, options: FetchToFileOptions): Promise<FetchedFile> {
  const { progressOf } = await import('../node/index.js')
  return node.get(cid, {
    ...(options.key != null ? { key: options.key } : {}),
    ...(options.output != null ? { output: options.output } : {}),
    ...(options.timeout != null ? { timeout: options.timeout } : {}),
    ...(options.force === true ? { force: true } : {}),
    ...(options.copy === true ? { copy: true } : {}),
    ...(options.catalogWait != null ? { catalogWait: options.catalogWait } : {}),
    ...(options.signal != null ? { signal: options.signal } : {}),
    cwd: options.cwd,
    onProgress: (evt) => {
      const info = progressOf(evt)
      const entry = node.protocol.entry(cid)
      const name = entry?.name
      // a folder's root says no size: the catalog's (the bytes of its files) is the bar's total
      if (info != null && info.total == null && entry?.size != null && entry.size > 0) info.total = entry.size
      if (info != null && entry?.files != null) info.files = entry.files
      // whole bytes per second (JSON readers get an integer)
      if (info != null) options.onProgress?.({ ...info, rate: Math.round(info.rate), ...(name != null ? { name } : {}) })
    }
  })
}
