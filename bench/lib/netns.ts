/**
 * The anchor benches run whole inside one private network namespace that has only a loopback
 * device: swarmdrop, aria2, opentracker and Syncthing share it, so their ratios are fair, and
 * nothing they do can reach any other network.
 *
 * `enterPrivateNetns()` re-runs the current script as
 *   unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' node SCRIPT ARGS
 * and returns its exit code; inside (marked by an environment variable), `assertPrivateNetns()`
 * checks that loopback is the only device before anything starts.
 */
import { spawn, spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'

const MARK = 'SWARMDROP_BENCH_PRIVATE_NETNS'

/** True when this process is the copy that runs inside the private namespace. */
export function insidePrivateNetns (): boolean {
  return process.env[MARK] === '1'
}

/**
 * Re-runs `script` (the caller's own file: under bench/run.js, argv[1] is run.js) with this
 * process's arguments inside a new private namespace (stdio inherited); resolves with its exit code.
 */
export async function enterPrivateNetns (script: string): Promise<number> {
  const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' }
  })
  const forward = (sig: NodeJS.Signals): void => { child.kill(sig) }
  process.on('SIGINT', forward)
  process.on('SIGTERM', forward)
  return await new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolve(code ?? (signal != null ? 1 : 0))
    })
    child.once('error', (err) => {
      process.stderr.write(`cannot start unshare: ${err.message}\n`)
      resolve(1)
    })
  })
}

/** Throws unless this process is in a namespace whose only device is an up loopback. */
export function assertPrivateNetns (): void {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ip link show failed: ${r.stderr}`)
  const devices = r.stdout.trim().split('\n').map(l => l.split(':')[1]?.trim())
  if (!insidePrivateNetns() || devices.length !== 1 || devices[0] !== 'lo') {
    throw new Error(`not in a private loopback-only namespace (devices: ${devices.join(', ')}); refusing to start the anchors`)
  }
  if (!/state UNKNOWN|state UP|LOWER_UP/.test(r.stdout)) throw new Error(`loopback is down: ${r.stdout}`)
}

/** The 1, 5 and 15 minute load averages, for the record (the machine is shared). */
export function load (): string {
  return loadavg().map(l => l.toFixed(2)).join(' ')
}
