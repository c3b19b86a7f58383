/**
 * Discovery benchmark (issue 2). Inside a private network namespace:
 *  - 2 processes with mDNS only: time from the later node's start to their first connection, median of --rounds;
 *    baseline: the same two processes connected by an explicit dial (bootstrap), same rounds, same run.
 *  - 10 processes with mDNS only: time from the last start until every node is connected to all 9 others.
 * Usage: npm run bench -- discovery [--rounds 10] [--nodes 10]
 */
import '../src/polyfill.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Netns, netnsUnavailable, type NsProcess } from '../test/helpers/netns.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, nodes: { type: 'string', default: '10' } } })
const rounds = Number(values.rounds)
const many = Number(values.nodes)
const NODE = fileURLToPath(new URL('../test/fixtures/node-process.js', import.meta.url))
const LOCAL = ['/ip4/127.0.0.1/tcp/0']

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function ready (p: NsProcess): Promise<{ peerId: string, addrs: string[], at: number }> {
  return p.waitForJson(m => m.type === 'ready' || m.type === 'error', { timeout: 30_000 })
}

async function pair (ns: Netns, dir: string, mode: 'mdns' | 'dial', round: number): Promise<number> {
  const a = ns.spawn(process.execPath, [NODE, JSON.stringify({ repo: join(dir, `${mode}-${round}-a`), listen: LOCAL, mdns: mode === 'mdns' })])
  const ra = await ready(a)
  const b = ns.spawn(process.execPath, [NODE, JSON.stringify({ repo: join(dir, `${mode}-${round}-b`), listen: LOCAL, mdns: mode === 'mdns', bootstrap: mode === 'dial' ? ra.addrs : [] })])
  const rb = await ready(b)
  const conn = await b.waitForJson(m => m.type === 'connect' && m.peer === ra.peerId, { timeout: 30_000 })
  a.kill('SIGKILL')
  b.kill('SIGKILL')
  await Promise.all([a.waitForExit(), b.waitForExit()])
  return conn.at - Math.max(ra.at, rb.at)
}

async function all (ns: Netns, dir: string, n: number): Promise<number> {
  const procs = Array.from({ length: n }, (_, i) => ns.spawn(process.execPath, [NODE, JSON.stringify({ repo: join(dir, `many-${i}`), listen: LOCAL, mdns: true })]))
  const readies = await Promise.all(procs.map(ready))
  const start = Math.max(...readies.map(r => r.at))
  let done = 0
  for (const p of procs) {
    const seen = new Set<string>()
    const last = await p.waitForJson((m) => {
      if (m.type === 'connect') seen.add(m.peer)
      return seen.size >= n - 1
    }, { timeout: 60_000 })
    done = Math.max(done, last.at)
  }
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map(async p => p.waitForExit()))
  return done - start
}

const why = netnsUnavailable()
if (why != null) {
  process.stderr.write(`discovery benchmark needs a private network namespace: ${why}\n`)
  process.exit(1)
}
const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-discovery-'))
const ns = await Netns.create()
try {
  const mdnsTimes: number[] = []
  const dialTimes: number[] = []
  for (let r = 0; r < rounds; r++) {
    mdnsTimes.push(await pair(ns, dir, 'mdns', r))
    dialTimes.push(await pair(ns, dir, 'dial', r))
  }
  const manyMs = await all(ns, dir, many)
  const result = {
    rounds,
    mdnsPairMedianMs: median(mdnsTimes),
    dialPairMedianMs: median(dialTimes),
    ratioMdnsToDial: +(median(mdnsTimes) / Math.max(1, median(dialTimes))).toFixed(2),
    nodes: many,
    allConnectedMs: manyMs
  }
  process.stdout.write(`discovery: 2 processes, mDNS only: median ${result.mdnsPairMedianMs} ms to first connection (goal <= 1000 ms); explicit dial baseline: median ${result.dialPairMedianMs} ms (ratio ${result.ratioMdnsToDial}x)\n`)
  process.stdout.write(`discovery: ${many} processes, mDNS only: ${manyMs} ms from the last start until all are connected to all\n`)
  process.stdout.write(JSON.stringify(result) + '\n')
} finally {
  await ns.close()
  await rm(dir, { recursive: true, force: true })
}
