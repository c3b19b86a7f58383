/**
 * Get a file: fetch it into the store (resuming what is there), then write it out — as
 * stored, or decrypted when given the key of a capability link. A folder is written as a
 * tree (the store's exportFolder: `.NAME.part`, renamed at the end); `CID/sub/path` fetches
 * only that file or subfolder of a folder and the directory nodes on its path. `output` is a file path,
 * or a folder (ending in `/` or existing) for the file's safe name inside it.
 */
import { open, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { ENCRYPTED_PLACEHOLDER_NAME, looksEncrypted, MAGIC, openEncrypted, parseTarget } from '../../crypto/index.js'
import type { CatalogEntry } from '../../pubsub/index.js'
import type { FileRecord } from '../../storage/index.js'
import { cidKey, FOLDER_MEDIA_TYPE, nodeKind, RAW_CODEC, resolvePath, splitCidPath, type CID } from '../../content/index.js'
import { exportPath, parseCid, writeOut } from '../../storage/index.js'
import { OutputExistsError, PathNotInFolderError, SizeMismatchError } from '../errors.js'
import { checkDestination } from './destination.js'
import type { TransferFetchEvents } from '../../transfer/index.js'
import { waitFor } from '../../util/wait.js'
import type { CommandContext } from './context.js'
import { announceRecord, fetch, providersOf, type NodeFetchOptions } from './fetch.js'

/** Progress of one fetch as plain numbers (what the CLI draws as a bar). */
export interface FetchProgressInfo {
  cid: string
  /** The file's name, when the caller knows it: progressOf() alone leaves it out (the CLI and the control socket add the catalog's). */
  name?: string
  /** File bytes present locally. */
  bytes: number
  total?: number
  /** Bytes received over the network in this fetch. */
  received: number
  providers: number
  rate: number
  /** A folder: the files in it, when the caller knows it (as `name`). */
  files?: number
}

export interface GetOptions extends NodeFetchOptions {
  /** A file path, or a folder for the file's (safe) name inside it (default: that name in `cwd`). */
  output?: string
  /** Folder for a relative `output` and for the default output (default `process.cwd()`). */
  cwd?: string
  /** The key of a capability link (a link given as target carries its own). */
  key?: Uint8Array
  /** Wait up to this many ms for the catalog to name a file it does not know yet (default 0). */
  catalogWait?: number
  /** Replace an existing output file or folder (default: fail before fetching anything). */
  force?: boolean
  /**
   * Keep a copy of the file in the store (default false: the output file is
   * the copy; the store keeps a reference to it, verified on every read).
   */
  copy?: boolean
  /** A folder is being written out: each file as it is written (`files` and `bytes` so far, `total` files when known). */
  onFile?: (p: { path: string, files: number, bytes: number, total?: number }) => void
}

/**
 * Where the name a file was written under came from: `output` the caller's file path (`-o FILE`),
 * `path` the last name of a `CID/sub/path` (inside the folder's own blocks), `link` sealed inside
 * an encrypted share (authenticated by the link's key), `local` this node's store (its own share,
 * or an earlier get), `announced` the catalog: the first provider's own announcement, a remote
 * peer's word; `cid` nobody named it.
 */
export type NameSource = 'output' | 'path' | 'link' | 'local' | 'announced' | 'cid'

export interface FetchedFile {
  cid: string
  /** The file's name: chosen as `nameFrom` says (with `output` a file path, the name it is known by). */
  name: string
  nameFrom: NameSource
  /** Other names providers announced for this content (or this node's store gives it), differing from `name`; absent when none. */
  otherNames?: string[]
  /** Sizes announced for it that differ from `size` (what its blocks say, and what was written); absent when none. */
  otherSizes?: number[]
  /** Some provider announced the opposite `encrypted` flag of what the content's first bytes show (`encrypted` is the content's). */
  encryptedDisputed?: boolean
  size: number
  path: string
  /**
   * Bytes that came over the network: the file's blocks, its inner dag-pb nodes and any duplicate
   * copies (so a little over `size` for a whole fetch, less when it resumed).
   */
  received: number
  /** Peers that sent blocks. */
  providers: number
  elapsed: number
  /**
   * The file is an encrypted share: decrypted with the link's key, or (bare CID) written as ciphertext,
   * as its first bytes show (an announced flag alone never says so).
   */
  encrypted: boolean
  /** Fetched by its link and decrypted. */
  decrypted: boolean
  /** It was complete in the local store: written without asking the swarm. */
  local: boolean
  /** The store keeps it by reference to `path` rather than as a copy. */
  byReference: boolean
  /** A folder: the files written (`path` is the folder). */
  files?: number
}

/** The plain numbers of a fetch progress event (none for provider events). */
export function progressOf (evt: TransferFetchEvents): FetchProgressInfo | undefined {
  if (evt.type === 'transfer:fetch:provider') return undefined
  const d = evt.detail
  const info: FetchProgressInfo = { cid: d.cid, bytes: d.bytes, received: d.received, providers: d.providers, rate: d.rate }
  if (d.total != null) info.total = d.total
  return info
}

/** A path in the folder a file will go to (for checking the folder before the name is known). */
async function folderProbePath (options: { output?: string, cwd?: string }): Promise<string> {
  const { path, explicit } = await outputPath('probe', options)
  return explicit ? path : join(dirname(path), 'probe')
}

/** Where a file named `name` goes: `output` as given (a folder → the safe name inside it), else the safe name in cwd. */
export async function outputPath (name: string, options: { output?: string, cwd?: string }): Promise<{ path: string, explicit: boolean }> {
  const cwd = options.cwd ?? process.cwd()
  if (options.output == null) return { path: exportPath(cwd, name), explicit: false }
  const abs = resolve(cwd, options.output)
  let isDir = options.output.endsWith('/')
  if (!isDir) {
    try {
      isDir = (await stat(abs)).isDirectory()
    } catch {}
  }
  return isDir ? { path: exportPath(abs, name), explicit: false } : { path: abs, explicit: true }
}

/** True when the stored root block of `cid` is a UnixFS folder. */
async function isStoredFolder (c: CommandContext, cid: string): Promise<boolean> {
  const root = parseCid(cid)
  if (root.code === RAW_CODEC) return false
  return nodeKind(root, await c.store.getBlock(cid)) === 'directory'
}

/**
 * `CID/sub/path`: the directory nodes on the path are fetched one at a time (shallow: the
 * root block only, through the folder's providers), the path resolved by src/content's one
 * resolver, then only the target's DAG is fetched and written out under the path's last name.
 */
async function getInFolder (c: CommandContext, rootText: string, path: string[], options: GetOptions): Promise<FetchedFile> {
  const root = parseCid(rootText)
  const rootKey = cidKey(root)
  const signal = options.signal
  /** Bytes of the folder nodes on the path that came over the network: part of what `received` reports. */
  let pathBytes = 0
  const readBlock = async (cid: CID): Promise<Uint8Array> => {
    const key = cidKey(cid)
    if (!await c.store.has(key)) {
      const fetched = await c.transfer.fetch(key, {
        shallow: true,
        findProviders: providersOf(c, rootKey, options.wantTimeout ?? options.timeout ?? 30_000),
        ...(signal != null ? { signal } : {}),
        ...(options.timeout != null ? { timeout: options.timeout } : {})
      })
      pathBytes += fetched.bytesReceived
    }
    return c.store.getBlock(key, signal != null ? { signal } : {})
  }
  const entry = await resolvePath(readBlock, root, path, signal != null ? { signal } : {})
  const sub = path.join('/')
  if (entry == null) throw new PathNotInFolderError(rootKey, sub)
  if (entry.type !== 'file' && entry.type !== 'directory') throw new PathNotInFolderError(rootKey, sub, `it is a UnixFS ${entry.type}, neither a file nor a folder`)
  const name = path[path.length - 1] ?? rootKey
  const folder = entry.type === 'directory'
  const { path: out, explicit } = await outputPath(name, options)
  await checkDestination(out, { force: options.force === true, folder, ...(folder ? {} : { size: entry.size }) })
  const cid = cidKey(entry.cid)
  const result = await fetch(c, cid, { ...options, name, providersOf: rootKey })
  // the name is the folder's own (in its blocks, under the CID the caller gave): no announcement decides it
  const base = { cid, name, nameFrom: explicit ? 'output' as const : 'path' as const, path: out, received: pathBytes + result.bytesReceived, providers: Object.keys(result.providers).length, elapsed: result.elapsed, encrypted: false, decrypted: false, local: false }
  if (folder) {
    const done = await exportFolder(c, cid, out, options, c.protocol.entry(rootKey)?.size)
    return { ...base, size: done.bytes, files: done.files, byReference: false }
  }
  await c.store.export(cid, out, { ...(signal != null ? { signal } : {}), overwrite: options.force === true }).catch(existsAsOutputError)
  return { ...base, size: result.size, byReference: await keepByReference(c, cid, out, options) }
}

/**
 * The output file is the copy: the store keeps a reference to it (verified on every read)
 * instead of its leaves, unless `copy`. Resolves whether it does.
 */
async function keepByReference (c: CommandContext, cid: string, path: string, options: GetOptions): Promise<boolean> {
  if (options.copy === true || (await c.store.get(cid))?.reference != null) return false
  try {
    const { removedBytes } = await c.store.reference(cid, path)
    c.log('%s: the store keeps a reference to %s (%d bytes of blocks freed)', cid, path, removedBytes)
    return true
  } catch (err) {
    c.log('%s stays copied in the store: %e', cid, err)
    return false
  }
}

/**
 * Writes a stored folder out; `announced` (its size as announced) bounds the bytes written. A
 * folder fetched without its file count (a subfolder, or a CID the catalog did not name) learns
 * it here, and is announced again with it.
 */
async function exportFolder (c: CommandContext, cid: string, out: string, options: GetOptions, announced?: number): Promise<{ files: number, bytes: number }> {
  const record = await c.store.get(cid)
  const total = record?.files ?? c.protocol.entry(cid)?.files
  const done = await writeFolder(c, cid, out, options, announced, total)
  if (record != null && record.files == null) {
    const rec = await c.store.track(cid, { name: record.name, files: done.files, size: done.bytes })
    await announceRecord(c, cid, { name: rec.name, size: rec.size, mediaType: FOLDER_MEDIA_TYPE, files: done.files })
  }
  return done
}

async function writeFolder (c: CommandContext, cid: string, out: string, options: GetOptions, announced: number | undefined, total: number | undefined): Promise<{ files: number, bytes: number }> {
  return c.store.exportFolder(cid, out, {
    ...(options.signal != null ? { signal: options.signal } : {}),
    ...(announced != null ? { maxBytes: announced } : {}),
    overwrite: options.force === true,
    onProgress: (evt) => {
      if (evt.type === 'store:export:file') options.onFile?.({ path: evt.detail.path, files: evt.detail.files, bytes: evt.detail.bytes, ...(total != null ? { total } : {}) })
    }
  })
}

export async function get (c: CommandContext, target: string, options: GetOptions = {}): Promise<FetchedFile> {
  options.signal?.throwIfAborted()
  if (!target.startsWith('swarmdrop:') && target.includes('/')) {
    const split = splitCidPath(target)
    if (split.path.length > 0) return getInFolder(c, split.cid, split.path, options)
    target = split.cid
  }
  const parsed = parseTarget(target)
  const cid = parsed.cid
  const key = options.key ?? parsed.key
  parseCid(cid)
  const record = await c.store.get(cid)
  const local = record?.complete === true && (await c.store.missing(cid)).length === 0
  if (!local && options.catalogWait != null && options.catalogWait > 0) {
    await waitFor(() => c.protocol.entry(cid) != null, { timeout: options.catalogWait, ...(options.signal != null ? { signal: options.signal } : {}) }).catch((err) => {
      if (err.name !== 'WaitTimeoutError') throw err
    })
  }
  const announced = c.protocol.entry(cid)
  const sizes = announcedSizes(announced, record)
  // the destination is checked before the first block (an encrypted file's name is inside it: its folder only),
  // with the smallest size announced: a larger lie cannot refuse a file before its blocks say how big it is
  const least = sizes.length > 0 ? Math.min(...sizes) : undefined
  const check = { ...(least != null ? { size: least } : {}), force: options.force === true }
  const chosen = chooseName(cid, record, announced)
  if (key != null) {
    await checkDestination(await folderProbePath(options), check)
  } else {
    const { path } = await outputPath(chosen.name, options)
    await checkDestination(path, { ...check, folder: (announced ?? record)?.files != null })
  }
  // holding the link, this node knows it is an encrypted share whatever the catalog says (or before it says anything)
  const started = Date.now()
  const result = local
    ? { size: record?.size ?? 0, bytesReceived: 0, providers: {}, elapsed: 0 }
    : await fetch(c, cid, key != null ? { name: ENCRYPTED_PLACEHOLDER_NAME, ...options, encrypted: true } : options).catch((err) => { throw namingFile(err, chosen.name, cid) })
  const base = {
    cid,
    size: result.size,
    received: result.bytesReceived,
    providers: Object.keys(result.providers).length,
    elapsed: result.elapsed,
    local
  }
  // a DAG may declare far more bytes than crossed the network: never more than any provider announced
  // (the largest: a smaller lie cannot refuse a file whose provider announced it truly), and the disk
  // is checked again with the declared size before anything is written
  const most = sizes.length > 0 ? Math.max(...sizes) : undefined
  if (most != null && result.size > most) throw new SizeMismatchError(cid, result.size, most, result.bytesReceived)
  if (key != null) {
    const { name, path, size } = await decryptToFile(c, cid, key, options)
    return { ...base, ...(local ? { elapsed: Date.now() - started } : {}), name, nameFrom: 'link', size, path, encrypted: true, decrypted: true, byReference: false }
  }
  // a file the catalog did not name before the fetch may be named now (by the providers it came from)
  const after = c.protocol.entry(cid)
  let { name, from } = chosen
  if (from === 'cid') {
    // the record the fetch made took the name providers announced meanwhile: announced, not local
    const now = chooseName(cid, await c.store.get(cid), after)
    name = now.name
    from = now.from === 'local' ? 'announced' : now.from
  }
  const { path, explicit } = await outputPath(name, options)
  const nameFrom = explicit ? 'output' : from
  // the stored root says what it is (the catalog's file count is only a hint)
  if (await isStoredFolder(c, cid)) {
    await checkDestination(path, { ...(most != null ? { size: most } : {}), force: options.force === true, folder: true })
    const done = await exportFolder(c, cid, path, options, most)
    const disputes = disputed(cid, name, done.bytes, false, record, announced, after)
    return { ...base, size: done.bytes, name, nameFrom, ...disputes, path, encrypted: false, decrypted: false, files: done.files, byReference: false }
  }
  await checkDestination(path, { size: result.size, force: options.force === true })
  await c.store.export(cid, path, { ...(options.signal != null ? { signal: options.signal } : {}), overwrite: options.force === true }).catch(existsAsOutputError)
  const encrypted = await startsEncrypted(path)
  const byReference = !encrypted && await keepByReference(c, cid, path, options)
  const disputes = disputed(cid, name, result.size, encrypted, record, announced, after)
  return { ...base, ...(local ? { elapsed: Date.now() - started } : {}), name, nameFrom, ...disputes, path, encrypted, decrypted: false, byReference }
}

/** Every size known for `cid` before fetching: the catalog's (the shown one and each differing provider's), else this node's record's. */
function announcedSizes (entry: CatalogEntry | undefined, record: FileRecord | undefined): number[] {
  if (entry == null) return record != null ? [record.size] : []
  return [entry.size, ...(entry.conflicts ?? []).map(x => x.size)]
}

/**
 * The name a file is written under when the caller gave none: this node's store's (its own share or
 * an earlier get), else the catalog's (the first provider's own announcement, then the others'), else
 * the CID. Never decided silently by a remote peer: the other names go with it (disputed()).
 */
function chooseName (cid: string, record: FileRecord | undefined, entry: CatalogEntry | undefined): { name: string, from: 'local' | 'announced' | 'cid' } {
  if (record != null && record.name !== cid) return { name: record.name, from: 'local' }
  const name = [entry?.name, ...(entry?.conflicts ?? []).map(x => x.name)].find(n => n != null && n !== cid)
  return name != null ? { name, from: 'announced' } : { name: cid, from: 'cid' }
}

/** What providers announced (before and after the fetch) or the store says that differs from the name, size and flag written. */
function disputed (cid: string, name: string, size: number, encrypted: boolean, record: FileRecord | undefined, ...entries: Array<CatalogEntry | undefined>): Pick<FetchedFile, 'otherNames' | 'otherSizes' | 'encryptedDisputed'> {
  const names = new Set<string>()
  const sizes = new Set<number>()
  let flagDisputed = false
  const note = (m: { name: string, size: number, encrypted: boolean }): void => {
    names.add(m.name)
    sizes.add(m.size)
    if (m.encrypted !== encrypted) flagDisputed = true
  }
  if (record != null) names.add(record.name)
  for (const e of entries) {
    if (e == null) continue
    note(e)
    for (const x of e.conflicts ?? []) note(x)
  }
  names.delete(name)
  // a CID given as the name is no name
  names.delete(cid)
  sizes.delete(size)
  return {
    ...(names.size > 0 ? { otherNames: [...names] } : {}),
    ...(sizes.size > 0 ? { otherSizes: [...sizes] } : {}),
    ...(flagDisputed ? { encryptedDisputed: true } : {})
  }
}

/** Whether the file written at `path` is an encrypted share, as its first bytes show (whatever was announced). */
async function startsEncrypted (path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const head = new Uint8Array(MAGIC.byteLength)
    const { bytesRead } = await fh.read(head, 0, head.byteLength, 0)
    return looksEncrypted(head.subarray(0, bytesRead))
  } finally {
    await fh.close()
  }
}

/** A fetch's failure, its message naming the file when its name is known (the error's name is kept). */
function namingFile (err: unknown, name: string | undefined, cid: string): unknown {
  if (!(err instanceof Error) || name == null || name === cid || err.message.includes(name) || err.name === 'AbortError') return err
  err.message = `cannot fetch "${name}": ${err.message}`
  return err
}

/**
 * Decrypts a stored encrypted file into place through writeOut (the same rules as a plain
 * file: an existing file is kept unless --force, even against a concurrent `get`); any
 * authentication failure (tampering, wrong key) leaves nothing behind. The store reader is
 * closed on every path, so a refused `get LINK` leaves nothing open (the node stops cleanly).
 */
async function decryptToFile (c: CommandContext, cid: string, key: Uint8Array, options: GetOptions): Promise<{ name: string, path: string, size: number }> {
  const { meta, data, close } = await openEncrypted(c.store.cat(cid, options.signal != null ? { signal: options.signal } : {}), key)
  try {
    const { path } = await outputPath(meta.name, options)
    await writeOut(path, data, { ...(options.signal != null ? { signal: options.signal } : {}), overwrite: options.force === true })
    return { name: meta.name, path, size: meta.size }
  } catch (err: any) {
    existsAsOutputError(err)
  } finally {
    await close()
  }
}

/** A file that appeared after the check (a concurrent `get`): the same error as one found before fetching. */
function existsAsOutputError (err: any): never {
  if (err?.name === 'DestinationExistsError') throw new OutputExistsError(err.path)
  throw err
}
