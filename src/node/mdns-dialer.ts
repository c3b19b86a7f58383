/**
 * The dialing policy for peers found by mDNS: dial each once it is heard of, unless
 * connected or already dialing; back off after failures; of two nodes that hear each other
 * at once, the higher peer id leaves the first dial to the lower one.
 */
import type { Network } from '../net/index.js'
import type { Logger } from '../util/logger.js'
import { MDNS_YIELD_MS, REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.js'

export class MdnsDialer {
  private readonly network: Pick<Network, 'peerId' | 'dial' | 'connections'>
  private readonly running: () => boolean
  private readonly log: Logger
  private readonly dialing = new Set<string>()
  private readonly dialFailures = new Map<string, { attempts: number, retryAt: number }>()
  private readonly firstSeen = new Map<string, number>()

  constructor (network: MdnsDialer['network'], running: () => boolean, log: Logger) {
    this.network = network
    this.running = running
    this.log = log
  }

  /**
   * mDNS answers arrive every query interval; dial a discovered peer unless
   * connected or already dialing, backing off after failures.
   */
  async dial (peer: string): Promise<void> {
    if (!this.running() || this.dialing.has(peer)) return
    if (this.network.connections().some(c => c.peer === peer)) {
      // met: when it is heard again after a disconnect (a network that went away and came back),
      // that is a new meeting, where the higher peer id leaves the first dial to the lower one
      // again. Kept, the old sighting made both sides dial at once: two connections per pair
      this.firstSeen.delete(peer)
      return
    }
    const failed = this.dialFailures.get(peer)
    if (failed != null && Date.now() < failed.retryAt) return
    // both sides hear each other's answers at once; two crossing dials can both fail, so the
    // higher peer id leaves the first dial to the lower one and only steps in if it did not come
    const first = this.firstSeen.get(peer) ?? Date.now()
    this.firstSeen.set(peer, first)
    if (this.network.peerId > peer && Date.now() - first < MDNS_YIELD_MS) return
    this.dialing.add(peer)
    try {
      await this.network.dial(peer)
      this.dialFailures.delete(peer)
      this.firstSeen.delete(peer)
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
