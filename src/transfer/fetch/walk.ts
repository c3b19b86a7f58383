/**
 * Walks what is already stored under a CID: present dag-pb nodes are decoded and their links
 * followed; every block not present becomes a want. A crashed or interrupted download thereby
 * resumes with only its missing blocks.
 */
import { decodeNode, DAG_PB_CODEC, type CID } from '../../content/index.js'
import type { SessionHost } from './types.js'
import type { WantList } from './want-list.js'

/** The download state a walk updates. */
export interface Walker {
  readonly host: SessionHost
  readonly wants: WantList
  readonly present: Set<string>
  readonly finishedOrAborted: boolean
  total?: number
  bytesPresent: number
  blocksPresent: number
  /** Walks running now: the download is not complete while one runs. */
  expanding: number
  /** The root block only: its children are not followed. */
  readonly shallow: boolean
}

export async function walkLocal (d: Walker, cid: CID, isRoot: boolean, fileBytes?: number): Promise<void> {
  d.expanding++
  try {
    const stack: Array<{ cid: CID, fileBytes: number, isRoot: boolean }> = [{ cid, fileBytes: fileBytes ?? 0, isRoot }]
    while (stack.length > 0) {
      if (d.finishedOrAborted) return
      const item = stack.pop()
      if (item == null) break
      const key = item.cid.toString()
      if (d.wants.addBytes(key, item.fileBytes)) continue
      if (d.present.has(key)) {
        if (item.cid.code !== DAG_PB_CODEC) d.bytesPresent += item.fileBytes
        continue
      }
      const stored = await d.host.store.has(key)
      // another walk of this download may have reached the same block meanwhile (a block linked
      // from two nodes): count it once
      if (d.wants.addBytes(key, item.fileBytes)) continue
      if (d.present.has(key)) {
        if (item.cid.code !== DAG_PB_CODEC) d.bytesPresent += item.fileBytes
        continue
      }
      if (!stored) {
        d.wants.add(item.cid, item.fileBytes, item.isRoot)
        continue
      }
      d.present.add(key)
      d.blocksPresent++
      if (item.cid.code !== DAG_PB_CODEC && !item.isRoot) {
        d.bytesPresent += item.fileBytes
        continue
      }
      const bytes = await d.host.store.getBlock(key)
      if (bytes == null) {
        // vanished between has() and getBlock(): fetch it
        d.present.delete(key)
        d.blocksPresent--
        d.wants.add(item.cid, item.fileBytes, item.isRoot)
        continue
      }
      const node = decodeNode(item.cid, bytes)
      if (item.isRoot) d.total = node.fileSize ?? d.total
      d.bytesPresent += node.ownBytes
      if (d.shallow && item.isRoot) continue
      for (let i = node.children.length - 1; i >= 0; i--) {
        const child = node.children[i]
        if (child != null) stack.push({ cid: child.cid, fileBytes: child.fileBytes ?? 0, isRoot: false })
      }
    }
  } finally {
    d.expanding--
  }
}
