/**
 * Watches this host's own addresses, so that connections a lost or changed network left dead are
 * closed at once rather than when libp2p's connection monitor gives up on them.
 *
 * A laptop whose Wi-Fi drops, or that comes back with another address (another network, a new
 * DHCP lease), keeps its TCP connections open: nothing tells either side that packets no longer
 * get through. libp2p finds out at its connection monitor's next failed ping, 20–30 s later
 * (PING_TIMEOUT_MS: a ping queued behind megabytes of blocks on a busy machine must not kill a
 * healthy connection), and only then does mDNS's redial, which takes under a second, get its turn.
 * A download waiting on those connections races its own 30 s idle timeout meanwhile (a laptop
 * trial: 27–28 s without a block after an address change).
 *
 * `os.networkInterfaces()` lists the addresses of the interfaces that are up and running (libuv
 * leaves out the others), read every LINK_WATCH_MS: an address that leaves the list (link down,
 * carrier lost, address removed or replaced) makes every connection to a peer in its subnet dead
 * for certain, and those are closed (`onGone`), so the peers are dialled again at once on whatever
 * network there is. A second interface in the same subnet may lose a healthy connection that way:
 * it is dialled again at once. An IPv6 address whose subnet still holds another address of this
 * host does not count (temporary privacy addresses expire beside the stable one). Peers beyond a
 * router (a relay, a peer across the internet) are closed too when every address of their family
 * that the host had is gone (a laptop with one network moved to another): each connection was
 * made from one of them. With an address left (a second interface), they are left to the monitor.
 */
import { BlockList, isIPv4 } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { InterfaceLister } from './types.js'
import { isLoopback } from './address-limit.js'

/** An address of this host and its subnet, as `os.networkInterfaces()` gives them. */
export interface OwnAddress {
  address: string
  /** `10.0.0.2/24`. */
  cidr: string
}

/** The host's addresses outside loopback, by `address/prefix`. */
export function ownAddresses (list: InterfaceLister = networkInterfaces): Map<string, OwnAddress> {
  const out = new Map<string, OwnAddress>()
  for (const infos of Object.values(list())) {
    for (const info of infos ?? []) {
      if (info.internal || info.cidr == null) continue
      out.set(info.cidr, { address: info.address, cidr: info.cidr })
    }
  }
  return out
}

export type Family = 'ipv4' | 'ipv6'

const familyOf = (ip: string): Family => isIPv4(ip) ? 'ipv4' : 'ipv6'

/**
 * Whether a connection to `host` cannot have survived the change: the peer is in a subnet that
 * went, or every address of its family that this host had is gone (`allGone`), except a peer on
 * loopback, which the loss of no network address touches.
 */
export function isDead (host: string, gone: readonly OwnAddress[], allGone: ReadonlySet<Family>): boolean {
  return inSubnets(gone, host) || (!isLoopback(host) && allGone.has(familyOf(host)))
}

/** Whether `ip` lies in one of the subnets of `gone`. */
export function inSubnets (gone: readonly OwnAddress[], ip: string): boolean {
  const list = new BlockList()
  for (const g of gone) {
    const [net, bits] = g.cidr.split('/')
    if (net == null || bits == null) continue
    try {
      list.addSubnet(net, Number(bits), familyOf(net))
    } catch {}
  }
  try {
    return list.check(ip, familyOf(ip))
  } catch {
    return false
  }
}

export class LinkWatch {
  private timer?: ReturnType<typeof setInterval>
  private known = new Map<string, OwnAddress>()

  constructor (
    /** `allGone`: the families of which no address the host had is left. */
    private readonly onGone: (gone: OwnAddress[], allGone: Set<Family>) => void,
    private readonly interval: number,
    private readonly list: InterfaceLister = networkInterfaces
  ) {}

  start (): void {
    if (this.timer != null) return
    this.known = ownAddresses(this.list)
    this.timer = setInterval(() => { this.check() }, this.interval)
    this.timer.unref?.()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** Reads the addresses now; tells `onGone` of those that left since the last read. */
  check (): void {
    let now: Map<string, OwnAddress>
    try {
      now = ownAddresses(this.list)
    } catch {
      return
    }
    // an IPv6 address whose subnet still holds another of ours is not news: temporary (privacy)
    // addresses come and go every few hours beside the stable one, whose connections live on
    const still = [...now.values()]
    const gone = [...this.known.entries()].filter(([key]) => !now.has(key)).map(([, a]) => a)
      .filter(a => isIPv4(a.address) || !still.some(b => !isIPv4(b.address) && inSubnets([a], b.address)))
    const allGone = new Set<Family>()
    for (const family of ['ipv4', 'ipv6'] as const) {
      const had = [...this.known.values()].filter(a => familyOf(a.address) === family)
      if (had.length > 0 && had.every(a => !now.has(a.cidr))) allGone.add(family)
    }
    this.known = now
    if (gone.length > 0) this.onGone(gone, allGone)
  }
}
