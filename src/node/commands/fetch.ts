/**
 * Fetch a file into the store: the swarm protocol finds providers (catalog, `want`, new
 * `have`s), the transfer fetches the blocks, the store keeps them. SwarmNode.fetch hands off
 * here; `get` (commands/get.ts) adds writing the file out.
 */
import type { CatalogEntry, FileAnnouncement } from '../../pubsub/index.js'
import type { FetchResult, TransferFetchEvents } from '../../transfer/index.js'
import { NoSpaceError, type TrackMeta } from '../../storage/index.js'
import type { CommandContext } from './context.js'

export interface NodeFetchOptions {
  signal?: AbortSignal
  onProgress?: (evt: TransferFetchEvents) => void
  /** Idle timeout in ms: fail when no block arrives for this long (default 30 s). */
  timeout?: number
  /** How long to ask the swarm for providers of a CID the catalog does not know (default: the timeout). */
  wantTimeout?: number
  /** Name kept in the record when the catalog does not know the file (default: the catalog's name, else the CID). */
  name?: string
  /** The caller knows the file is an encrypted share (it holds its link): recorded so whatever the catalog says. */
  encrypted?: boolean
  /** Ask the providers of this CID (default: of the CID fetched): a file inside a folder is found through the folder's. */
  providersOf?: string
}

/**
 * Providers of `cid` for as long as the download runs: the catalog's now, then every
 * provider the catalog learns of (announce, have), and the answers to a `want`.
 */
export function providersOf (c: CommandContext, cid: string, wantTimeout: number): (cid: string, options: { signal: AbortSignal }) => AsyncIterable<string> {
  return async function * (_cid, { signal }) {
    const queue: string[] = [...c.protocol.providers(cid)]
    let wake: (() => void) | undefined
    const push = (peers: string[]): void => {
      queue.push(...peers)
      const w = wake
      wake = undefined
      w?.()
    }
    const onAdded = (evt: CustomEvent<{ cid: string, peer: string }>): void => {
      if (evt.detail.cid === cid) push([evt.detail.peer])
    }
    const onAbort = (): void => { push([]) }
    c.protocol.addEventListener('provider:added', onAdded)
    signal.addEventListener('abort', onAbort, { once: true })
    if (queue.length === 0) {
      c.protocol.want(cid, { signal, timeout: wantTimeout }).then(push, () => {})
    }
    try {
      while (!signal.aborted) {
        const next = queue.shift()
        if (next != null) {
          yield next
          continue
        }
        await new Promise<void>(resolve => { wake = resolve })
      }
    } finally {
      c.protocol.removeEventListener('provider:added', onAdded)
      signal.removeEventListener('abort', onAbort)
    }
  }
}

/** The catalog's entry when no provider disputes its metadata (else the CID names the file here). */
function undisputed (entry: CatalogEntry | undefined): CatalogEntry | undefined {
  return entry != null && (entry.conflicts ?? []).length === 0 ? entry : undefined
}

/** What a record takes of an undisputed catalog entry besides its name (and the caller's `encrypted`). */
function trackedMeta (meta: CatalogEntry | undefined, options: NodeFetchOptions): Omit<TrackMeta, 'name'> {
  return {
    ...(meta?.size != null ? { size: meta.size } : {}),
    ...(meta?.mediaType != null ? { mediaType: meta.mediaType } : {}),
    ...(options.encrypted === true || meta?.encrypted === true ? { encrypted: true } : {}),
    ...(meta?.files != null ? { files: meta.files } : {})
  }
}

/**
 * Fetches a file into the store: tracked as a partial file first (so a later fetch resumes),
 * announced as a partial `have` (so other downloaders use this node too) at once when the swarm
 * is known to have the file (the catalog has it, or names a provider): the fetchers of a file
 * learn of each other before their first block, and each is asked for blocks as it gets them
 * (issue 12, swarm distribution); otherwise once its first block is here. Announced as complete
 * at the end. A fetch that found nothing leaves no record. The record takes the catalog's
 * metadata only when no provider disputes it (else the CID names it: the node tells the swarm
 * it holds the file without naming it, and must not spread a squatter's name, size or flag).
 */
export async function fetch (c: CommandContext, cid: string, options: NodeFetchOptions = {}): Promise<FetchResult> {
  options.signal?.throwIfAborted()
  const entry: CatalogEntry | undefined = c.protocol.entry(cid)
  // what this node records is what it re-announces as its own word: metadata that providers
  // dispute (a squatter's name, size or flag beside the real one) is not taken up, so an honest
  // fetcher never lends its signature to either side; the file is then known by its CID here
  const meta = undisputed(entry)
  const existed = await c.store.get(cid) != null
  const record = await c.store.track(cid, { name: options.name ?? meta?.name ?? cid, ...trackedMeta(meta, options) })
  let announcedPartial = false
  const announcePartial = (): void => {
    if (announcedPartial) return
    announcedPartial = true
    c.protocol.have(cid, false).catch((err) => { c.log('have(%s, partial) failed: %e', cid, err) })
  }
  if (entry != null || c.protocol.providers(cid).length > 0) announcePartial()
  let result: FetchResult
  try {
    result = await c.transfer.fetch(cid, {
      ...(options.signal != null ? { signal: options.signal } : {}),
      ...(options.timeout != null ? { timeout: options.timeout } : {}),
      findProviders: providersOf(c, options.providersOf ?? cid, options.wantTimeout ?? options.timeout ?? 30_000),
      onProgress: (evt) => {
        if (evt.type === 'transfer:fetch:block') announcePartial()
        options.onProgress?.(evt)
      }
    })
  } catch (err: any) {
    // nothing of it arrived: leave no trace of the attempt. A partial have told at the start is
    // taken back, else the node would go on re-announcing a copy it does not hold, and answering
    // wants with it, for as long as it runs (every catalog listing it as a provider of nothing)
    if (!existed && !await c.store.has(cid).catch(() => true)) {
      await c.store.remove(cid).catch(() => {})
      if (announcedPartial) await c.protocol.withdraw(cid).catch((e) => { c.log('withdrawing the have of %s failed: %e', cid, e) })
    }
    // else the record counts what was kept (missing() walks the store and updates it): listed, and
    // announced as a partial copy after a restart, as what it is. A store that cannot say (closed
    // by a stop meanwhile) counts nothing: the error thrown is the fetch's own
    const kept = await c.store.missing(cid).then(async () => (await c.store.get(cid))?.blocks.present ?? 0).catch(() => 0)
    if (err?.name === 'NoSpaceError' && err.file == null) {
      // a full disk names the file, not the block being written, and says what was kept
      throw new NoSpaceError(c.store.path, err.code, {
        file: `"${record.name}" (${cid})`,
        kept: kept > 0 ? `the ${kept} block(s) received so far are kept, and the next get resumes from them` : 'nothing of it was kept'
      })
    }
    throw err
  }
  const missing = await c.store.missing(cid)
  if (missing.length === 0) {
    // named by its CID because nothing was announced when the fetch began (a fetch right after
    // the share): an announcement that came meanwhile, undisputed, names it now
    const late = options.name == null && meta == null ? undisputed(c.protocol.entry(cid)) : undefined
    if (late != null && record.name === cid) {
      await c.store.track(cid, { replaceCidName: true, name: late.name, ...trackedMeta(late, options) })
    }
    const done = await c.store.get(cid) ?? record
    await announceRecord(c, cid, {
      name: done.name,
      size: done.files != null ? done.size : result.size,
      mediaType: done.mediaType,
      ...(done.encrypted === true ? { encrypted: true } : {}),
      ...(done.files != null ? { files: done.files } : {})
    })
  }
  return result
}

/**
 * Announces a complete file this node holds. One named by its CID (no name was announced, or its
 * metadata is disputed) is told as a complete Have, which lends no metadata: announced, the CID
 * would be one more name beside the real one in every catalog (pubsub's OwnFiles does the same
 * at every re-announce).
 */
export async function announceRecord (c: CommandContext, cid: string, meta: Omit<FileAnnouncement, 'cid'>): Promise<void> {
  const done = meta.name === cid ? c.protocol.have(cid, true) : c.protocol.announce({ cid, ...meta })
  await done.catch((err) => { c.log('announcing %s failed: %e', cid, err) })
}
