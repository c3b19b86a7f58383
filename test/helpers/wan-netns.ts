/**
 * A small "internet" of network namespaces for the WAN tests (issue 17):
 *
 *   relay ── br0 (ns inet, 10.99.0.0/24) ──┬── home1 router 10.99.0.11 ── 192.168.1.0/24 ── laptop a 192.168.1.2
 *                                           └── home2 router 10.99.0.12 ── 192.168.2.0/24 ── laptop b 192.168.2.2
 *                                                (and laptop c 192.168.2.3 on home2 when asked)
 *
 * Every link is a veth pair made directly between two namespaces of the lab (`ip -n A link add …
 * netns B`), so nothing ever touches the root namespace; no namespace has a route to anything
 * outside the lab. Routers masquerade with nftables:
 * - `eim`: endpoint-independent mapping (Linux keeps the source port) and filtering for the
 *   laptop's listening port (a full-cone router, or one with a UPnP / NAT-PMP mapping): inbound
 *   TCP to that port goes to the laptop.
 * - `closed`: masquerade only: nothing inbound reaches the laptop.
 * - `symmetric`: masquerade with port randomisation (`fully-random`), nothing inbound.
 * The relay's interface is counted with an nftables counter (bytes in and out of the relay).
 * Namespace names carry the test process id; `close()` kills every process and deletes them,
 * and `create()` first deletes leftovers of dead test processes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { lineWaiters, type LineWaiters, type ProcessExit } from './lines.js'

export type NatKind = 'eim' | 'closed' | 'symmetric'

export interface LabProcess extends LineWaiters {
  readonly lines: string[]
  readonly stderr: string[]
  exit?: ProcessExit
  kill: (signal?: NodeJS.Signals) => void
}

const PREFIX = 'sdwan'
/** Inside the lab each laptop listens on this port (namespaces have their own ports: no clash is possible). */
export const LAPTOP_PORT = 4001
export const RELAY_PORT = 4000
export const RELAY_IP = '10.99.0.1'

function sh (args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' })
  return { status: r.error != null ? -1 : r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error?.message ?? '') }
}

export function must (args: string[]): string {
  const r = sh(args)
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr.trim()}`)
  return r.stdout
}

let why: string | undefined | null = null
let namedWhy: string | undefined | null = null

/** Why named namespaces (`ip netns add`) cannot be made here (not root, no iproute2), or undefined. */
export function namedNetnsUnavailable (): string | undefined {
  if (namedWhy !== null) return namedWhy
  const name = `${PREFIX}${process.pid}probe`
  const add = sh(['ip', 'netns', 'add', name])
  sh(['ip', 'netns', 'del', name])
  namedWhy = add.status !== 0 ? `cannot create named network namespaces (ip netns add: ${add.stderr.trim()}); needs root` : undefined
  return namedWhy
}

/** Why the lab cannot be built here (not root, no `ip netns`, no `nft`), or undefined. */
export function wanLabUnavailable (): string | undefined {
  if (why !== null) return why
  why = namedNetnsUnavailable()
  if (why != null) return why
  const name = `${PREFIX}${process.pid}probe`
  sh(['ip', 'netns', 'add', name])
  const nft = sh(['ip', 'netns', 'exec', name, 'nft', 'list', 'ruleset'])
  sh(['ip', 'netns', 'del', name])
  why = nft.status !== 0 ? `nftables is not usable (${nft.stderr.trim()}); apt-get install -y nftables` : undefined
  return why
}

/**
 * A name for a new namespace of this test process: every namespace name starts with
 * `sdwan<pid>`, so removeLeftovers() finds those of dead test processes.
 */
export function namespaceName (suffix: string): string {
  return `${PREFIX}${process.pid}${suffix}`
}

/** Kills whatever still runs in a namespace, then deletes it. */
export function deleteNs (name: string): void {
  for (const pid of sh(['ip', 'netns', 'pids', name]).stdout.split('\n').filter(Boolean)) {
    try { process.kill(Number(pid), 'SIGKILL') } catch {}
  }
  sh(['ip', 'netns', 'del', name])
}

/** Deletes namespaces (and their processes) left by test processes that no longer run. */
export function removeLeftovers (): void {
  for (const line of sh(['ip', 'netns', 'list']).stdout.split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)\\S*)`).exec(line)
    if (m == null) continue
    const pid = Number(m[2])
    let alive = true
    try { process.kill(pid, 0) } catch { alive = false }
    if (!alive) deleteNs(m[1]!)
  }
}

let labs = 0

export class WanLab {
  readonly id: string
  private readonly namespaces: string[] = []
  private readonly procs: ChildProcess[] = []

  private constructor (id: string) {
    this.id = id
  }

  ns (role: 'inet' | 'relay' | 'r1' | 'r2' | 'a' | 'b' | 'c'): string {
    return `${this.id}-${role}`
  }

  /** Builds the lab. The caller registers `close()` in `t.after` right away. */
  static async create (nat: { home1: NatKind, home2: NatKind, laptopC?: boolean }): Promise<WanLab> {
    removeLeftovers()
    const lab = new WanLab(`${PREFIX}${process.pid}x${labs++}`)
    try {
      lab.build(nat)
    } catch (err) {
      await lab.close()
      throw err
    }
    return lab
  }

  private addNs (role: Parameters<WanLab['ns']>[0]): string {
    const name = this.ns(role)
    must(['ip', 'netns', 'add', name])
    this.namespaces.push(name)
    this.ipIn(name, 'link set lo up')
    return name
  }

  private ipIn (ns: string, cmd: string): void {
    must(['ip', '-n', ns, ...cmd.split(' ')])
  }

  /** A veth pair `ifA` in `nsA`, `ifB` in `nsB`, made without touching the root namespace. */
  private link (nsA: string, ifA: string, nsB: string, ifB: string): void {
    this.ipIn(nsA, `link add ${ifA} type veth peer name ${ifB} netns ${nsB}`)
    this.ipIn(nsA, `link set ${ifA} up`)
    this.ipIn(nsB, `link set ${ifB} up`)
  }

  private build (nat: { home1: NatKind, home2: NatKind, laptopC?: boolean }): void {
    const inet = this.addNs('inet')
    this.ipIn(inet, 'link add br0 type bridge')
    this.ipIn(inet, 'link set br0 up')
    const relay = this.addNs('relay')
    this.link(relay, 'eth0', inet, 'p-relay')
    this.ipIn(inet, 'link set p-relay master br0')
    this.ipIn(relay, `addr add ${RELAY_IP}/24 dev eth0`)
    // bytes in and out of the relay, counted on its one interface
    this.nft(relay, `
      table inet lab {
        counter relay_in {}
        counter relay_out {}
        chain input { type filter hook input priority 0; iifname "eth0" counter name relay_in; }
        chain output { type filter hook output priority 0; oifname "eth0" counter name relay_out; }
      }`)
    const homes: Array<[string, string, NatKind, Array<'a' | 'b' | 'c'>]> = [
      ['r1', '1', nat.home1, ['a']],
      ['r2', '2', nat.home2, nat.laptopC === true ? ['b', 'c'] : ['b']]
    ]
    for (const [role, n, kind, laptops] of homes) {
      const r = this.addNs(role as 'r1' | 'r2')
      this.link(r, 'wan0', inet, `p-${role}`)
      this.ipIn(inet, `link set p-${role} master br0`)
      this.ipIn(r, `addr add 10.99.0.1${n}/24 dev wan0`)
      this.ipIn(r, 'link add lan0 type bridge')
      this.ipIn(r, 'link set lan0 up')
      this.ipIn(r, `addr add 192.168.${n}.1/24 dev lan0`)
      must(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
      laptops.forEach((l, i) => {
        const ns = this.addNs(l)
        this.link(ns, 'eth0', r, `p-${l}`)
        this.ipIn(r, `link set p-${l} master lan0`)
        this.ipIn(ns, `addr add 192.168.${n}.${i + 2}/24 dev eth0`)
        this.ipIn(ns, `route add default via 192.168.${n}.1`)
      })
      const laptopIp = `192.168.${n}.2`
      this.nft(r, `
        table ip nat {
          chain prerouting { type nat hook prerouting priority -100; ${kind === 'eim' ? `iifname "wan0" tcp dport ${LAPTOP_PORT} dnat to ${laptopIp}:${LAPTOP_PORT};` : ''} }
          chain postrouting { type nat hook postrouting priority 100; oifname "wan0" ${kind === 'symmetric' ? 'masquerade fully-random' : 'masquerade'}; }
        }
        table inet filter {
          chain forward_filter { type filter hook forward priority 0; policy drop;
            ct state established,related accept
            iifname "lan0" oifname "wan0" accept
            ${kind === 'eim' ? `iifname "wan0" ip daddr ${laptopIp} tcp dport ${LAPTOP_PORT} ct status dnat accept` : ''}
          }
        }`)
    }
  }

  private nft (ns: string, rules: string): void {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`nft in ${ns} failed: ${r.stderr}`)
  }

  /** Bytes the relay received and sent on its interface (every packet, headers included). */
  relayBytes (): { in: number, out: number } {
    const out = must(['ip', 'netns', 'exec', this.ns('relay'), 'nft', '-j', 'list', 'counters', 'table', 'inet', 'lab'])
    const counters: Record<string, number> = {}
    for (const item of JSON.parse(out).nftables as any[]) {
      if (item.counter != null) counters[item.counter.name] = item.counter.bytes
    }
    return { in: counters.relay_in ?? 0, out: counters.relay_out ?? 0 }
  }

  /** Runs a command to completion inside a namespace. */
  exec (role: Parameters<WanLab['ns']>[0], args: string[]): { status: number | null, stdout: string, stderr: string } {
    return sh(['ip', 'netns', 'exec', this.ns(role), ...args])
  }

  /** Starts a process inside a namespace (killed by close()). */
  spawn (role: Parameters<WanLab['ns']>[0], cmd: string, args: string[], options: { env?: Record<string, string>, cwd?: string } = {}): LabProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(role), cmd, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    this.procs.push(child)
    const proc: LabProcess = {
      lines: [],
      stderr: [],
      ...lineWaiters(() => proc.lines, () => proc.exit, () => `${role}: ${cmd} ${args.join(' ')}: stdout ${JSON.stringify(proc.lines.slice(-10))} stderr ${JSON.stringify(proc.stderr.slice(-10))} exit ${JSON.stringify(proc.exit)}`),
      kill: (signal = 'SIGTERM') => { child.kill(signal) }
    }
    createInterface({ input: child.stdout! }).on('line', l => { proc.lines.push(l) })
    createInterface({ input: child.stderr! }).on('line', l => { proc.stderr.push(l) })
    child.on('exit', (code, signal) => { proc.exit = { code, signal } })
    return proc
  }

  /** Kills every process the lab started and deletes its namespaces (idempotent). */
  async close (): Promise<void> {
    await Promise.all(this.procs.map(async (c) => {
      if (c.exitCode != null || c.signalCode != null) return
      const exited = new Promise(resolve => c.once('exit', resolve))
      c.kill('SIGKILL')
      await exited
    }))
    this.procs.length = 0
    for (const ns of this.namespaces.reverse()) deleteNs(ns)
    this.namespaces.length = 0
  }

  /** Namespaces of this lab still present (for the cleanup check). */
  remaining (): string[] {
    return sh(['ip', 'netns', 'list']).stdout.split('\n').map(l => l.split(' ')[0]!).filter(n => n.startsWith(`${this.id}-`))
  }
}
