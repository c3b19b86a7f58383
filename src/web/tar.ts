/**
 * A UnixFS folder as a tar stream (`?format=tar`, the path gateway specification's
 * `application/x-tar`), so a browser downloads a whole folder as one file. Entries come from
 * src/content's listFolder, which checks every link name by the one safe-path rule and refuses
 * duplicates: a hostile DAG cannot put `../x` or `/etc/x` into the archive. Symlinks and other
 * UnixFS kinds are left out. Packed by it-tar (USTAR, pax headers for long or UTF-8 names).
 */
import { pack, type TarImportCandidate } from 'it-tar'
import { decodeNode, listFolder, nodeKind, RAW_CODEC, type CID } from '../content/index.js'
import type { WebNode } from './adapter.js'

/** The tar stream of the folder `root`, every entry under the folder `name` (a safe name). */
export function folderTar (node: WebNode, root: CID, name: string, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const get = async (c: CID): Promise<Uint8Array> => node.getBlock(c, signal)
  const mtime = new Date()
  async function * entries (cid: CID, path: string): AsyncGenerator<TarImportCandidate> {
    yield { header: { name: path, type: 'directory', mode: 0o755, mtime } }
    for await (const link of listFolder(get, cid, path, { signal })) {
      const childPath = `${path}/${link.name}`
      const bytes = await get(link.cid)
      const kind = nodeKind(link.cid, bytes)
      if (kind === 'directory') {
        yield * entries(link.cid, childPath)
      } else if (kind === 'file') {
        const size = link.cid.code === RAW_CODEC ? bytes.byteLength : decodeNode(link.cid, bytes).fileSize ?? 0
        yield { header: { name: childPath, type: 'file', size, mode: 0o644, mtime }, body: node.cat(link.cid, { signal }) }
      }
    }
  }
  return pack()(entries(root, name))
}
