/**
 * A flat LAN of network namespaces, one host per namespace, each with an address of its own:
 *
 *   hub (br0) ──┬── host 0: 10.98.0.1/24
 *               ├── host 1: 10.98.0.2/24
 *               └── …
 *
 * For tests where peers must come from different source addresses (the per-address connection
 * limit exempts loopback, and every dial on one host comes from 127.0.0.1). Each link is a veth
 * pair made directly between the host's namespace and the hub, so nothing touches the root
 * namespace, and no namespace has a route beyond 10.98.0.0/24. Namespace names carry the test
 * process id (test/helpers/wan-netns.ts removes those of dead test processes); `close()` kills
 * what still runs in them and deletes them.
 */
import { deleteNs, must, namedNetnsUnavailable, namespaceName, removeLeftovers } from './wan-netns.js'

let lans = 0

/** Why the LAN cannot be built here (named namespaces need root), or undefined. */
export function lanUnavailable (): string | undefined {
  return namedNetnsUnavailable()
}

export class Lan {
  private readonly id: string
  private readonly namespaces: string[] = []
  private readonly hosts: string[]

  private constructor (hosts: string[]) {
    this.id = namespaceName(`lan${lans++}`)
    this.hosts = hosts
  }

  /** Builds the LAN with one namespace per host name. The caller registers `close()` right away. */
  static create (hosts: string[]): Lan {
    removeLeftovers()
    const lan = new Lan(hosts)
    try {
      lan.build()
    } catch (err) {
      lan.close()
      throw err
    }
    return lan
  }

  /** The namespace of a host (for `ip netns exec`). */
  ns (host: string): string {
    if (!this.hosts.includes(host)) throw new Error(`no host ${host} on this LAN`)
    return `${this.id}-${host}`
  }

  /** The host's address. */
  ip (host: string): string {
    return `10.98.0.${this.hosts.indexOf(host) + 1}`
  }

  private addNs (name: string): string {
    must(['ip', 'netns', 'add', name])
    this.namespaces.push(name)
    must(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
    return name
  }

  private build (): void {
    const hub = this.addNs(`${this.id}-hub`)
    must(['ip', '-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
    must(['ip', '-n', hub, 'link', 'set', 'br0', 'up'])
    this.hosts.forEach((host, i) => {
      const ns = this.addNs(this.ns(host))
      const port = `p${i}`
      must(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', hub])
      must(['ip', '-n', hub, 'link', 'set', port, 'master', 'br0'])
      must(['ip', '-n', hub, 'link', 'set', port, 'up'])
      must(['ip', '-n', ns, 'addr', 'add', `${this.ip(host)}/24`, 'dev', 'eth0'])
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    })
  }

  /** Kills whatever still runs in the LAN's namespaces and deletes them (idempotent). */
  close (): void {
    for (const ns of this.namespaces.reverse()) deleteNs(ns)
    this.namespaces.length = 0
  }

  /** Namespaces of this LAN still present (for the cleanup check). */
  remaining (): string[] {
    return must(['ip', 'netns', 'list']).split('\n').map(l => l.split(' ')[0]!).filter(n => n.startsWith(`${this.id}-`))
  }
}
