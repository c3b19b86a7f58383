/**
 * Peer exchange: a node learns its peers' peers, so `--peer alice` also meets bob without mDNS.
 *
 * Protocol `/swarmdrop/peers/1.0.0` (docs/PROTOCOL.md, "Peer exchange"): after identify says a peer speaks it,
 * the node opens a stream and sends one length-prefixed JSON frame `{"topic": T}`, T being its
 * swarm's announce topic; the peer answers one frame `{"peers": [{"id", "addrs"}]}` listing the
 * peers it is connected to now that are subscribed to T (members of the asker's swarm, not those
 * of another swarm), with their listen addresses from its peer store (identify), never the
 * asker itself. The asker dials each one it is not connected to. Every connected peer is asked
 * again every PEER_EXCHANGE_INTERVAL_MS, so a member who arrived later is found too.
 *
 * Bounds: one frame each way of at most PEER_EXCHANGE_MAX_BYTES, at most PEER_EXCHANGE_MAX_PEERS
 * peers of at most PEER_EXCHANGE_MAX_ADDRS addresses each, relayed (`/p2p-circuit`) addresses left
 * out; one inbound stream per peer at a time; anything malformed closes the stream.
 */
import * as lp from 'it-length-prefixed'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { createLogger } from '../util/logger.js'
import { PEER_EXCHANGE_INTERVAL_MS, PEER_EXCHANGE_MAX_ADDRS, PEER_EXCHANGE_MAX_BYTES, PEER_EXCHANGE_MAX_PEERS, PEER_EXCHANGE_TIMEOUT_MS } from './constants.js'
import type { Services } from './config.js'

export const PEER_EXCHANGE_PROTOCOL = '/swarmdrop/peers/1.0.0'

export interface ExchangedPeer { id: string, addrs: string[] }

const log = createLogger('network:peer-exchange')
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class PeerExchange {
  private readonly libp2p: Libp2p<Services>
  private readonly topic: string
  private timer?: ReturnType<typeof setInterval>
  private readonly asking = new Set<string>()
  private readonly onIdentify = (evt: CustomEvent<{ peerId: PeerId, protocols: string[] }>): void => {
    if (evt.detail.protocols.includes(PEER_EXCHANGE_PROTOCOL)) void this.ask(evt.detail.peerId)
  }

  constructor (libp2p: Libp2p<Services>, topic: string) {
    this.libp2p = libp2p
    this.topic = topic
  }

  async start (): Promise<void> {
    await this.libp2p.handle(PEER_EXCHANGE_PROTOCOL, ({ stream, connection }) => {
      void this.answer(stream, connection.remotePeer).catch((err) => {
        log('answer to %p failed: %s', connection.remotePeer, err.message)
        stream.abort(err)
      })
    }, { maxInboundStreams: 1, maxOutboundStreams: 1 })
    this.libp2p.addEventListener('peer:identify', this.onIdentify)
    this.timer = setInterval(() => { this.askAll() }, PEER_EXCHANGE_INTERVAL_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.libp2p.removeEventListener('peer:identify', this.onIdentify)
    await this.libp2p.unhandle(PEER_EXCHANGE_PROTOCOL).catch(() => {})
  }

  private askAll (): void {
    const peers = new Map(this.libp2p.getConnections().filter(c => c.status === 'open' && c.limits == null).map(c => [c.remotePeer.toString(), c.remotePeer]))
    for (const peer of peers.values()) {
      void this.libp2p.peerStore.get(peer).then(p => {
        if (p.protocols.includes(PEER_EXCHANGE_PROTOCOL)) void this.ask(peer)
      }, () => {})
    }
  }

  /** Members of `topic` connected to this node now, with their listen addresses; never `except`. */
  async membersFor (topic: string, except: string): Promise<ExchangedPeer[]> {
    const subscribers = new Set(this.libp2p.services.pubsub.getSubscribers(topic).map(p => p.toString()))
    const out: ExchangedPeer[] = []
    const seen = new Set<string>()
    for (const c of this.libp2p.getConnections()) {
      const id = c.remotePeer.toString()
      if (id === except || seen.has(id) || !subscribers.has(id) || c.status !== 'open') continue
      seen.add(id)
      let addrs: string[] = []
      try {
        const p = await this.libp2p.peerStore.get(c.remotePeer)
        addrs = p.addresses.map(a => a.multiaddr.toString()).filter(a => !a.includes('/p2p-circuit'))
      } catch {}
      if (addrs.length === 0) continue
      out.push({ id, addrs: addrs.slice(0, PEER_EXCHANGE_MAX_ADDRS) })
      if (out.length >= PEER_EXCHANGE_MAX_PEERS) break
    }
    return out
  }

  private async answer (stream: any, remote: PeerId): Promise<void> {
    const signal = AbortSignal.timeout(PEER_EXCHANGE_TIMEOUT_MS)
    const request = await readOne(stream.source, signal)
    const topic = request?.topic
    if (typeof topic !== 'string' || topic.length > 256) throw new Error('malformed peer-exchange request')
    const peers = await this.membersFor(topic, remote.toString())
    await stream.sink(lp.encode([encoder.encode(JSON.stringify({ peers }))]))
    await stream.close().catch(() => {})
  }

  /** Asks one peer for its members and dials those this node is not connected to. */
  async ask (peer: PeerId): Promise<ExchangedPeer[]> {
    const key = peer.toString()
    if (this.asking.has(key)) return []
    this.asking.add(key)
    try {
      const signal = AbortSignal.timeout(PEER_EXCHANGE_TIMEOUT_MS)
      const stream = await this.libp2p.dialProtocol(peer, PEER_EXCHANGE_PROTOCOL, { signal })
      await stream.sink(lp.encode([encoder.encode(JSON.stringify({ topic: this.topic }))]))
      const answer = await readOne(stream.source, signal)
      await stream.close().catch(() => {})
      const peers = parsePeers(answer?.peers)
      for (const p of peers) void this.meet(p)
      return peers
    } catch (err: any) {
      log('asking %p for its peers failed: %s', peer, err.message)
      return []
    } finally {
      this.asking.delete(key)
    }
  }

  private async meet (p: ExchangedPeer): Promise<void> {
    if (p.id === this.libp2p.peerId.toString()) return
    const id = peerIdFromString(p.id)
    if (this.libp2p.getConnections(id).length > 0) return
    try {
      await this.libp2p.peerStore.merge(id, { multiaddrs: p.addrs.map(a => multiaddr(a)) })
      await this.libp2p.dial(id, { signal: AbortSignal.timeout(PEER_EXCHANGE_TIMEOUT_MS) })
      log('met %s through peer exchange', p.id)
    } catch (err: any) {
      log('dialling %s (heard of through peer exchange) failed: %s', p.id, err.message)
    }
  }
}

async function readOne (source: AsyncIterable<any>, signal: AbortSignal): Promise<any> {
  const frames = lp.decode(source, { maxDataLength: PEER_EXCHANGE_MAX_BYTES })[Symbol.asyncIterator]()
  const aborted = new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  })
  aborted.catch(() => {})
  const first = await Promise.race([frames.next(), aborted])
  await frames.return?.()
  return first.done === true ? undefined : JSON.parse(decoder.decode(first.value.subarray()))
}

/** The answer's peers, validated: ids that parse, addresses that parse, relayed ones dropped, capped. */
function parsePeers (value: unknown): ExchangedPeer[] {
  if (!Array.isArray(value)) return []
  const out: ExchangedPeer[] = []
  for (const item of value.slice(0, PEER_EXCHANGE_MAX_PEERS)) {
    if (item == null || typeof item.id !== 'string' || !Array.isArray(item.addrs)) continue
    try {
      peerIdFromString(item.id)
    } catch {
      continue
    }
    const addrs: string[] = []
    for (const a of item.addrs.slice(0, PEER_EXCHANGE_MAX_ADDRS)) {
      if (typeof a !== 'string' || a.includes('/p2p-circuit')) continue
      try {
        addrs.push(multiaddr(a).toString())
      } catch {}
    }
    if (addrs.length > 0) out.push({ id: item.id, addrs })
  }
  return out
}
