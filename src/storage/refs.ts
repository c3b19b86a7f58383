/**
 * Files kept by reference (kubo's filestore, `ipfs add --nocopy`): the store
 * keeps a file's inner DAG nodes as blocks, and for its leaves only where
 * they lie in the original file. One manifest per file,
 * `refs/<root cid>.json` (path, size, mtime, inode, and for each leaf CID its
 * offset and length), replaced atomically by the one durable writer.
 *
 * A leaf read through a reference is hashed against its CID on EVERY read,
 * whatever the caller asked: a file that changed is never served wrong. A
 * read that finds the file changed (ReferenceChangedError) or gone
 * (ReferenceMissingError) marks the reference broken and logs it once; from
 * then on its leaves count as absent until the file is imported again.
 */
import { join } from 'node:path'
import { cidKey, verifyBytes, type CID } from '../content/cid.js'
import { syncDir, writeFileAtomic } from '../util/atomic-write.js'
import type { Logger } from '../util/logger.js'
import { REFS_DIR, TMP_DIR } from './constants.js'
import { fsError, ReferenceChangedError, ReferenceMissingError } from './errors.js'
import type { StoreFs } from './fs.js'

const MANIFEST_VERSION = 1

/** Where one file kept by reference lies, and the leaves read from it. */
export interface RefManifest {
  /** Root CID of the file. */
  root: string
  /** Absolute path of the file. */
  path: string
  /** Its size, mtime (ms) and inode when the reference was made. */
  size: number
  mtimeMs: number
  ino: number
  /** Leaf CID → [offset, length] in the file. */
  leaves: Record<string, [number, number]>
}

/** How a referenced file looks now: unchanged, changed since (size, mtime, inode, or a read that did not hash), or gone. */
export type RefState = 'ok' | 'changed' | 'missing'

export interface RefInfo {
  path: string
  state: RefState
}

function isManifest (m: any): m is RefManifest {
  return m != null && typeof m === 'object' && typeof m.root === 'string' && typeof m.path === 'string' &&
    Number.isSafeInteger(m.size) && Number.isFinite(m.mtimeMs) && Number.isFinite(m.ino) &&
    m.leaves != null && typeof m.leaves === 'object' &&
    Object.values(m.leaves).every((v: any) => Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1]))
}

/** A shared or fetched file that changed or vanished: its blocks are no longer served. */
export interface BrokenReference {
  cid: string
  path: string
  state: 'changed' | 'missing'
}

export class RefStore {
  private readonly fs: StoreFs
  private readonly dir: string
  private readonly tmpDir: string
  private readonly log: Logger
  private readonly byRoot = new Map<string, RefManifest>()
  private readonly byLeaf = new Map<string, Set<string>>()
  /** Roots whose file a read found changed or gone (kept until the file is imported again). */
  private readonly broken = new Map<string, Exclude<RefState, 'ok'>>()
  private readonly brokenListeners = new Set<(event: BrokenReference) => void>()

  constructor (root: string, fs: StoreFs, log: Logger) {
    this.fs = fs
    this.dir = join(root, REFS_DIR)
    this.tmpDir = join(root, TMP_DIR)
    this.log = log
  }

  /** Reads every manifest; returns the names of unreadable ones (left in place). */
  async load (): Promise<string[]> {
    try {
      await this.fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw fsError(err, this.dir, 'create')
    }
    let names: string[]
    try {
      names = await this.fs.readdir(this.dir)
    } catch (err) {
      throw fsError(err, this.dir, 'list')
    }
    const bad: string[] = []
    for (const name of names) {
      if (!name.endsWith('.json')) continue
      try {
        const { v, ...m } = JSON.parse(await this.fs.readFile(join(this.dir, name), 'utf8'))
        if (v !== MANIFEST_VERSION || !isManifest(m) || `${m.root}.json` !== name) throw new Error('invalid manifest')
        this.index(m)
      } catch {
        bad.push(name)
      }
    }
    return bad
  }

  private index (m: RefManifest): void {
    this.unindex(m.root)
    this.byRoot.set(m.root, m)
    for (const leaf of Object.keys(m.leaves)) {
      let roots = this.byLeaf.get(leaf)
      if (roots == null) this.byLeaf.set(leaf, roots = new Set())
      roots.add(m.root)
    }
  }

  private unindex (root: string): void {
    const old = this.byRoot.get(root)
    if (old == null) return
    for (const leaf of Object.keys(old.leaves)) {
      const roots = this.byLeaf.get(leaf)
      roots?.delete(root)
      if (roots?.size === 0) this.byLeaf.delete(leaf)
    }
    this.byRoot.delete(root)
    this.broken.delete(root)
  }

  get (root: string): RefManifest | undefined {
    return this.byRoot.get(root)
  }

  roots (): string[] {
    return [...this.byRoot.keys()]
  }

  /** True when some unbroken reference holds this leaf. */
  holds (cid: CID): boolean {
    for (const root of this.byLeaf.get(cidKey(cid)) ?? []) if (!this.broken.has(root)) return true
    return false
  }

  /** The leaf's length when some unbroken reference holds it. */
  lengthOf (cid: CID): number | undefined {
    const key = cidKey(cid)
    for (const root of this.byLeaf.get(key) ?? []) {
      if (!this.broken.has(root)) return this.byRoot.get(root)?.leaves[key]?.[1]
    }
    return undefined
  }

  /** Writes a manifest atomically and durably (replacing the file's old one, clearing a broken mark). */
  async put (m: RefManifest): Promise<void> {
    const dest = join(this.dir, `${m.root}.json`)
    try {
      await writeFileAtomic(dest, Buffer.from(JSON.stringify({ v: MANIFEST_VERSION, ...m }) + '\n'), { tmpDir: this.tmpDir, tmpPrefix: 'ref-', fs: this.fs })
    } catch (err) {
      throw fsError(err, dest, 'write reference')
    }
    this.index(m)
  }

  async delete (root: string): Promise<void> {
    if (!this.byRoot.has(root)) return
    const path = join(this.dir, `${root}.json`)
    try {
      await this.fs.unlink(path)
      await syncDir(this.dir, this.fs)
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw fsError(err, path, 'delete reference')
    }
    this.unindex(root)
  }

  /** Bytes of the manifest files. */
  async bytes (): Promise<number> {
    let n = 0
    for (const root of this.byRoot.keys()) {
      n += await this.fs.stat(join(this.dir, `${root}.json`)).then(s => s.size, () => 0)
    }
    return n
  }

  /** How the file of a reference looks now (a stat, no read): a changed size, mtime or inode counts as changed. */
  async state (root: string): Promise<RefInfo | undefined> {
    const m = this.byRoot.get(root)
    if (m == null) return undefined
    const broken = this.broken.get(root)
    if (broken != null) return { path: m.path, state: broken }
    try {
      const st = await this.fs.stat(m.path)
      if (!st.isFile() || st.size !== m.size || st.mtimeMs !== m.mtimeMs || st.ino !== m.ino) return { path: m.path, state: 'changed' }
      return { path: m.path, state: 'ok' }
    } catch {
      return { path: m.path, state: 'missing' }
    }
  }

  /**
   * Reads a leaf from the file of a reference, hashed against its CID.
   * Undefined when no reference holds it; ReferenceChangedError or
   * ReferenceMissingError when every reference that holds it is broken.
   */
  async read (cid: CID, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const key = cidKey(cid)
    const roots = this.byLeaf.get(key)
    if (roots == null || roots.size === 0) return undefined
    // a failure found by this read says more than one remembered from an earlier read
    let failure: Error | undefined
    let remembered: Error | undefined
    for (const root of [...roots]) {
      signal?.throwIfAborted()
      const m = this.byRoot.get(root)
      const at = m?.leaves[key]
      if (m == null || at == null) continue
      const state = this.broken.get(root)
      if (state != null) {
        remembered ??= state === 'missing' ? new ReferenceMissingError(m.path, root) : new ReferenceChangedError(m.path, root)
        continue
      }
      const bytes = await this.readRange(m, at[0], at[1]).catch((err: any) => {
        if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR' || err?.code === 'EISDIR') return null
        throw fsError(err, m.path, 'read')
      })
      if (bytes == null) {
        this.markBroken(m, 'missing')
        failure ??= new ReferenceMissingError(m.path, root)
        continue
      }
      if (bytes.byteLength === at[1] && verifyBytes(cid, bytes)) return bytes
      this.markBroken(m, 'changed')
      failure ??= new ReferenceChangedError(m.path, root)
    }
    const err = failure ?? remembered
    if (err != null) throw err
    return undefined
  }

  /** Calls `fn` once for each reference a read finds broken; returns the unsubscribe function. */
  onBroken (fn: (event: BrokenReference) => void): () => void {
    this.brokenListeners.add(fn)
    return () => { this.brokenListeners.delete(fn) }
  }

  private markBroken (m: RefManifest, state: Exclude<RefState, 'ok'>): void {
    if (this.broken.has(m.root)) return
    this.broken.set(m.root, state)
    this.log.error('%s %s since it was shared as %s: it is no longer served; share it again to serve what it holds now', m.path, state === 'missing' ? 'is gone' : 'changed', m.root)
    for (const fn of this.brokenListeners) {
      try {
        fn({ cid: m.root, path: m.path, state })
      } catch (err) {
        this.log.error('a listener of broken references threw %e', err)
      }
    }
  }

  private async readRange (m: RefManifest, offset: number, length: number): Promise<Uint8Array> {
    const fh = await this.fs.open(m.path, 'r')
    try {
      const buf = Buffer.alloc(length)
      let got = 0
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, offset + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
      return got === length ? buf : buf.subarray(0, got)
    } finally {
      await fh.close()
    }
  }
}
