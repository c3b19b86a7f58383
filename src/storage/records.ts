/**
 * File records: one JSON file per file, `records/<cid>.json`, replaced
 * atomically (temp file in `tmp/`, fsync, rename, fsync of `records/`).
 * A record is either the old or the new version after any crash; there is
 * no log to replay and no index to rebuild. All records are read into
 * memory at open (a record is ~300 bytes).
 */
import { join } from 'node:path'
import { RECORDS_DIR, TMP_DIR } from './constants.js'
import { fsError } from './errors.js'
import { syncDir, writeFileAtomic } from '../util/atomic-write.js'
import type { StoreFs } from './fs.js'

/** What the store knows about one file. */
export interface FileRecord {
  /** Root CID (base32 CIDv1). */
  cid: string
  /** Name given at import or by the peer that announced it; untrusted: export with safeFileName(). */
  name: string
  /** Size in bytes (from the DAG once its root is present, else as announced). */
  size: number
  mediaType: string
  /** When the record was made, ms since the epoch. */
  added: number
  /** Pinned files keep their blocks through gc. */
  pinned: boolean
  /** Every block of the DAG is present. */
  complete: boolean
  /** Distinct blocks of the DAG: how many are present, and the total once every inner node is present. */
  blocks: { total?: number, present: number }
  /** The content is encrypted (set by the layer that encrypts; the store only keeps the flag). */
  encrypted?: boolean
  /** Set for a folder (a UnixFS directory): the regular files in it, at any depth; `size` is their bytes. */
  files?: number
  /**
   * Kept by reference: its leaves are read (and verified) from this file.
   * Not stored in the record: the store says how the file looks now
   * (`ok`, `changed` since it was shared, or `missing`) when listing.
   */
  reference?: { path: string, state: 'ok' | 'changed' | 'missing' }
}

const RECORD_VERSION = 1

export function isFileRecord (r: any): r is FileRecord {
  return r != null && typeof r === 'object' &&
    typeof r.cid === 'string' && typeof r.name === 'string' &&
    Number.isSafeInteger(r.size) && r.size >= 0 &&
    typeof r.mediaType === 'string' && Number.isFinite(r.added) &&
    typeof r.pinned === 'boolean' && typeof r.complete === 'boolean' &&
    r.blocks != null && Number.isSafeInteger(r.blocks.present) &&
    (r.blocks.total == null || Number.isSafeInteger(r.blocks.total)) &&
    (r.encrypted == null || typeof r.encrypted === 'boolean') &&
    (r.files == null || (Number.isSafeInteger(r.files) && r.files >= 0))
}

function copy (r: FileRecord): FileRecord {
  const out: FileRecord = { ...r, blocks: { ...r.blocks } }
  if (out.blocks.total == null) delete out.blocks.total
  if (out.encrypted == null) delete out.encrypted
  if (out.files == null) delete out.files
  delete out.reference
  return out
}

export class RecordStore {
  private readonly fs: StoreFs
  private readonly dir: string
  private readonly tmpDir: string
  private readonly records = new Map<string, FileRecord>()

  constructor (root: string, fs: StoreFs) {
    this.fs = fs
    this.dir = join(root, RECORDS_DIR)
    this.tmpDir = join(root, TMP_DIR)
  }

  /** Reads every record; returns the names of files that are not valid records (left in place, reported by fsck). */
  async load (): Promise<string[]> {
    const bad: string[] = []
    let names: string[]
    try {
      names = await this.fs.readdir(this.dir)
    } catch (err) {
      throw fsError(err, this.dir, 'list')
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue
      const path = join(this.dir, name)
      try {
        const parsed = JSON.parse(await this.fs.readFile(path, 'utf8'))
        const { v, ...record } = parsed
        if (v !== RECORD_VERSION || !isFileRecord(record) || `${record.cid}.json` !== name) throw new Error('invalid record')
        this.records.set(record.cid, record)
      } catch {
        bad.push(name)
      }
    }
    return bad
  }

  get (cid: string): FileRecord | undefined {
    const r = this.records.get(cid)
    return r == null ? undefined : copy(r)
  }

  has (cid: string): boolean {
    return this.records.has(cid)
  }

  list (): FileRecord[] {
    return [...this.records.values()].map(copy).sort((a, b) => a.added - b.added || a.cid.localeCompare(b.cid))
  }

  keys (): string[] {
    return [...this.records.keys()]
  }

  /** Writes a record atomically and durably, then updates the in-memory copy. */
  async put (record: FileRecord): Promise<FileRecord> {
    const r = copy(record)
    const dest = join(this.dir, `${r.cid}.json`)
    try {
      await writeFileAtomic(dest, Buffer.from(JSON.stringify({ v: RECORD_VERSION, ...r }) + '\n'), { tmpDir: this.tmpDir, tmpPrefix: 'record-', fs: this.fs })
    } catch (err) {
      throw fsError(err, dest, 'write record')
    }
    this.records.set(r.cid, r)
    return copy(r)
  }

  async delete (cid: string): Promise<void> {
    const path = join(this.dir, `${cid}.json`)
    try {
      await this.fs.unlink(path)
      await syncDir(this.dir, this.fs)
    } catch (err: any) {
      if (err?.code !== 'ENOENT') throw fsError(err, path, 'delete record')
    }
    this.records.delete(cid)
  }
}
