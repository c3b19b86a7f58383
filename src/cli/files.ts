/**
 * File operations the CLI runs on a node, shared by the control-socket
 * handlers (a running node) and `get` (a temporary node): share, list,
 * fetch to a file. The node does the work; this module picks names and
 * paths, and turns progress events into plain numbers.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
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

export interface SharedFile {
  cid: string
  /** The file's name (for an encrypted share: the real name, announced only as a placeholder). */
  name: string
  /** Bytes of the file (for an encrypted share: of the plaintext). */
  size: number
  /** Encrypted shares: the capability link `swarmdrop:<cid>#<key>` that fetches and decrypts it. */
  link?: string
}

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

export async function shareFiles (node: FilesNode, paths: string[], options: { signal?: AbortSignal, encrypt?: boolean } = {}): Promise<SharedFile[]> {
  const out: SharedFile[] = []
  for (const path of paths) {
    options.signal?.throwIfAborted()
    if (options.encrypt === true) {
      out.push(await shareEncrypted(node, path, options.signal))
      continue
    }
    const rec = await node.share(path, { name: basename(path), signal: options.signal })
    out.push({ cid: rec.cid, name: rec.name, size: rec.size })
  }
  return out
}

/** Encrypts a file with a fresh key while importing it; the swarm only sees ciphertext and a placeholder name. */
async function shareEncrypted (node: FilesNode, path: string, signal?: AbortSignal): Promise<SharedFile> {
  const { encrypt, formatLink, generateContentKey, ENCRYPTED_PLACEHOLDER_NAME } = await import('../crypto/index.js')
  const { guessMediaType } = await import('../storage/index.js')
  const name = basename(path)
  const { size } = await stat(path)
  const key = generateContentKey()
  const source = createReadStream(path, { signal })
  const rec = await node.share(encrypt(source, key, { name, mediaType: guessMediaType(name), size }), {
    name: ENCRYPTED_PLACEHOLDER_NAME,
    mediaType: 'application/octet-stream',
    encrypted: true,
    signal
  })
  return { cid: rec.cid, name, size, link: formatLink(rec.cid, key) }
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
  /** The file is an encrypted share: decrypted with the link's key, or (bare CID) written as ciphertext. */
  encrypted: boolean
  /** Fetched by its link and decrypted. */
  decrypted: boolean
}

export interface FetchToFileOptions {
  /** The key of a capability link: decrypt instead of writing the stored bytes. */
  key?: Uint8Array
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

/** Fetches `cid` into the node's store (resuming what is there) and writes it out (decrypted when given a key). */
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
  const entry = node.protocol.entry(cid)
  const encrypted = record?.encrypted === true || entry?.encrypted === true
  const base = {
    cid,
    size: result.size,
    received: result.bytesReceived,
    providers: Object.keys(result.providers).length,
    elapsed: result.elapsed
  }
  if (options.key != null) {
    const { name, path, size } = await decryptToFile(node, cid, options.key, options)
    return { ...base, name, size, path, encrypted: true, decrypted: true }
  }
  const name = entry?.name ?? record?.name ?? cid
  const { path, explicit } = await outputPath(name, options)
  await node.store.export(cid, path, { signal: options.signal, overwrite: explicit })
  return { ...base, name, path, encrypted, decrypted: false }
}

/**
 * Decrypts a stored encrypted file into place: a temp file in the target folder, fsynced,
 * renamed; any authentication failure (tampering, wrong key) removes it, so nothing is left.
 */
async function decryptToFile (node: FilesNode, cid: string, key: Uint8Array, options: FetchToFileOptions): Promise<{ name: string, path: string, size: number }> {
  const { openEncrypted } = await import('../crypto/index.js')
  const { DestinationExistsError } = await import('../storage/index.js')
  const { meta, data } = await openEncrypted(node.store.cat(cid, { signal: options.signal }), key)
  const { path, explicit } = await outputPath(meta.name, options)
  if (!explicit && await stat(path).then(() => true, () => false)) {
    await data.return(undefined)
    throw new DestinationExistsError(path)
  }
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`)
  const fh = await open(tmp, 'wx', 0o600)
  try {
    try {
      for await (const chunk of data) {
        options.signal?.throwIfAborted()
        await fh.write(chunk)
      }
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  return { name: meta.name, path, size: meta.size }
}
