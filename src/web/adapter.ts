/**
 * The one place the web server touches the node: every call the page, its API and the
 * gateway make goes through WebNode. Today it is built on what SwarmNode exposes (store,
 * protocol catalog, transfer, peers); when share/get move into the node library, only this
 * file changes.
 */
import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import type { SwarmNode } from '../node/index.js'
import type { FileRecord } from '../storage/index.js'
import { parseCid, type CID } from '../content/index.js'
import type { FetchProgress, ListedFile, PeerEntry } from '../control/contract.js'

export interface WebFile extends ListedFile {
  /** Pinned in this node's store. */
  pinned: boolean
  mediaType: string
  /** This node shares it (imported here). */
  mine: boolean
}

export interface WebIdentity { peerId: string, name: string, swarm: string, addrs: string[] }

export interface WebNode {
  identity: () => WebIdentity
  peers: () => Promise<PeerEntry[]>
  files: () => Promise<WebFile[]>
  /** Imports a stream (an upload) under `name`, pinned, and announces it. */
  share: (source: AsyncIterable<Uint8Array>, name: string, signal: AbortSignal) => Promise<{ cid: string, name: string, size: number }>
  /** Fetches a file of the swarm into the store (announced when complete), reporting progress. */
  fetch: (cid: string, options: { signal: AbortSignal, timeout?: number, onProgress: (p: FetchProgress) => void }) => Promise<{ size: number, received: number }>
  /** Writes a complete file into `folder` under its safe name; returns the path. */
  save: (cid: string, folder: string, signal: AbortSignal) => Promise<string>
  pin: (cid: string, signal: AbortSignal) => Promise<void>
  unpin: (cid: string) => Promise<void>
  remove: (cid: string, signal: AbortSignal) => Promise<void>
  /** The store's record of a file, if any. */
  record: (cid: string) => Promise<FileRecord | undefined>
  /** Name and media type the swarm announced for a file. */
  announced: (cid: string) => { name: string, mediaType: string } | undefined
  hasBlock: (cid: CID) => Promise<boolean>
  getBlock: (cid: CID, signal: AbortSignal) => Promise<Uint8Array>
  /** Blocks of the DAG under `cid` missing here (the root alone when it is absent). */
  missing: (cid: CID, signal: AbortSignal) => Promise<number>
  cat: (cid: CID, options: { offset?: number, length?: number, signal: AbortSignal }) => AsyncIterable<Uint8Array>
  /**
   * Fetches the DAG under `cid` into the store from whoever has it (the catalog's providers,
   * else every connected peer) without a record: a gateway cache that gc may drop.
   */
  fetchBlocks: (cid: CID, options: { signal: AbortSignal, timeout: number }) => Promise<void>
  /** Total bytes sent to and received from peers since start (for the rate chart). */
  traffic: () => { up: number, down: number }
  /** Subscribes to changes the page shows; returns the unsubscribe function. */
  onChange: (fn: (what: 'peers' | 'files') => void) => () => void
}

export function createWebNode (node: SwarmNode): WebNode {
  const progress = (evt: { type: string, detail: any }): FetchProgress | undefined => {
    if (evt.type === 'transfer:fetch:provider') return undefined
    const d = evt.detail
    return { cid: d.cid, bytes: d.bytes, ...(d.total != null ? { total: d.total } : {}), received: d.received, providers: d.providers, rate: d.rate }
  }
  return {
    identity: () => ({ peerId: node.peerId, name: node.name, swarm: node.swarm, addrs: node.getMultiaddrs() }),
    peers: async () => node.peers(),
    // the CLI's `ls` (the same provider counting), plus what the page shows beside it
    files: async () => {
      // the counts are node.ls()'s, the same as the CLI's `ls` (connected providers now, partial apart)
      const records = new Map((await node.store.list()).map(r => [r.cid, r]))
      return (await node.ls()).map(f => {
        const r = records.get(f.cid)
        const e = node.protocol.entry(f.cid)
        const mine = r?.complete === true && (e == null || e.providers.some(p => p.peer === node.peerId))
        return { ...f, pinned: r?.pinned === true, mediaType: e?.mediaType ?? r?.mediaType ?? 'application/octet-stream', mine }
      })
    },
    share: async (source, name, signal) => {
      const rec = await node.share(source, { name, signal })
      return { cid: rec.cid, name: rec.name, size: rec.size }
    },
    fetch: async (cid, options) => {
      const result = await node.fetch(cid, {
        signal: options.signal,
        ...(options.timeout != null ? { timeout: options.timeout } : {}),
        onProgress: (evt) => {
          const p = progress(evt)
          if (p != null) options.onProgress(p)
        }
      })
      return { size: result.size, received: result.bytesReceived }
    },
    // `get` into the folder: a file or a whole folder tree, under its safe name, never replacing anything
    save: async (cid, folder, signal) => {
      await mkdir(folder, { recursive: true, mode: 0o700 })
      return (await node.get(cid, { output: folder + '/', signal })).path
    },
    pin: async (cid, signal) => {
      const rec = await node.store.get(cid)
      if (rec?.complete !== true) await node.fetch(cid, { signal })
      await node.store.pin(cid)
    },
    unpin: async (cid) => { await node.store.unpin(cid) },
    remove: async (cid, signal) => {
      await node.protocol.withdraw(cid, { signal })
      await node.store.remove(cid, { signal })
    },
    record: async (cid) => node.store.get(cid),
    announced: (cid) => {
      const e = node.protocol.entry(cid)
      return e == null ? undefined : { name: e.name, mediaType: e.mediaType }
    },
    hasBlock: async (cid) => node.store.has(cid),
    getBlock: async (cid, signal) => node.store.getBlock(cid, { signal }),
    missing: async (cid, signal) => {
      const key = cid.toString()
      const rec = await node.store.get(key)
      if (rec != null) return rec.complete ? 0 : Math.max(1, (rec.blocks.total ?? rec.blocks.present + 1) - rec.blocks.present)
      // no record: walk what is here (the store's walker, through its public block reads)
      const { walkDag } = await import('../content/index.js')
      const walk = await walkDag({
        get: async (c) => await node.store.has(c) ? node.store.getBlock(c, { signal }) : undefined,
        has: async (c) => node.store.has(c)
      }, cid, { signal })
      return walk.missing.length
    },
    cat: (cid, options) => node.store.cat(cid, options),
    fetchBlocks: async (cid, options) => {
      const key = cid.toString()
      const connected = (await node.peers()).filter(p => p.connected).map(p => p.id)
      const known = node.protocol.providers(key)
      await node.transfer.fetch(key, { signal: options.signal, timeout: options.timeout, providers: new Set([...known, ...connected].filter(p => p !== node.peerId)) })
    },
    traffic: () => {
      const s = node.transfer.stats()
      return { up: s.served.bytes, down: s.received.bytes }
    },
    onChange: (fn) => {
      const peers = (): void => { fn('peers') }
      const files = (): void => { fn('files') }
      node.addEventListener('peer:connect', peers)
      node.addEventListener('peer:disconnect', peers)
      node.addEventListener('peer:name', peers)
      for (const t of ['file:announced', 'file:withdrawn', 'provider:added', 'provider:removed'] as const) node.addEventListener(t, files)
      return () => {
        node.removeEventListener('peer:connect', peers)
        node.removeEventListener('peer:disconnect', peers)
        node.removeEventListener('peer:name', peers)
        for (const t of ['file:announced', 'file:withdrawn', 'provider:added', 'provider:removed'] as const) node.removeEventListener(t, files)
      }
    }
  }
}

/** The node's download folder for "save on the node": `<repo>/downloads`. */
export function defaultDownloadDir (node: SwarmNode): string {
  return join(node.repo, 'downloads')
}

export { parseCid }
