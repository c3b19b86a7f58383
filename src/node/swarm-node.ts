/**
 * SwarmNode: one process, one libp2p peer, one repository.
 *
 * It owns the lifecycle: repository lock, identity, network, mDNS dialing,
 * bootstrap redials, and the swarmdrop components built on the network
 * (started in order, stopped in reverse). After stop() nothing is left open.
 */
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { TypedEventEmitter } from '../util/events.js'
import { VERSION } from '../version.js'
import { DEFAULT_SWARM, isReservedTopic, swarmTopics, validateSwarmName, type SwarmTopics } from '../pubsub/topics.js'
import { createStore, type Store } from '../storage/index.js'
import { createSwarmProtocol, type LocalFile, type SwarmProtocol, type SwarmProtocolEvents, type SwarmProtocolOptions } from '../pubsub/index.js'
import { createTransfer, type FetchResult, type Transfer, type TransferInit } from '../transfer/index.js'
import { fetchFile, shareFile, type NodeFetchOptions, type ShareOptions } from './files.js'
import type { FileRecord, ImportInput } from '../storage/index.js'
import { BootstrapDialer } from './bootstrap.js'
import { DEFAULT_LISTEN, MAX_NAME_BYTES, MDNS_YIELD_MS, REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.js'
import { NotStartedError } from '../util/errors.js'
import { createLogger } from '../util/logger.js'
import { createNetwork, loadOrCreateIdentity, parseMultiaddr, parseSwarmKey, type GossipsubOptions, type Network, type NetworkInit, type TopicMessage } from '../net/index.js'
import { ensureRepo, lockRepo } from './repo.js'

export interface SwarmNodeInit {
  /** The repository folder: identity and data live here. Created (mode 0700) if missing. */
  repo: string
  /** Nickname shown to other peers (default: this host's name). Cut to 64 bytes. */
  name?: string
  /** Swarm name; nodes only see files of their own swarm (default `default`). */
  swarm?: string
  /** Multiaddrs to listen on (default all interfaces, port 0: `/ip4/0.0.0.0/tcp/0`). */
  listen?: string[]
  /** Multiaddrs dialled at start and redialled with backoff whenever lost. */
  bootstrap?: string[]
  /** Find peers on the LAN with mDNS and dial them (default true). */
  mdns?: boolean
  /** mDNS query interval in ms (default 500). */
  mdnsInterval?: number
  /** A swarm key (kubo format, the file's bytes or text): only nodes with the same key can connect. */
  swarmKey?: Uint8Array | string
  /** Gossipsub overrides (heartbeat, mesh sizes, scoring). */
  gossipsub?: GossipsubOptions
  /** Timing of the swarm protocol (provider TTL, re-announce interval, ...). */
  pubsub?: SwarmProtocolOptions
  /** Limits of the block exchange (streams, bytes in flight, windows, timeouts). */
  transfer?: Omit<TransferInit, 'network' | 'store'>
  /** Take the repository lock so a second process cannot use it (default true). */
  lock?: boolean
  /** Start before resolving (default true). */
  start?: boolean
  /** WAN (docs/WAN.md): serve as a circuit relay for other peers, with these limits ({} for the defaults). */
  relayService?: NetworkInit['relayService']
  /** WAN: relays to reserve a slot on (`/ip4/…/tcp/…/p2p/ID`); also dialled and redialled like `bootstrap`. */
  relays?: string[]
  /** WAN: addresses to advertise besides the listen addresses (e.g. a router's forwarded port). */
  announce?: string[]
}

export interface PeerInfo {
  /** Peer id (base58). */
  id: string
  /** Nickname the peer announced, if known. */
  name?: string
  /** Addresses of its open connections, or known addresses when disconnected. */
  addrs: string[]
  connected: boolean
  /** How it is connected: `direct`, or only `relayed` through a circuit relay. Absent when disconnected. */
  via?: 'direct' | 'relayed'
}

export interface SwarmNodeEvents {
  'peer:connect': { id: string }
  'peer:disconnect': { id: string }
  /** A peer's nickname became known or changed. */
  'peer:name': { id: string, name: string }
  /** Forwarded from the swarm protocol (see src/pubsub). */
  'file:announced': SwarmProtocolEvents['file:announced']
  'file:withdrawn': SwarmProtocolEvents['file:withdrawn']
  'provider:added': SwarmProtocolEvents['provider:added']
  'provider:removed': SwarmProtocolEvents['provider:removed']
  /** WAN: a relay closed a relayed connection at its limit; `message` names the limit. */
  'relay:limit': { peer: string, relay: string, message: string }
}

export type MessageHandler = (msg: TopicMessage) => void

const AGENT_PREFIX = 'swarmdrop/'

export function agentString (name: string): string {
  return `${AGENT_PREFIX}${VERSION} name=${encodeURIComponent(name)}`
}

export function nameFromAgent (agent: string | undefined): string | undefined {
  if (agent == null || !agent.startsWith(AGENT_PREFIX)) return undefined
  const m = / name=([^ ]*)/.exec(agent)
  if (m?.[1] == null) return undefined
  try {
    return truncateName(decodeURIComponent(m[1]))
  } catch {
    return undefined
  }
}

export function truncateName (name: string): string {
  const bytes = Buffer.from(name, 'utf8')
  if (bytes.byteLength <= MAX_NAME_BYTES) return name
  // cut on a character boundary
  let out = ''
  for (const ch of name) {
    if (Buffer.byteLength(out + ch, 'utf8') > MAX_NAME_BYTES) break
    out += ch
  }
  return out
}

export class SwarmNode extends TypedEventEmitter<SwarmNodeEvents> {
  readonly repo: string
  readonly name: string
  readonly swarm: string
  readonly topics: SwarmTopics
  readonly network: Network & { start: () => Promise<void>, stop: () => Promise<void> }
  /** Announcements, requests and the catalog of the swarm. */
  readonly protocol: SwarmProtocol
  /** The content-addressed store, `<repo>/store`; closed by stop(). */
  readonly store: Store
  /** Serves the store's blocks to peers and fetches files from them. */
  readonly transfer: Transfer
  private readonly log = createLogger('node')
  private readonly bootstrap: BootstrapDialer
  private readonly mdnsEnabled: boolean
  private readonly lock: boolean
  private started = false
  private releaseLock?: () => Promise<void>
  private readonly names = new Map<string, string>()
  private readonly seen = new Set<string>()
  private readonly dialing = new Set<string>()
  private readonly dialFailures = new Map<string, { attempts: number, retryAt: number }>()
  private readonly firstSeen = new Map<string, number>()
  private readonly handlers = new Map<string, Set<MessageHandler>>()

  constructor (init: Required<Pick<SwarmNodeInit, 'repo' | 'name' | 'swarm'>> & SwarmNodeInit, network: SwarmNode['network'], store: Store) {
    super()
    this.store = store
    this.repo = init.repo
    this.name = init.name
    this.swarm = init.swarm
    this.topics = swarmTopics(init.swarm)
    this.network = network
    this.mdnsEnabled = init.mdns ?? true
    this.lock = init.lock ?? true
    this.bootstrap = new BootstrapDialer(network, [...new Set([...init.bootstrap ?? [], ...init.relays ?? []])])
    this.protocol = createSwarmProtocol({
      ...init.pubsub,
      network,
      swarm: init.swarm,
      name: init.name,
      localFiles: async () => await this.localFiles()
    })
    this.transfer = createTransfer({ ...init.transfer, network, store })
    for (const type of ['file:announced', 'file:withdrawn', 'provider:added', 'provider:removed'] as const) {
      this.protocol.addEventListener(type, (evt: CustomEvent) => { this.safeDispatchEvent(type, evt.detail) })
    }

    network.addEventListener('peer:connect', (evt) => {
      this.seen.add(evt.detail.peer)
      this.safeDispatchEvent('peer:connect', { id: evt.detail.peer })
    })
    network.addEventListener('relay:limit', (evt) => { this.safeDispatchEvent('relay:limit', evt.detail) })
    network.addEventListener('peer:disconnect', (evt) => {
      this.safeDispatchEvent('peer:disconnect', { id: evt.detail.peer })
    })
    network.addEventListener('peer:identify', (evt) => {
      const name = nameFromAgent(evt.detail.agent)
      if (name != null && this.names.get(evt.detail.peer) !== name) {
        this.names.set(evt.detail.peer, name)
        this.safeDispatchEvent('peer:name', { id: evt.detail.peer, name })
      }
    })
    network.addEventListener('peer:discovery', (evt) => {
      if (this.mdnsEnabled) void this.dialDiscovered(evt.detail.peer)
    })
    network.addEventListener('message', (evt) => {
      const handlers = this.handlers.get(evt.detail.topic)
      if (handlers == null || isReservedTopic(evt.detail.topic)) return
      for (const h of handlers) {
        try {
          h(evt.detail)
        } catch (err) {
          this.log.error('handler for topic %s threw %e', evt.detail.topic, err)
        }
      }
    })
  }

  get peerId (): string {
    return this.network.peerId
  }

  isStarted (): boolean {
    return this.started
  }

  async start (): Promise<void> {
    if (this.started) return
    if (this.lock) this.releaseLock = await lockRepo(this.repo)
    try {
      await this.network.start()
    } catch (err) {
      await this.releaseLock?.()
      throw err
    }
    this.started = true
    await this.protocol.start()
    await this.transfer.start()
    this.bootstrap.start()
    this.log('started %s (%s) in swarm %s on %s', this.peerId, this.name, this.swarm, this.getMultiaddrs().join(', '))
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    this.bootstrap.stop()
    await this.transfer.stop()
    await this.protocol.stop()
    await this.network.stop()
    await this.store.close()
    await this.releaseLock?.()
    this.releaseLock = undefined
    this.log('stopped %s', this.peerId)
  }

  /** What this node holds, for the protocol: the store's files. */
  private async localFiles (): Promise<LocalFile[]> {
    return (await this.store.list()).map(r => ({ cid: r.cid, name: r.name, size: r.size, mediaType: r.mediaType, encrypted: r.encrypted === true, complete: r.complete }))
  }

  /** Imports a file (path, bytes or stream) into the store, pinned, and announces it to the swarm. */
  async share (input: ImportInput, options: ShareOptions = {}): Promise<FileRecord> {
    if (!this.started) throw new NotStartedError()
    return shareFile({ store: this.store, protocol: this.protocol, transfer: this.transfer, log: this.log }, input, options)
  }

  /**
   * Fetches a file from the swarm into the store (see src/transfer): providers from the catalog
   * and a `want`, partial `have` while downloading, announced once complete. Resumes what an
   * earlier fetch left. Write it out with `store.export(cid, path)`.
   */
  async fetch (cid: string, options: NodeFetchOptions = {}): Promise<FetchResult> {
    if (!this.started) throw new NotStartedError()
    return fetchFile({ store: this.store, protocol: this.protocol, transfer: this.transfer, log: this.log }, cid, options)
  }

  /** Listen addresses, each ending in /p2p/<peer id>, ready to dial. */
  getMultiaddrs (): string[] {
    return this.network.getMultiaddrs()
  }

  /** Dials a multiaddr or peer id once (no redial); resolves with the peer id. */
  async dial (target: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    if (!this.started) throw new NotStartedError()
    return this.network.dial(target, options)
  }

  /** Peers met since start: connected ones first. */
  async peers (): Promise<PeerInfo[]> {
    const open = new Map<string, string[]>()
    const direct = new Set<string>()
    for (const c of this.network.connections()) {
      const addrs = open.get(c.peer) ?? []
      addrs.push(c.addr)
      open.set(c.peer, addrs)
      if (!c.relayed) direct.add(c.peer)
    }
    const out: PeerInfo[] = []
    for (const id of new Set([...open.keys(), ...this.seen])) {
      const connected = open.has(id)
      const info: PeerInfo = { id, addrs: connected ? open.get(id) ?? [] : await this.network.peerAddrs(id), connected }
      const name = this.names.get(id)
      if (name != null) info.name = name
      if (connected) info.via = direct.has(id) ? 'direct' : 'relayed'
      out.push(info)
    }
    return out.sort((a, b) => Number(b.connected) - Number(a.connected))
  }

  /** Nickname of a peer, if it told us. */
  peerName (id: string): string | undefined {
    return this.names.get(id)
  }

  /** Publishes bytes on a user topic; resolves with how many peers it was sent to. */
  async publish (topic: string, data: Uint8Array): Promise<number> {
    if (!this.started) throw new NotStartedError()
    assertUserTopic(topic)
    return (await this.network.publish(topic, data)).length
  }

  /** Subscribes to a user topic; returns the function that unsubscribes. */
  subscribe (topic: string, handler: MessageHandler): () => void {
    assertUserTopic(topic)
    let set = this.handlers.get(topic)
    if (set == null) {
      set = new Set()
      this.handlers.set(topic, set)
      this.network.subscribe(topic)
    }
    set.add(handler)
    return () => {
      const s = this.handlers.get(topic)
      if (s == null) return
      s.delete(handler)
      if (s.size === 0) {
        this.handlers.delete(topic)
        if (this.network.isStarted()) this.network.unsubscribe(topic)
      }
    }
  }

  /**
   * mDNS answers arrive every query interval; dial a discovered peer unless
   * connected or already dialing, backing off after failures.
   */
  private async dialDiscovered (peer: string): Promise<void> {
    if (!this.started || this.dialing.has(peer) || this.network.connections().some(c => c.peer === peer)) return
    const failed = this.dialFailures.get(peer)
    if (failed != null && Date.now() < failed.retryAt) return
    // both sides hear each other's answers at once; two crossing dials can both fail, so the
    // higher peer id leaves the first dial to the lower one and only steps in if it did not come
    const first = this.firstSeen.get(peer) ?? Date.now()
    this.firstSeen.set(peer, first)
    if (this.peerId > peer && Date.now() - first < MDNS_YIELD_MS) return
    this.dialing.add(peer)
    try {
      await this.network.dial(peer)
      this.dialFailures.delete(peer)
      this.log('dialled mDNS peer %s', peer)
    } catch (err) {
      const attempts = (failed?.attempts ?? 0) + 1
      this.dialFailures.set(peer, { attempts, retryAt: Date.now() + Math.min(REDIAL_MAX_MS, REDIAL_MIN_MS * 2 ** attempts) })
      this.log('dial to mDNS peer %s failed (attempt %d): %e', peer, attempts, err)
    } finally {
      this.dialing.delete(peer)
    }
  }
}

export class ReservedTopicError extends Error {
  static override name = 'ReservedTopicError'
  readonly topic: string

  constructor (topic: string) {
    super(`topic "${topic}" is reserved for swarmdrop itself; pick a topic that does not start with /swarmdrop/`)
    this.name = 'ReservedTopicError'
    this.topic = topic
  }
}

function assertUserTopic (topic: string): void {
  if (isReservedTopic(topic)) throw new ReservedTopicError(topic)
}

/** Creates a node and (unless `start: false`) starts it. */
export async function createSwarmNode (init: SwarmNodeInit): Promise<SwarmNode> {
  const repo = resolve(init.repo)
  const swarm = validateSwarmName(init.swarm ?? DEFAULT_SWARM)
  const name = truncateName(init.name ?? hostname())
  const listen = init.listen ?? DEFAULT_LISTEN
  for (const a of [...listen, ...(init.bootstrap ?? []), ...(init.relays ?? []), ...(init.announce ?? [])]) parseMultiaddr(a)
  await ensureRepo(repo)
  const privateKey = await loadOrCreateIdentity(repo)
  const swarmKey = init.swarmKey == null ? undefined : parseSwarmKey(init.swarmKey)
  const topics = swarmTopics(swarm)
  const store = await createStore({ path: join(repo, 'store') })
  let node: SwarmNode
  try {
    const network = await createNetwork({
      privateKey,
      listen,
      mdns: init.mdns ?? true,
      mdnsInterval: init.mdnsInterval,
      agent: agentString(name),
      swarmKey,
      scoredTopics: [topics.announce, topics.request],
      gossipsub: init.gossipsub,
      relayService: init.relayService,
      relays: init.relays,
      announce: init.announce
    })
    node = new SwarmNode({ ...init, repo, swarm, name }, network, store)
    if (init.start !== false) await node.start()
  } catch (err) {
    // nothing stays open when a node cannot be built or started
    await store.close().catch(() => {})
    throw err
  }
  return node
}
