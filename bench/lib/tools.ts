/**
 * The anchors are Debian packages: aria2 (BitTorrent client), opentracker, mktorrent, syncthing,
 * nftables for counting bytes, and iproute2 and curl for bench/shaped.ts's lab. `ensureTools()` installs the missing ones with apt-get (an
 * `apt-get update` first only when an install fails) and returns their versions. It runs before
 * the bench enters its private namespace, since apt needs the machine's package mirror.
 */
import { spawnSync } from 'node:child_process'

/** Command → Debian package that provides it. */
const PACKAGES: Record<string, string> = {
  aria2c: 'aria2',
  opentracker: 'opentracker',
  mktorrent: 'mktorrent',
  syncthing: 'syncthing',
  nft: 'nftables',
  setpriv: 'util-linux',
  unshare: 'util-linux',
  ip: 'iproute2',
  tc: 'iproute2',
  curl: 'curl'
}

function has (cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0
}

function aptInstall (pkgs: string[]): boolean {
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  return r.status === 0
}

/** Installs what `cmds` need; throws with what is still missing. */
export function ensureTools (cmds: string[]): void {
  const missing = [...new Set(cmds.filter(c => !has(c)).map(c => PACKAGES[c] ?? c))]
  if (missing.length === 0) return
  process.stderr.write(`installing ${missing.join(', ')} with apt-get\n`)
  if (!aptInstall(missing)) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' })
    aptInstall(missing)
  }
  const still = cmds.filter(c => !has(c))
  if (still.length > 0) throw new Error(`cannot install ${still.join(', ')} (apt-get install -y ${missing.join(' ')} failed)`)
}

/** The first line of each tool's version. */
export function versions (cmds: string[]): Record<string, string> {
  const args: Record<string, string[]> = { aria2c: ['--version'], syncthing: ['--version'], nft: ['--version'], mktorrent: ['-h'], opentracker: [] }
  const out: Record<string, string> = { node: process.version }
  for (const cmd of cmds) {
    if (cmd === 'opentracker') {
      // opentracker has no --version: ask dpkg
      const r = spawnSync('dpkg-query', ['-W', 'opentracker'], { encoding: 'utf8' })
      out[cmd] = r.stdout.trim().replace(/\s+/, ' ')
      continue
    }
    if (args[cmd] == null) continue
    const r = spawnSync(cmd, args[cmd] ?? [], { encoding: 'utf8' })
    out[cmd] = `${r.stdout}${r.stderr}`.split('\n').find(l => l.trim() !== '')?.trim() ?? '?'
  }
  return out
}
