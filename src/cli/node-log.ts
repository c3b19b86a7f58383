/**
 * What `swarmdrop start` logs about the swarm, as a sharer wants it: one line per joining peer
 * (with its nickname when the Hello brings it soon enough), one line per file when it first
 * appears in the catalog (never files this node provides itself), and one line per download
 * a peer made from this node (who, what, how many bytes).
 */
import type { FileServedEvent, SwarmNode } from '../node/index.js'
import type { Output } from './output.js'
import { formatBytes, printable, shortId } from './format.js'

/** A joining peer's line waits this long for its nickname (the Hello follows the connection). */
export const JOIN_NAME_WAIT_MS = 2000

export type LogFn = (event: string, detail: Record<string, unknown>, human: string) => void

export function attachNodeLog (node: SwarmNode, out: Output, log: LogFn): void {
  const who = (id: string): string => {
    const name = node.peerName(id)
    return name != null ? `${printable(name)} (${shortId(id)})` : shortId(id)
  }
  /** Peers whose join line was printed, with the name it showed. */
  const present = new Map<string, string | undefined>()
  /** Peers connected whose join line waits for their nickname. */
  const pending = new Map<string, ReturnType<typeof setTimeout>>()
  const joined = (id: string): void => {
    clearTimeout(pending.get(id))
    pending.delete(id)
    const name = node.peerName(id)
    present.set(id, name)
    // no Hello in time: a slow peer (its name follows as `peer named`), or one of another swarm
    const human = name != null ? `${out.style('green', 'peer joined')}  ${who(id)}` : `connected    ${who(id)} (no Hello yet: a slow peer, or one of another swarm)`
    log('peer:join', { peer: id, ...(name != null ? { name } : {}) }, human)
  }
  node.addEventListener('peer:connect', (e) => {
    const id = e.detail.id
    // machine readers get the connection at once; people get one line, with the name
    if (out.json) log('peer:connect', { peer: id }, '')
    if (present.has(id) || pending.has(id)) return
    if (node.peerName(id) != null) {
      joined(id)
      return
    }
    const timer = setTimeout(() => { joined(id) }, JOIN_NAME_WAIT_MS)
    timer.unref?.()
    pending.set(id, timer)
  })
  node.addEventListener('peer:name', (e) => {
    const { id, name } = e.detail
    if (out.json) log('peer:name', { peer: id, name }, '')
    if (pending.has(id)) {
      joined(id)
    } else if (present.has(id) && present.get(id) !== name) {
      present.set(id, name)
      if (!out.json) log('peer:name', { peer: id, name }, `peer named   ${printable(name)} (${shortId(id)})`)
    }
  })
  node.addEventListener('peer:disconnect', (e) => {
    const id = e.detail.id
    if (pending.has(id)) {
      // connected and gone before its line: nothing to say
      clearTimeout(pending.get(id))
      pending.delete(id)
      return
    }
    if (!present.has(id)) return
    present.delete(id)
    log('peer:disconnect', { peer: id }, `${out.style('yellow', 'peer left')}    ${who(id)}`)
  })

  // a file's first appearance only: re-announcements, further providers and this node's own files are no news
  const announced = new Set<string>()
  node.addEventListener('file:announced', (e) => {
    const { entry, peer } = e.detail
    if (peer === node.peerId || announced.has(entry.cid)) return
    announced.add(entry.cid)
    if (entry.providers.some(p => p.peer === node.peerId)) return
    void node.store.has(entry.cid).catch(() => false).then((mine) => {
      if (mine) return
      log('file:announced', { cid: entry.cid, name: entry.name, size: entry.size, peer }, `${out.style('cyan', 'file')}         ${printable(entry.name)} (${formatBytes(entry.size)}) ${entry.cid} from ${who(peer)}`)
    })
  })
  node.addEventListener('file:withdrawn', (e) => {
    if (e.detail.peer === node.peerId) return
    log('file:withdrawn', { cid: e.detail.cid, peer: e.detail.peer }, `withdrawn    ${e.detail.cid} by ${who(e.detail.peer)}`)
  })

  node.addEventListener('file:served', (e) => { log('file:served', { ...e.detail }, describeServed(e.detail, who)) })
}

/** "sent holiday.jpg (3.0 MiB) to bob (…abc)", "sent 1.0 MiB of holiday.jpg to bob (…abc) before it stopped". */
export function describeServed (e: FileServedEvent, who: (id: string) => string): string {
  const what = e.name != null ? printable(e.name) : e.cid ?? 'blocks of a file (resumed download)'
  const to = `to ${who(e.peer)}`
  return e.ended === 'done'
    ? `sent         ${what} (${formatBytes(e.bytes)}) ${to}`
    : `sent         ${formatBytes(e.bytes)} of ${what} ${to} before the download stopped`
}
