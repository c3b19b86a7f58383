/**
 * "Who fetched what": the transfer reports each serving stream that sent blocks when it ends;
 * the node names the file (its record in the store, else the catalog) and emits `file:served`.
 */
import type { SwarmProtocol } from '../pubsub/index.js'
import type { Store } from '../storage/index.js'
import type { ServedStream } from '../transfer/index.js'

export interface FileServedEvent {
  /** The peer the blocks went to. */
  peer: string
  /** The file's CID when the stream started at its root (a fresh download); absent for a resumed one. */
  cid?: string
  /** The file's name, when the CID is a file this node knows. */
  name?: string
  /** Block bytes and blocks sent to the peer on this stream. */
  bytes: number
  blocks: number
  /** `done`: the peer closed the stream; `aborted`: it broke, was reset, or this node stopped. */
  ended: 'done' | 'aborted'
}

/** The event for a served stream: the first CID asked is kept when it names a file (a root). */
export async function describeServed (info: ServedStream, store: Store, protocol: SwarmProtocol): Promise<FileServedEvent> {
  const event: FileServedEvent = { peer: info.peer, bytes: info.bytes, blocks: info.blocks, ended: info.ended }
  if (info.cid == null) return event
  const record = await store.get(info.cid).catch(() => undefined)
  const name = record?.name ?? protocol.entry(info.cid)?.name
  if (record == null && name == null) return event
  event.cid = info.cid
  if (name != null) event.name = name
  return event
}
