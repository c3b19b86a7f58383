/**
 * SwarmNode: one process, one libp2p peer, one repository.
 *
 * It owns the lifecycle: repository lock, store, network, mDNS dialing, bootstrap redials,
 * and the swarmdrop components built on the network (started in order, stopped in
 * reverse). After stop() nothing is left open, and start() starts it again: the store it
 * opened is reopened (a store handed in as a component is the caller's to close).
 * What a node does with files lives in commands/<verb>.ts; the class hands off to them.
 */
import { TypedEventEmitter, ownSignal } from '../util/events.js'
import { isReservedTopic, swarmTopics, userTopic, type SwarmTopics } from '../pubsub/topics.js'
import { createStore, type Store } from '../storage/index.js'
import { createSwarmProtocol, type LocalFile, type SwarmProtocol, type SwarmProtocolEvents, type SwarmProtocolOptions } from '../pubsub/index.js'
import { createTransfer, type BlockStore, type FetchResult, type Transfer, type TransferInit } from '../transfer/index.js'
import type { ImportInput } from '../storage/index.js'
import { BootstrapDialer } from './bootstrap.js'
import { MdnsDialer } from './mdns-dialer.js'
import { PeerBook } from './peer-book.js'
import { NotStartedError } from '../util/errors.js'
import type { ComponentLogger, Logger } from '../util/logger.js'
import { rememberListenPort, type GossipsubOptions, type Network, type NetworkInit, type TopicMessage } from '../net/index.js'
import { lockRepo } from './repo.js'
import { ReservedTopicError } from './errors.js'
import { Replicator, type ReplicationEvents } from './replicator.js'
import { describeServed, type FileServedEvent } from './served.js'
import type { CommandContext } from './commands/context.js'
import { fetch, type NodeFetchOptions } from './commands/fetch.js'
import { get, type FetchedFile, type GetOptions } from './commands/get.js'
import { filesStatus, ls, providersOf, type FileProvider, type FilesStatus, type ListedFile } from './commands/ls.js'
import { share, type SharedFile, type ShareOptions } from './commands/share.js'
import { waitForPeers, type WaitForPeersOptions } from './commands/wait-for-peers.js'

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
  transfer?: Omit<TransferInit, 'network' | 'store' | 'logger'>
  /** Fetch and pin every file another peer announces (default false); see the `replicate:*` events. */
  replicate?: boolean
  /** With `replicate`: most bytes the store may hold; a file that would take it over is not replicated (default: no limit). */
  maxStoreBytes?: number
  /** Put into every log namespace, `swarmdrop:<prefix>:<component>`, to tell nodes of one process apart (default none). */
  logPrefix?: string
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
  /**
   * Listen on the same port every start (default false; `swarmdrop start` sets it): port 0 in
   * `listen` becomes the port remembered in `<repo>/listen-port` (written at the first start),
   * or a random one when that port is taken (`listenNote` says so).
   */
  stablePort?: boolean
  /** Learn peers' peers of this swarm and dial them (default true; local swarms of tests turn it off). */
  peerExchange?: boolean
  /** Peers that left still listed by `peers` (default MAX_GONE_PEERS; tests lower it). */
  maxGonePeers?: number
}

/** The parts a node is built from; createSwarmNode() makes those not handed in. */
export interface SwarmNodeComponents {
  /** The peer-to-peer network (default: libp2p on the repository's identity). Started and stopped by the node. */
  network: NodeNetwork
  /** The content store (default `<repo>/store`, opened and closed by the node). One handed in is never closed by the node. */
  store: Store
  /** Loggers (default `createComponentLogger(init.logPrefix)`). */
  logger: ComponentLogger
}

export type NodeNetwork = Network & { start: () => Promise<void>, stop: () => Promise<void> }

/** A loopback multiaddr: reachable only from the host it names. */
const LOOPBACK = /^\/(ip4\/127\.|ip6\/::1\/)/

/**
 * A peer's listening addresses that this node could dial: its loopback ones only when it runs on
 * this host (a connection to it over loopback), or when it told no other. A peer on the LAN lists
 * `/ip4/127.0.0.1/…` among its addresses (it listens on every interface), which only it can dial.
 */
export function dialableAddrs (listening: readonly string[], connections: readonly string[]): string[] {
  if (connections.some(a => LOOPBACK.test(a))) return [...listening]
  const outside = listening.filter(a => !LOOPBACK.test(a))
  return outside.length > 0 ? outside : [...listening]
}

export interface PeerInfo {
  /** Peer id (base58). */
  id: string
  /** Nickname the peer announced, if known. */
  name?: string
  /**
   * Its listening addresses (what identify told, from the peer store), ready to dial; the open
   * connection's address only when none is known.
   */
  addrs: string[]
  /** Remote addresses of the open connections (an inbound one ends in an ephemeral port). */
  connections?: string[]
  connected: boolean
  /**
   * A member of this node's swarm (subscribed to its topics or named by its Hello); false for a
   * peer connected at the libp2p level that belongs to another (named) swarm.
   */
  member: boolean
  /** How it is connected: `direct`, or only `relayed` through a circuit relay. Absent when disconnected. */
  via?: 'direct' | 'relayed'
}

export interface SwarmNodeEvents extends ReplicationEvents {
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
  /** A peer's download stream from this node ended: who, which file (when known), how many bytes. */
  'file:served': FileServedEvent
  /** A connection failed because the other side uses a different swarm key (or none); once per address. */
  'swarm-key:mismatch': { direction: 'inbound' | 'outbound', addr: string, message: string }
}

export type MessageHandler = (msg: TopicMessage) => void

export interface UserTopicOptions {
  /** Use the topic name as given, shared with every swarm, instead of scoping it to this node's swarm. */
  global?: boolean
}

/** What the constructor needs once createSwarmNode() resolved the defaults. */
export type ResolvedInit = SwarmNodeInit & { repo: string, name: string, swarm: string }

export class SwarmNode extends TypedEventEmitter<SwarmNodeEvents> {
  readonly repo: string
  readonly name: string
  readonly swarm: string
  readonly topics: SwarmTopics
  readonly network: NodeNetwork
  /** Announcements, requests and the catalog of the swarm. */
  readonly protocol: SwarmProtocol
  /** Serves the store's blocks to peers and fetches files from them. */
  readonly transfer: Transfer
  readonly logger: ComponentLogger
  /** Set when the remembered listening port was taken and the node listens on a random one: the line to show. */
  listenNote?: string
  private readonly stablePort: boolean
  private currentStore: Store
  private readonly ownStore: boolean
  private readonly log: Logger
  private readonly bootstrap: BootstrapDialer
  private readonly mdnsDialer: MdnsDialer
  private readonly replicator?: Replicator
  private readonly mdnsEnabled: boolean
  private readonly lock: boolean
  private started = false
  private storeClosed = false
  private releaseLock?: () => Promise<void>
  private readonly book: PeerBook
  private unwatchReferences?: () => void
  private readonly handlers = new Map<string, Set<MessageHandler>>()

  /** Use createSwarmNode(); `ownStore` says whether stop() closes the store (and start() reopens it). */
  constructor (init: ResolvedInit, components: SwarmNodeComponents, ownStore: boolean) {
    super()
    const { network, logger } = components
    this.currentStore = components.store
    this.ownStore = ownStore
    this.logger = logger
    this.log = logger.forComponent('node')
    this.repo = init.repo
    this.book = new PeerBook(init.maxGonePeers)
    this.name = init.name
    this.swarm = init.swarm
    this.topics = swarmTopics(init.swarm)
    this.network = network
    this.mdnsEnabled = init.mdns ?? true
    this.lock = init.lock ?? true
    this.stablePort = init.stablePort === true
    this.bootstrap = new BootstrapDialer(network, [...new Set([...init.bootstrap ?? [], ...init.relays ?? []])], logger.forComponent('bootstrap'))
    this.mdnsDialer = new MdnsDialer(network, () => this.started, logger.forComponent('mdns'))
    this.protocol = createSwarmProtocol({
      ...init.pubsub,
      logger,
      network,
      swarm: init.swarm,
      name: init.name,
      localFiles: async () => await this.localFiles()
    })
    // the transfer sees whichever store is open now (start() after stop() opens a new one)
    const blocks: BlockStore = {
      has: async (cid) => this.currentStore.has(cid),
      getBlock: async (cid, options) => this.currentStore.getBlock(cid, options),
      putBlock: async (cid, bytes, options) => { await this.currentStore.putBlock(cid, bytes, options) },
      verifiedHere: (cid, length) => this.currentStore.verifiedHere(cid, length)
    }
    this.transfer = createTransfer({
      ...init.transfer,
      network,
      store: blocks,
      logger: logger.forComponent('transfer'),
      // errors name a provider by its nickname: "alice (12D3Ko…ZB8D) stopped answering"
      peerName: (peer) => this.book.name(peer),
      onServed: (info) => {
        init.transfer?.onServed?.(info)
        void describeServed(info, this.currentStore, this.protocol).then((e) => { this.safeDispatchEvent('file:served', e) })
      }
    })
    if (init.replicate === true) {
      this.replicator = new Replicator({
        peerId: () => this.peerId,
        store: () => this.currentStore,
        protocol: this.protocol,
        fetch: async (cid, options) => this.fetch(cid, options),
        emit: (type, detail) => { this.safeDispatchEvent(type, detail as SwarmNodeEvents[typeof type]) },
        log: logger.forComponent('replicate'),
        onPeerConnect: (listener) => {
          const onConnect = (evt: CustomEvent<{ peer: string }>): void => { listener(evt.detail.peer) }
          network.addEventListener('peer:connect', onConnect)
          return () => { network.removeEventListener('peer:connect', onConnect) }
        },
        ...(init.maxStoreBytes != null ? { maxStoreBytes: init.maxStoreBytes } : {})
      })
    }
    for (const type of ['file:announced', 'file:withdrawn', 'provider:added', 'provider:removed'] as const) {
      this.protocol.addEventListener(type, (evt: CustomEvent) => { this.safeDispatchEvent(type, evt.detail) })
    }
    this.listen(network)
  }

  private listen (network: NodeNetwork): void {
    network.addEventListener('peer:connect', (evt) => {
      this.book.connect(evt.detail.peer)
      this.safeDispatchEvent('peer:connect', { id: evt.detail.peer })
    })
    network.addEventListener('relay:limit', (evt) => { this.safeDispatchEvent('relay:limit', evt.detail) })
    network.addEventListener('swarm-key:mismatch', (evt) => {
      this.log.error('%s', evt.detail.message)
      this.safeDispatchEvent('swarm-key:mismatch', evt.detail)
    })
    network.addEventListener('peer:disconnect', (evt) => {
      // libp2p's peer store would keep a record of every identity ever connected (issue 18,
      // identity churn): a leaver's goes when the book forgets it, so `peers` still shows the
      // addresses of those it lists
      for (const forgotten of this.book.disconnect(evt.detail.peer)) void network.forgetPeer(forgotten)
      this.safeDispatchEvent('peer:disconnect', { id: evt.detail.peer })
    })
    // peers are named by their Hello (docs/PROTOCOL.md §5, "Names"), the one mechanism: not by identify's agent string
    this.protocol.addEventListener('peer:hello', (evt) => {
      const { peer, name } = evt.detail
      if (this.book.setName(peer, name)) {
        this.safeDispatchEvent('peer:name', { id: peer, name })
      }
    })
    network.addEventListener('peer:discovery', (evt) => {
      if (this.mdnsEnabled) void this.mdnsDialer.dial(evt.detail.peer)
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

  /** The content-addressed store (`<repo>/store` unless one was handed in); closed by stop(), reopened by start(). */
  get store (): Store {
    return this.currentStore
  }

  isStarted (): boolean {
    return this.started
  }

  /** Starts the node; after stop() it starts again on the same repository (the store is reopened). */
  async start (): Promise<void> {
    if (this.started) return
    if (this.lock) this.releaseLock = await lockRepo(this.repo)
    try {
      if (this.ownStore && this.storeClosed) {
        this.currentStore = await createStore({ path: this.currentStore.path }, { logger: this.logger })
        this.storeClosed = false
      }
      await this.network.start()
    } catch (err) {
      // a failed start leaves nothing open; start() may be called again
      if (this.ownStore && !this.storeClosed) {
        await this.currentStore.close().catch(() => {})
        this.storeClosed = true
      }
      await this.releaseLock?.()
      this.releaseLock = undefined
      throw err
    }
    this.started = true
    if (this.stablePort) {
      await rememberListenPort(this.repo, this.getMultiaddrs()).catch((err) => { this.log.error('cannot remember the listening port in %s: %e', this.repo, err) })
    }
    // user topics subscribed before a stop() are subscribed again
    for (const topic of this.handlers.keys()) this.network.subscribe(topic)
    await this.protocol.start()
    // a shared file that changed or vanished: withdrawn at once, so nobody waits on blocks it no longer serves
    this.unwatchReferences = this.currentStore.onReferenceBroken((e) => {
      this.log.error('withdrawing %s: %s %s', e.cid, e.path, e.state === 'missing' ? 'is gone' : 'changed')
      this.protocol.withdraw(e.cid).catch((err) => { this.log.error('withdrawing %s failed: %e', e.cid, err) })
    })
    await this.transfer.start()
    this.bootstrap.start()
    this.replicator?.start()
    this.log('started %s (%s) in swarm %s on %s', this.peerId, this.name, this.swarm, this.getMultiaddrs().join(', '))
  }

  /** Stops everything it started and closes the store it opened; start() starts it again. */
  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.replicator?.stop()
    this.bootstrap.stop()
    this.unwatchReferences?.()
    this.unwatchReferences = undefined
    await this.transfer.stop()
    await this.protocol.stop()
    await this.network.stop()
    if (this.ownStore) {
      await this.currentStore.close()
      this.storeClosed = true
    }
    await this.releaseLock?.()
    this.releaseLock = undefined
    this.log('stopped %s', this.peerId)
  }

  /** The parts the commands work with. */
  private get context (): CommandContext {
    if (!this.started) throw new NotStartedError()
    return { store: this.currentStore, protocol: this.protocol, transfer: this.transfer, network: this.network, topics: this.topics, log: this.log }
  }

  /** What this node holds, for the protocol: the store's files. */
  private async localFiles (): Promise<LocalFile[]> {
    // a file kept by reference that changed or vanished is not served, so not announced either;
    // nor is a download that has no block yet (fetch() says `have` itself when the swarm knows
    // the file, so that a failed want for a CID nobody has leaves no listing anywhere)
    return (await this.currentStore.list())
      .filter(r => r.reference == null || r.reference.state === 'ok')
      .filter(r => r.complete || r.blocks.present > 0)
      .map(r => ({ cid: r.cid, name: r.name, size: r.size, mediaType: r.mediaType, encrypted: r.encrypted === true, complete: r.complete, ...(r.files != null ? { files: r.files } : {}) }))
  }

  /**
   * Imports a file (path, bytes or stream) into the store, pinned, and announces it. With
   * `encrypt: true` (a path or bytes) the swarm sees only ciphertext; the result's `link`
   * fetches and decrypts it.
   */
  async share (input: ImportInput, options: ShareOptions = {}): Promise<SharedFile> {
    return share(this.context, input, ownSignal(options))
  }

  /**
   * Fetches a file from the swarm into the store (see src/transfer): providers from the catalog
   * and a `want`, partial `have` while downloading, announced once complete. Resumes what an
   * earlier fetch left. get() also writes it out.
   */
  async fetch (cid: string, options: NodeFetchOptions = {}): Promise<FetchResult> {
    return fetch(this.context, cid, ownSignal(options))
  }

  /** Fetches a file by CID or capability link and writes it to `output` (decrypted for a link). */
  async get (target: string, options: GetOptions = {}): Promise<FetchedFile> {
    return get(this.context, target, ownSignal(options))
  }

  /** Resolves with the swarm's peers once `count` (default 1) are here; NoPeersError at the timeout. */
  async waitForPeers (options: WaitForPeersOptions = {}): Promise<string[]> {
    return waitForPeers(this.context, ownSignal(options))
  }

  /** Files the swarm's catalog names and this node holds, once each. */
  async ls (): Promise<ListedFile[]> {
    return ls(this.context)
  }

  /** Who provides `cid`, with their nicknames: this node when it holds the file, connected peers first, partial holders marked. */
  async providers (cid: string): Promise<FileProvider[]> {
    return providersOf(this.context, cid, (peer) => this.book.name(peer))
  }

  /** How many files are listed, how many are here, and the store's counts. */
  async filesStatus (): Promise<FilesStatus> {
    return filesStatus(this.context)
  }

  /** Listen addresses, each ending in /p2p/<peer id>, ready to dial. */
  getMultiaddrs (): string[] {
    return this.network.getMultiaddrs()
  }

  /** Dials a multiaddr or peer id once (no redial); resolves with the peer id. */
  async dial (target: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    if (!this.started) throw new NotStartedError()
    return this.network.dial(target, ownSignal(options))
  }

  /**
   * Forgets a peer gone for good (a peer id or its address): it is no longer dialled again as a
   * bootstrap peer or relay, and a connection to it is closed. It may still dial this node, or
   * be found again by mDNS. Returns whether it was one of the peers this node redials.
   */
  async forget (peer: string): Promise<boolean> {
    const redialled = this.bootstrap.forget(peer)
    const id = peer.split('/p2p/').pop() ?? peer
    if (this.started && this.network.connections().some(c => c.peer === id)) {
      await this.network.hangUp(id).catch((err) => { this.log('hanging up on %s failed: %e', id, err) })
    }
    return redialled
  }

  /** Peers met since start: members of the swarm first, connected ones first within each. */
  async peers (): Promise<PeerInfo[]> {
    const open = new Map<string, string[]>()
    const direct = new Set<string>()
    for (const c of this.network.connections()) {
      const addrs = open.get(c.peer) ?? []
      addrs.push(c.addr)
      open.set(c.peer, addrs)
      if (!c.relayed) direct.add(c.peer)
    }
    const subscribers = new Set([...this.network.getSubscribers(this.topics.announce), ...this.network.getSubscribers(this.topics.request)])
    const out: PeerInfo[] = []
    for (const id of new Set([...open.keys(), ...this.book.peers()])) {
      const connected = open.has(id)
      const listening = dialableAddrs(await this.network.peerAddrs(id), open.get(id) ?? [])
      const info: PeerInfo = { id, addrs: listening.length > 0 ? listening : open.get(id) ?? [], connected, member: subscribers.has(id) || this.book.name(id) != null }
      if (connected) info.connections = open.get(id) ?? []
      const name = this.book.name(id)
      if (name != null) info.name = name
      if (connected) info.via = direct.has(id) ? 'direct' : 'relayed'
      out.push(info)
    }
    return out.sort((a, b) => Number(b.member) - Number(a.member) || Number(b.connected) - Number(a.connected))
  }

  /** Nickname of a peer, if it told us. */
  peerName (id: string): string | undefined {
    return this.book.name(id)
  }

  /**
   * Publishes bytes on a user topic; resolves with how many peers it was sent to. The topic is
   * scoped to this node's swarm (`/swarmdrop-topic/1/<swarm>/<topic>`) unless `global`.
   */
  async publish (topic: string, data: Uint8Array, options: UserTopicOptions = {}): Promise<number> {
    if (!this.started) throw new NotStartedError()
    assertUserTopic(topic)
    return (await this.network.publish(userTopic(this.swarm, topic, options.global === true), data)).length
  }

  /**
   * Subscribes to a user topic (scoped to this node's swarm unless `global`); returns the
   * function that unsubscribes. Handlers see `msg.topic` as given here, not the wire name.
   */
  subscribe (topic: string, handler: MessageHandler, options: UserTopicOptions = {}): () => void {
    assertUserTopic(topic)
    const wire = userTopic(this.swarm, topic, options.global === true)
    const wrapped: MessageHandler = (msg) => { handler({ ...msg, topic }) }
    let set = this.handlers.get(wire)
    if (set == null) {
      set = new Set()
      this.handlers.set(wire, set)
      this.network.subscribe(wire)
    }
    set.add(wrapped)
    return () => {
      const s = this.handlers.get(wire)
      if (s == null) return
      s.delete(wrapped)
      if (s.size === 0) {
        this.handlers.delete(wire)
        if (this.network.isStarted()) this.network.unsubscribe(wire)
      }
    }
  }
}

function assertUserTopic (topic: string): void {
  if (isReservedTopic(topic)) throw new ReservedTopicError(topic)
}
