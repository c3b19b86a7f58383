/**
 * Keeps the node connected to its bootstrap peers: dials each at start and
 * redials with exponential backoff (and jitter) whenever the connection is
 * lost or a dial fails, until stop().
 */
import { REDIAL_JITTER, REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.js'
import { createLogger, type Logger } from '../util/logger.js'
import type { Network } from '../net/index.js'

interface Target {
  addr: string
  peer?: string
  attempt: number
  timer?: ReturnType<typeof setTimeout>
  dialing: boolean
}

export class BootstrapDialer {
  private readonly network: Network
  private targets: Target[]
  private readonly log: Logger
  private running = false
  private readonly onDisconnect = (evt: CustomEvent<{ peer: string }>): void => {
    for (const t of this.targets) {
      if (t.peer === evt.detail.peer && !t.dialing && t.timer == null) {
        this.log('lost bootstrap peer %s, redialing', t.addr)
        this.schedule(t)
      }
    }
  }

  constructor (network: Network, addrs: string[], log: Logger = createLogger('bootstrap')) {
    this.network = network
    this.log = log
    this.targets = addrs.map(addr => ({ addr, attempt: 0, dialing: false }))
  }

  start (): void {
    this.running = true
    this.network.addEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.targets) void this.dial(t)
  }

  stop (): void {
    this.running = false
    this.network.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.targets) {
      clearTimeout(t.timer)
      t.timer = undefined
    }
  }

  /**
   * Stops dialling `peer` (a peer id, or an address ending in /p2p/<id>): a peer gone for good.
   * Returns whether it was a target.
   */
  forget (peer: string): boolean {
    const id = peer.split('/p2p/').pop()
    const gone = this.targets.filter(t => t.peer === id || t.addr === peer || t.addr.endsWith(`/p2p/${id ?? ''}`))
    for (const t of gone) clearTimeout(t.timer)
    this.targets = this.targets.filter(t => !gone.includes(t))
    return gone.length > 0
  }

  private schedule (t: Target): void {
    if (!this.running || !this.targets.includes(t)) return
    const base = Math.min(REDIAL_MAX_MS, REDIAL_MIN_MS * 2 ** t.attempt)
    const delay = Math.round(base * (1 - REDIAL_JITTER + Math.random() * 2 * REDIAL_JITTER))
    t.attempt++
    t.timer = setTimeout(() => {
      t.timer = undefined
      void this.dial(t)
    }, delay)
    t.timer.unref?.()
  }

  private async dial (t: Target): Promise<void> {
    if (!this.running || t.dialing) return
    t.dialing = true
    try {
      t.peer = await this.network.dial(t.addr)
      t.attempt = 0
      this.log('connected to bootstrap peer %s (%s)', t.addr, t.peer)
    } catch (err) {
      this.log('dial to bootstrap peer %s failed (attempt %d): %e', t.addr, t.attempt, err)
      t.dialing = false
      this.schedule(t)
      return
    }
    t.dialing = false
    // the connection may have dropped while we were dialing
    if (t.peer != null && !this.network.connections().some(c => c.peer === t.peer)) this.schedule(t)
  }
}
