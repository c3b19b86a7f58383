/**
 * Folders of the content profile: UnixFS directories (plain or HAMT-sharded)
 * read through ipfs-unixfs-exporter over any block getter (the store's disk,
 * the gateway's fetching reader, a download's shallow fetches). Two jobs:
 * resolving `root/a/b` to the entry it names, reading only the directory
 * blocks on the path (the exporter follows one HAMT bucket, not the whole
 * shard), and listing a folder with every link name checked by the one rule
 * (./path.ts) and duplicates refused, so a hostile DAG cannot name a path
 * outside the folder it is written to.
 */
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { cidKey, parseCid, type CID } from './cid.js'
import { RAW_CODEC } from './constants.js'
import { UnsafePathError } from './errors.js'
import { unsafeNameReason } from './path.js'
import { decodeNode, type DagNode } from './unixfs.js'

/** Reads one block, already verified against its CID (or fetched and verified). */
export type TreeBlockGetter = (cid: CID, options: { signal?: AbortSignal }) => Promise<Uint8Array>

/** What a path inside a folder names. */
export interface TreeEntry {
  cid: CID
  /** `file` (a raw leaf or a UnixFS file), `directory` (plain or HAMT-sharded), else the UnixFS type (`symlink`, ...). */
  type: 'file' | 'directory' | string
  /** File bytes (0 for a folder). */
  size: number
}

/** A child of a folder: its (checked) name and CID. */
export interface FolderLink {
  name: string
  cid: CID
}

/** True for a UnixFS folder node (plain or HAMT-sharded). */
export function isFolderNode (node: Pick<DagNode, 'type'>): boolean {
  return node.type === 'directory' || node.type === 'hamt-sharded-directory'
}

function reader (get: TreeBlockGetter, signal?: AbortSignal): { get: (c: any, o?: { signal?: AbortSignal }) => AsyncGenerator<Uint8Array> } {
  return {
    get: async function * (c: any, o: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
      const s = o.signal ?? signal
      yield await get(parseCid(c.toString()), s != null ? { signal: s } : {})
    }
  }
}

function describe (entry: UnixFSEntry): TreeEntry {
  const cid = parseCid(entry.cid.toString())
  if (entry.type === 'raw' || entry.type === 'file') return { cid, type: 'file', size: Number(entry.size) }
  if (entry.type === 'directory') return { cid, type: 'directory', size: 0 }
  return { cid, type: entry.type === 'object' ? 'object' : String((entry as any).unixfs?.type ?? entry.type), size: 0 }
}

/**
 * The entry at `path` (segments, already checked) under `root`, reading only the blocks on the
 * path; undefined when a segment names nothing or goes on through a file.
 */
export async function resolvePath (get: TreeBlockGetter, root: CID, path: string[], options: { signal?: AbortSignal } = {}): Promise<TreeEntry | undefined> {
  try {
    const entry = await exporter([cidKey(root), ...path].join('/'), reader(get, options.signal), options.signal != null ? { signal: options.signal } : {})
    return describe(entry)
  } catch (err: any) {
    if (err?.name === 'NotFoundError' || err?.name === 'NoResolverError' || err?.name === 'BadPathError') return undefined
    throw err
  }
}

/**
 * The children of the folder `cid` (plain or HAMT-sharded), each name checked: a name that is
 * empty, `.`/`..`, holds a separator or a control character, or repeats another → UnsafePathError
 * naming `where/name`. TypeError when `cid` is not a folder.
 */
export async function * listFolder (get: TreeBlockGetter, cid: CID, where: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<FolderLink> {
  const signal = options.signal
  const entry = await exporter(cidKey(cid), reader(get, signal), signal != null ? { signal } : {})
  if (entry.type !== 'directory') throw new TypeError(`${cidKey(cid)} is not a folder`)
  const seen = new Set<string>()
  for await (const child of entry.entries(signal != null ? { signal } : {})) {
    const reason = unsafeNameReason(child.name)
    if (reason != null) throw new UnsafePathError(`${where}/${child.name}`, `the folder's DAG names an entry so (${reason})`)
    // NFC and case-insensitive file systems would merge names that differ only so: refuse those too
    const folded = child.name.normalize('NFC').toLowerCase()
    if (seen.has(folded)) throw new UnsafePathError(`${where}/${child.name}`, 'the folder\'s DAG names two entries so')
    seen.add(folded)
    yield { name: child.name, cid: parseCid(child.cid.toString()) }
  }
}

/** The node of a block for deciding what it is: a raw leaf is a file. */
export function nodeKind (cid: CID, bytes: Uint8Array): 'file' | 'directory' | string {
  if (cid.code === RAW_CODEC) return 'file'
  const node = decodeNode(cid, bytes)
  if (isFolderNode(node)) return 'directory'
  return node.type === 'raw' ? 'file' : node.type
}
