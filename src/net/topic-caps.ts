/**
 * Topic caps gossipsub does not have (issue 13, "subscription flood": 1,000,000
 * topics subscribed by peers that then left held 186 MB, never released):
 * - a peer subscribed to more than MAX_TOPICS_PER_PEER topics at once is disconnected;
 * - topics nobody subscribes to any more are dropped from gossipsub's topic table,
 *   which otherwise keeps an empty entry for every topic it ever heard of.
 * The table is gossipsub's private `topics` map, reached into here because
 * gossipsub (14) offers no option or method for either.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from '../util/logger.js'
import { MAX_TOPICS_PER_PEER, TOPIC_PRUNE_MS } from './constants.js'

export class TopicCaps {
  private readonly libp2p: Libp2p<{ pubsub: unknown }>
  private readonly log: Logger
  /** Topics each connected peer subscribed to. */
  private readonly peerTopics = new Map<string, Set<string>>()
  private pruneTimer?: ReturnType<typeof setTimeout>

  constructor (libp2p: Libp2p<{ pubsub: unknown }>, log: Logger) {
    this.libp2p = libp2p
    this.log = log
  }

  onSubscriptions (peerId: PeerId, subscriptions: Array<{ topic: string, subscribe: boolean }>): void {
    const peer = peerId.toString()
    let topics = this.peerTopics.get(peer)
    if (topics == null) {
      topics = new Set()
      this.peerTopics.set(peer, topics)
    }
    let left = false
    for (const s of subscriptions) {
      if (s.subscribe) topics.add(s.topic)
      else left = topics.delete(s.topic) || left
    }
    if (left) this.schedulePrune()
    if (topics.size > MAX_TOPICS_PER_PEER) {
      this.log('%p subscribed to %d topics, more than %d: disconnecting it', peerId, topics.size, MAX_TOPICS_PER_PEER)
      this.peerTopics.delete(peer)
      void this.libp2p.hangUp(peerId).catch(err => { this.log('hanging up on %p failed: %e', peerId, err) })
    }
  }

  onDisconnect (peerId: PeerId): void {
    this.peerTopics.delete(peerId.toString())
    this.schedulePrune()
  }

  stop (): void {
    clearTimeout(this.pruneTimer)
    this.pruneTimer = undefined
    this.peerTopics.clear()
  }

  private schedulePrune (): void {
    if (this.pruneTimer != null) return
    this.pruneTimer = setTimeout(() => {
      this.pruneTimer = undefined
      const table = (this.libp2p.services.pubsub as { topics?: Map<string, Set<string>> }).topics
      if (table == null) return
      for (const [topic, peers] of table) if (peers.size === 0) table.delete(topic)
    }, TOPIC_PRUNE_MS)
    this.pruneTimer.unref?.()
  }
}
