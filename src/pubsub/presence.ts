/**
 * Presence: the Hello message, which is how peers learn each other's
 * nicknames (docs/PROTOCOL.md §5, "Names"). A node publishes its Hello
 * - when it joins (protocol.ts join()), and with every re-announce of its files;
 * - soon after a peer subscribes to the announce topic (a new neighbour), and
 * - soon after it hears the first Hello of a signer it did not know, even when its own
 *   last Hello is younger than HELLO_MIN_INTERVAL_MS: that peer may not have heard it (gossipsub
 *   drops a message for a subscriber it has no outbound stream to yet, as when two nodes meet
 *   and publish at once), and it says Hello only once.
 * Triggers are coalesced: at most one Hello per HELLO_MIN_INTERVAL_MS, whatever
 * their number, so a flood of subscriptions or Hellos costs one message a second.
 */
import { MAX_HELLO_PEERS, HELLO_MIN_INTERVAL_MS } from './constants.js'
import type { ProtocolContext } from './context.js'
import { jitter } from './context.js'
import { setNewest } from '../util/newest-map.js'

export class Presence {
  private readonly ctx: ProtocolContext
  private readonly name: string
  private lastHelloAt = -Infinity
  private pending?: ReturnType<typeof setTimeout>
  /** Nicknames heard, by signer; the least recently heard dropped first past MAX_HELLO_PEERS. */
  private readonly heard = new Map<string, string>()

  constructor (ctx: ProtocolContext, name: string) {
    this.ctx = ctx
    this.name = name
  }

  /** Publishes this node's Hello now; it covers every trigger scheduled before. */
  async hello (): Promise<void> {
    this.ctx.clearTimer(this.pending)
    this.pending = undefined
    this.lastHelloAt = Date.now()
    await this.ctx.publish({ type: 'hello', name: this.name })
  }

  /** A peer subscribed to the announce topic: it has not heard our Hello yet. */
  onSubscribed (): void {
    this.schedule()
  }

  /** A Hello from `from`: tells the node its name, and answers a stranger with ours. */
  onHello (from: string, name: string): void {
    const known = this.heard.get(from)
    setNewest(this.heard, from, name, MAX_HELLO_PEERS)
    if (known !== name) this.ctx.dispatch('peer:hello', { peer: from, name })
    // schedule() keeps to one Hello per HELLO_MIN_INTERVAL_MS
    if (known == null) this.schedule()
  }

  stop (): void {
    this.ctx.clearTimer(this.pending)
    this.pending = undefined
  }

  private schedule (): void {
    if (this.pending != null || !this.ctx.started) return
    const delay = Math.max(this.ctx.timing.joinDelay + jitter(this.ctx.timing.joinDelay), this.lastHelloAt + HELLO_MIN_INTERVAL_MS - Date.now())
    this.pending = this.ctx.setTimer(() => {
      this.pending = undefined
      this.ctx.background('sending hello', this.hello())
    }, delay)
  }
}
