/**
 * The swarm protocol: files are announced on a gossipsub topic, questions go
 * out on another, and every node keeps a catalog of what it heard. Peers
 * never call an API on each other. The wire format is docs/PROTOCOL.md.
 *
 * @example
 * ```ts
 * const node = await createSwarmNode({ repo: './repo' })
 * node.addEventListener('file:announced', (evt) => { console.log(evt.detail.entry.name, 'from', evt.detail.peer) })
 * await node.protocol.announce({ cid, name: 'cat.jpg', size: 1234, mediaType: 'image/jpeg' })
 * const providers = await node.protocol.want(someCid, { timeout: 2000 })
 * ```
 */
export type {
  SwarmProtocol, SwarmProtocolInit, SwarmProtocolOptions, SwarmProtocolEvents, SwarmProtocolStats,
  LocalFile, FileAnnouncement, WantOptions
} from './types.js'
export { createSwarmProtocol } from './protocol.js'
export type { CatalogEntry, CatalogProvider, CatalogEvents, MetaConflict } from './catalog.js'
export type { RejectReason, WireType } from './codec.js'
export { swarmTopics, validateSwarmName, isReservedTopic, DEFAULT_SWARM, PROTOCOL_VERSION, RESERVED_PREFIX, type SwarmTopics } from './topics.js'
export { InvalidSwarmNameError, InvalidFileError, InvalidProtocolOptionError, ProtocolNotStartedError } from './errors.js'
