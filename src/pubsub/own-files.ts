/**
 * This node's own files: what it announces, withdraws and holds, and the
 * periodic re-announce (docs/PROTOCOL.md §6, "Periodic re-announce").
 */
import { announcedFileBytes, batches, checkFileName, checkMediaType, checkSize, normalizeCid, type AnnouncedFileInfo, type FileMeta } from './codec.js'
import { DEFAULT_MEDIA_TYPE, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE } from './constants.js'
import type { ProtocolContext } from './context.js'
import { InvalidFileError } from './errors.js'
import type { FileAnnouncement, LocalFile } from './types.js'

/** An own file; `meta` absent: it has no name of its own to tell (below, `list`), and is told as a Have. */
interface OwnFile { meta?: FileMeta, complete: boolean }

/** A CID given to the API, as its key (CIDv1, base32); InvalidFileError otherwise. */
export function cidOrThrow (value: string): string {
  const cid = normalizeCid(value)
  if (cid == null) throw new InvalidFileError(`"${String(value).slice(0, 80)}" is not a UnixFS CID (CIDv0/v1, dag-pb or raw, sha2-256)`)
  return cid
}

/** Checks a file's metadata and returns it in canonical form (CIDv1 key, default media type); throws InvalidFileError. */
export function fileMeta (file: FileAnnouncement): FileMeta {
  const cid = cidOrThrow(file.cid)
  const mediaType = file.mediaType === '' || file.mediaType == null ? DEFAULT_MEDIA_TYPE : file.mediaType
  const reason = checkFileName(file.name) ?? checkSize(file.size) ?? checkMediaType(mediaType)
  if (reason != null) throw new InvalidFileError(reason)
  const meta: FileMeta = { cid, name: file.name, size: file.size, mediaType, encrypted: file.encrypted === true }
  if (file.files != null) {
    if (!Number.isSafeInteger(file.files) || file.files < 0 || file.files > 0xffffffff) throw new InvalidFileError(`a folder's file count must be a whole number from 0 to ${0xffffffff}`)
    meta.files = file.files
  }
  return meta
}

export class OwnFiles {
  private readonly ctx: ProtocolContext
  private readonly localFiles: () => Promise<LocalFile[]>
  /** Files announce() was called for (the store may not list them). */
  private readonly announced = new Map<string, OwnFile>()
  /** Files withdraw() was called for: not re-announced even if the store lists them. */
  private readonly withdrawn = new Set<string>()
  /** CIDs have() was called for without known metadata: cid → complete. */
  private readonly haves = new Map<string, boolean>()

  constructor (ctx: ProtocolContext, localFiles: () => Promise<LocalFile[]>) {
    this.ctx = ctx
    this.localFiles = localFiles
  }

  async announce (meta: FileMeta): Promise<void> {
    const { ctx } = this
    this.announced.set(meta.cid, { meta, complete: true })
    this.withdrawn.delete(meta.cid)
    this.haves.delete(meta.cid)
    ctx.catalog.add({ cid: meta.cid, peer: ctx.self, meta, complete: true, lastSeen: Date.now(), firstHand: true })
    await ctx.publish({ type: 'announce', files: [{ meta, complete: true }], issued: ctx.issued() })
  }

  async withdraw (cid: string): Promise<void> {
    const { ctx } = this
    this.announced.delete(cid)
    this.haves.delete(cid)
    this.withdrawn.add(cid)
    ctx.catalog.remove(cid, ctx.self, 'withdrawn')
    await ctx.publish({ type: 'withdraw', cids: [cid], issued: ctx.issued() })
  }

  async have (cid: string, complete: boolean): Promise<void> {
    const { ctx } = this
    this.withdrawn.delete(cid)
    const own = this.announced.get(cid)
    if (own != null) own.complete = complete
    else this.haves.set(cid, complete)
    // listed with the catalog's metadata only while no provider disputes it: a fetch then names its
    // record after it (node/commands/fetch.ts) and announces it; disputed, the record is named by
    // its CID and this node lends no metadata, in catalog answers either (Catalog.pairs)
    const meta = ctx.catalog.undisputedMeta(cid)
    ctx.catalog.add({ cid, peer: ctx.self, complete, lastSeen: Date.now(), firstHand: true, ...(meta != null ? { meta } : {}) })
    await ctx.publish({ type: 'have', cid, complete, issued: ctx.issued() })
  }

  /** Whether this node holds `cid`: true complete, false partial, undefined not at all. */
  async holds (cid: string): Promise<boolean | undefined> {
    const own = await this.list()
    return own.get(cid)?.complete ?? this.haves.get(cid)
  }

  /** Announces every own file (in batches) and re-sends have for files without metadata of their own. */
  async publish (): Promise<void> {
    const { ctx } = this
    const own = await this.sync()
    if (!ctx.started) return
    const files: AnnouncedFileInfo[] = [...own.values()].flatMap(f => f.meta != null ? [{ meta: f.meta, complete: f.complete }] : [])
    for (const batch of batches(files, announcedFileBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE)) {
      await ctx.publish({ type: 'announce', files: batch, issued: ctx.issued() })
    }
    for (const [cid, f] of own) {
      if (f.meta == null) await ctx.publish({ type: 'have', cid, complete: f.complete, issued: ctx.issued() })
    }
    for (const [cid, complete] of this.haves) {
      if (!own.has(cid)) await ctx.publish({ type: 'have', cid, complete, issued: ctx.issued() })
    }
  }

  /** Brings this node's own listings in the catalog in line with list(). */
  async sync (): Promise<Map<string, OwnFile>> {
    const { ctx } = this
    const own = await this.list()
    const now = Date.now()
    for (const [cid, f] of own) {
      // a file without metadata of its own is listed without any: this node's listing is its own
      // word (catalog answers pass it on), and the catalog's metadata may be a squatter's
      ctx.catalog.add({ cid, peer: ctx.self, complete: f.complete, lastSeen: now, firstHand: true, ...(f.meta != null ? { meta: f.meta } : {}) })
    }
    return own
  }

  /** Own files: the store's list plus announce() calls, minus withdraw() calls. */
  private async list (): Promise<Map<string, OwnFile>> {
    const out = new Map<string, OwnFile>()
    let listed: LocalFile[] = []
    try {
      listed = await this.localFiles()
      // a withdrawal only matters while the store still lists the file (a removed share, a failed
      // fetch): kept beyond that, one CID per withdrawal would stay for the life of the node
      const stored = new Set(listed.map(f => normalizeCid(f.cid)))
      for (const cid of this.withdrawn) if (!stored.has(cid)) this.withdrawn.delete(cid)
    } catch (err) {
      this.ctx.log.error('could not list local files: %e', err)
    }
    for (const f of listed) {
      try {
        const meta = fileMeta(f)
        if (this.withdrawn.has(meta.cid)) continue
        // a record named by its own CID has no name to tell: fetched before any announcement named
        // it, or while providers disputed its metadata (node/commands/fetch.ts). Announced, the CID
        // would be one more name beside the real one in every catalog; a Have lends no metadata
        out.set(meta.cid, normalizeCid(meta.name) === meta.cid ? { complete: f.complete } : { meta, complete: f.complete })
      } catch (err) {
        this.ctx.log('not announcing local file %s: %e', f.cid, err)
      }
    }
    for (const [cid, f] of this.announced) if (!out.has(cid)) out.set(cid, f)
    return out
  }
}
