/**
 * swarmdrop processes in the WAN lab (test/helpers/wan-netns.ts): a relay and laptops, each with
 * its own repository, every one started inside its namespace with `ip netns exec … node bin/…`.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { BIN } from './cli.js'
import { LAPTOP_PORT, RELAY_IP, RELAY_PORT, type LabProcess, type WanLab } from './wan-netns.js'

export type Role = 'relay' | 'a' | 'b' | 'c'

export interface LabNode {
  readonly role: Role
  readonly proc: LabProcess
  readonly peerId: string
  readonly addrs: string[]
  readonly env: Record<string, string>
  readonly cwd: string
}

export class LabSwarm {
  readonly lab: WanLab
  readonly dir: string

  constructor (lab: WanLab, dir: string) {
    this.lab = lab
    this.dir = dir
  }

  private async home (role: Role): Promise<{ env: Record<string, string>, cwd: string }> {
    const cwd = join(this.dir, role)
    await mkdir(cwd, { recursive: true })
    return { env: { SWARMDROP_REPO: join(cwd, '.swarmdrop'), NO_COLOR: '1', DEBUG: '' }, cwd }
  }

  /** `swarmdrop start --json` in the role's namespace; resolves once it printed `ready`. */
  async start (role: Role, args: string[]): Promise<LabNode> {
    const { env, cwd } = await this.home(role)
    const proc = this.lab.spawn(role, process.execPath, [BIN, 'start', '--json', '--no-mdns', '--name', role, ...args], { env, cwd })
    const ready = await proc.waitForJson(m => m.event === 'ready', { timeout: 30_000 })
    return { role, proc, peerId: ready.peerId, addrs: ready.addrs, env, cwd }
  }

  /** The relay on the "internet", with `--relay-service` and these extra flags. */
  async startRelay (args: string[] = []): Promise<LabNode & { addr: string }> {
    const node = await this.start('relay', ['--relay-service', '--listen', `/ip4/0.0.0.0/tcp/${RELAY_PORT}`, ...args])
    return { ...node, addr: `/ip4/${RELAY_IP}/tcp/${RELAY_PORT}/p2p/${node.peerId}` }
  }

  /** A laptop listening on LAPTOP_PORT, reserving on the relay; `announce` is the router's mapped address. */
  async startLaptop (role: 'a' | 'b' | 'c', relayAddr: string, args: string[] = []): Promise<LabNode> {
    return await this.start(role, ['--listen', `/ip4/0.0.0.0/tcp/${LAPTOP_PORT}`, '--relay', relayAddr, ...args])
  }

  /** Runs a one-shot command (`share`, `ls`, `get`, `peers`) in the node's namespace against its repository. */
  async run (node: LabNode, args: string[], timeout = 60_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
    const p = this.lab.spawn(node.role, process.execPath, [BIN, ...args], { env: node.env, cwd: node.cwd })
    const { code } = await p.waitForExit({ timeout })
    return { code, stdout: p.lines.join('\n'), stderr: p.stderr.join('\n') }
  }
}
