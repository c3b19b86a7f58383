/**
 * The anchors of P1 and P2 (issue 12): installs what bench/p1.ts and bench/p2.ts need (aria2,
 * opentracker, mktorrent, syncthing, nftables) with apt-get when missing, prints their versions,
 * and checks that a private loopback-only network namespace can be made here.
 *
 * Usage: npm run bench -- anchors        then: npm run bench -- p1 / p2 (see their headers)
 */
import { spawnSync } from 'node:child_process'
import { ensureTools, versions } from './lib/tools.js'

const TOOLS = ['aria2c', 'opentracker', 'mktorrent', 'syncthing', 'nft', 'setpriv', 'unshare']
ensureTools(TOOLS)
for (const [tool, version] of Object.entries(versions(TOOLS))) process.stdout.write(`${tool.padEnd(12)} ${version}\n`)
const ns = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && ip -o link show'], { encoding: 'utf8' })
const devices = ns.stdout.trim().split('\n').map(l => l.split(':')[1]?.trim())
if (ns.status !== 0 || devices.join() !== 'lo') {
  process.stderr.write(`cannot make a private loopback-only namespace (needs root): ${ns.stderr}${ns.stdout}\n`)
  process.exitCode = 1
} else {
  process.stdout.write('private namespace: ok (only lo)\n')
}
