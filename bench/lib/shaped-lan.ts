/**
 * A private LAN for the shaped-link bench (bench/shaped.ts): one network namespace per host,
 * joined by a bridge in a hub namespace, every host's uplink shaped by `tbf`:
 *
 *   hub (br0) ──┬── host h0: 10.97.0.1/24   (eth0 egress: tbf RATE)
 *               ├── host h1: 10.97.0.2/24
 *               ├── …
 *               └── host trk: 10.97.0.100/24 (the BitTorrent tracker, not shaped)
 *
 * Each link is a veth pair made inside the host's namespace with its peer moved straight into
 * the hub (`ip -n HOST link add eth0 type veth peer name pN netns HUB`): nothing is ever made in,
 * moved to or routed from the root namespace, and no namespace has a route beyond 10.97.0.0/24
 * (checked after the build). A host's upload is read from the byte counter of its port on the
 * bridge (what the hub received from it: every frame, headers included).
 *
 * Namespace names are `sdshaped<pid>-…`: `create()` first deletes those of bench processes that
 * no longer run (a killed run); `close()` kills what still runs in this run's namespaces and
 * deletes them (the veths and the bridge go with them). It is synchronous, so it also runs from
 * an 'exit' handler.
 */
import { execFile, spawnSync } from 'node:child_process'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

const PREFIX = 'sdshaped'
export const SUBNET = '10.97.0'
export const TRACKER_HOST = 'trk'
export const TRACKER_IP = `${SUBNET}.100`

function run (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8', timeout: 30_000 })
  return { status: r.error != null ? -1 : r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error?.message ?? '') }
}

function must (args: string[]): string {
  const r = run(args)
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.trim()}`)
  return r.stdout
}

/** Kills whatever still runs in a namespace, then deletes it. */
function deleteNs (name: string): void {
  for (const pid of run(['ip', 'netns', 'pids', name]).stdout.split('\n').filter(Boolean)) {
    try { process.kill(Number(pid), 'SIGKILL') } catch {}
  }
  run(['ip', 'netns', 'del', name])
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Deletes the namespaces (and their processes) of shaped benches that no longer run. */
export function removeLeftovers (): string[] {
  const removed: string[] = []
  for (const line of run(['ip', 'netns', 'list']).stdout.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\S*)`).exec(line)
    if (m?.[1] == null || alive(Number(m[2]))) continue
    deleteNs(m[1])
    removed.push(m[1])
  }
  return removed
}

export class ShapedLan {
  private readonly id = `${PREFIX}${process.pid}`
  private readonly namespaces: string[] = []
  /** Host names in bridge-port order: h0, h1, …, trk. */
  readonly hosts: string[]

  private constructor (hosts: number) {
    this.hosts = [...Array.from({ length: hosts }, (_, i) => `h${i}`), TRACKER_HOST]
  }

  /** Builds a LAN of `hosts` shaped hosts (h0…) and the tracker's host. Call `close()` in a finally. */
  static create (hosts: number): ShapedLan {
    if (!Number.isInteger(hosts) || hosts < 1 || hosts > 90) throw new Error(`a shaped LAN has 1 to 90 hosts, not ${hosts}`)
    removeLeftovers()
    const lan = new ShapedLan(hosts)
    try {
      lan.build()
      lan.check()
    } catch (err) {
      lan.close()
      throw err
    }
    return lan
  }

  /** The namespace of a host (for `ip netns exec`). */
  ns (host: string): string {
    if (host !== 'hub' && !this.hosts.includes(host)) throw new Error(`no host ${host} on this LAN`)
    return `${this.id}-${host}`
  }

  ip (host: string): string {
    if (host === TRACKER_HOST) return TRACKER_IP
    const i = this.hosts.indexOf(host)
    if (i === -1) throw new Error(`no host ${host} on this LAN`)
    return `${SUBNET}.${i + 1}`
  }

  /** `cmd args` inside a host's namespace, as an argv (for Procs.spawn or spawnSync). */
  exec (host: string, cmd: string, args: string[]): string[] {
    return ['ip', 'netns', 'exec', this.ns(host), cmd, ...args]
  }

  private port (host: string): string {
    return `p${this.hosts.indexOf(host)}`
  }

  private addNs (name: string): string {
    must(['ip', 'netns', 'add', name])
    this.namespaces.push(name)
    must(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
    return name
  }

  private build (): void {
    const hub = this.addNs(this.ns('hub'))
    must(['ip', '-n', hub, 'link', 'add', 'br0', 'type', 'bridge'])
    must(['ip', '-n', hub, 'link', 'set', 'br0', 'up'])
    for (const host of this.hosts) {
      const ns = this.addNs(this.ns(host))
      const port = this.port(host)
      must(['ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', hub])
      must(['ip', '-n', hub, 'link', 'set', port, 'master', 'br0'])
      must(['ip', '-n', hub, 'link', 'set', port, 'up'])
      must(['ip', '-n', ns, 'addr', 'add', `${this.ip(host)}/24`, 'dev', 'eth0'])
      must(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    }
  }

  /** Every host namespace has lo and eth0 only, and routes to 10.97.0.0/24 only (no default route). */
  private check (): void {
    for (const host of this.hosts) {
      const ns = this.ns(host)
      const links = must(['ip', '-n', ns, '-o', 'link', 'show']).trim().split('\n').map(l => l.split(':')[1]?.trim().split('@')[0])
      if (links.join(',') !== 'lo,eth0') throw new Error(`${ns} has links ${links.join(', ')}, want lo and eth0`)
      const routes = must(['ip', '-n', ns, '-4', 'route', 'show']).trim().split('\n')
      if (routes.some(r => !r.startsWith(`${SUBNET}.0/24 `))) throw new Error(`${ns} has a route out of the lab: ${routes.join('; ')}`)
    }
  }

  /** Shapes a host's uplink (eth0 egress) to `mbit` Mbit/s with tbf (64 KiB burst, 50 ms of queue). */
  shape (host: string, mbit: number): void {
    must(this.exec(host, 'tc', ['qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '64kb', 'latency', '50ms']))
  }

  /** Bytes each host has sent so far (its bridge port's received bytes, frames with headers). */
  async sent (): Promise<Record<string, number>> {
    const { stdout } = await execFileP('ip', ['-n', this.ns('hub'), '-s', '-j', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 })
    const links = JSON.parse(stdout) as Array<{ ifname: string, stats64?: { rx?: { bytes?: number } } }>
    const out: Record<string, number> = {}
    for (const host of this.hosts) {
      const bytes = links.find(l => l.ifname === this.port(host))?.stats64?.rx?.bytes
      if (typeof bytes !== 'number') throw new Error(`no byte counter for ${host}'s port ${this.port(host)}`)
      out[host] = bytes
    }
    return out
  }

  /** Kills what still runs in the LAN's namespaces and deletes them (idempotent, synchronous). */
  close (): void {
    for (const ns of this.namespaces.reverse()) deleteNs(ns)
    this.namespaces.length = 0
  }

  /** This run's namespaces still present (for the final check). */
  remaining (): string[] {
    return run(['ip', 'netns', 'list']).stdout.split('\n').map(l => l.split(' ')[0] ?? '').filter(n => n.startsWith(`${this.id}-`))
  }
}
