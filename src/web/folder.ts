/**
 * UnixFS folders for the gateway: resolving `/ipfs/{cid}/a/b` inside a folder (plain or
 * HAMT-sharded) and the HTML listing of a folder. Both walk the DAG with
 * ipfs-unixfs-exporter (not by hand: it knows HAMT shards) over the node's store; the
 * gateway has fetched the folder's blocks before it calls these.
 */
import { exporter } from 'ipfs-unixfs-exporter'
import { decodeNode, parseCid, RAW_CODEC, resolvePath as resolveTreePath, type CID } from '../content/index.js'
import type { WebNode } from './adapter.js'

export interface Resolved { cid: CID, size: number, folder: boolean }

function blockReader (node: WebNode, signal: AbortSignal): { get: (c: any) => AsyncGenerator<Uint8Array> } {
  return {
    get: async function * (c: any): AsyncGenerator<Uint8Array> {
      yield await node.getBlock(parseCid(c.toString()), signal)
    }
  }
}

/** The entry at `path` under the folder `root`; undefined when a segment names nothing (or passes through a file). src/content's one resolver. */
export async function resolvePath (node: WebNode, root: CID, path: string[], signal: AbortSignal): Promise<Resolved | undefined> {
  const entry = await resolveTreePath(async (c) => node.getBlock(c, signal), root, path, { signal })
  if (entry == null) return undefined
  return { cid: entry.cid, size: entry.size, folder: entry.type === 'directory' }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, c => ESCAPES[c] ?? c)

function humanSize (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`
}

/** A small self-contained HTML page listing the folder's entries, links relative to `base` (its URL path, percent-encoded). */
export async function folderListing (node: WebNode, folder: CID, base: string, signal: AbortSignal): Promise<string> {
  const entry = await exporter(folder.toString(), blockReader(node, signal), { signal })
  if (entry.type !== 'directory') throw new TypeError(`${folder.toString()} is not a folder`)
  const rows: string[] = []
  const children: Array<{ name: string, size: number, folder: boolean, cid: string }> = []
  for await (const child of entry.entries({ signal })) {
    // the link's size is the DAG's (blocks included): the file's own size is in its UnixFS data
    const cid = parseCid(child.cid.toString())
    const dag = cid.code === RAW_CODEC ? undefined : decodeNode(cid, await node.getBlock(cid, signal))
    const folder = dag?.type === 'directory' || dag?.type === 'hamt-sharded-directory'
    children.push({ name: child.name, size: dag == null ? Number(child.size) : (dag.fileSize ?? 0), folder, cid: cid.toString() })
  }
  children.sort((a, b) => Number(b.folder) - Number(a.folder) || a.name.localeCompare(b.name))
  for (const c of children) {
    const href = `${base}/${encodeURIComponent(c.name)}${c.folder ? '/' : ''}`
    rows.push(`<tr><td><a href="${escapeHtml(href)}">${escapeHtml(c.name)}${c.folder ? '/' : ''}</a></td><td>${c.folder ? '' : humanSize(c.size)}</td><td><code>${escapeHtml(c.cid)}</code></td></tr>`)
  }
  const parent = base.split('/').length > 3 ? `<p><a href="${escapeHtml(base.split('/').slice(0, -1).join('/'))}/">..</a></p>` : ''
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(decodeURIComponent(base))}</title>
<style>body{font:14px system-ui,sans-serif;margin:1rem}table{border-collapse:collapse;width:100%}td{padding:.25rem .5rem;border-bottom:1px solid #ddd;word-break:break-all}code{font-size:12px;color:#555}</style>
</head><body><h1>${escapeHtml(decodeURIComponent(base))}</h1>${parent}
<table><thead><tr><th align="left">name</th><th align="left">size</th><th align="left">CID</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table><p>${children.length} entr${children.length === 1 ? 'y' : 'ies'}</p></body></html>
`
}
