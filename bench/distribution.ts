/**
 * P2 swarm distribution (issue 5): one sharer, N fetchers (default 8), a SIZE MiB file
 * (default 64), every peer its own process on 127.0.0.1 with an on-disk store.
 *
 * Measured in the same run:
 *   - solo: one fetcher alone from the sharer (the baseline wall time);
 *   - swarm: all N fetchers start at once; each knows the sharer and the other fetchers as
 *     providers (what the catalog and `have` messages tell a node) and asks each which blocks
 *     it has; peers that are still downloading serve what they already hold.
 * Figures: bytes the sharer uploaded / file size (goal <= 2), wall time until all N have the
 * file, and that time as a ratio to the solo fetch.
 *
 * Usage: npm run bench -- distribution [--fetchers 8] [--size 64] [--profile DIR]
 * --profile DIR: a CPU profile of every process during the swarm fetch (DIR/sharer.cpuprofile,
 * DIR/fetcher-N.cpuprofile; `node dist/bench/lib/cpuprofile.js FILE --mib M` sorts one).
 */
import '../src/polyfill.js'
import { tuneV8ForTransfers } from '../src/util/v8-tuning.js'
// every peer process of the bench runs as the `swarmdrop` command does (SWARMDROP_V8_TUNING=0: V8's defaults)
tuneV8ForTransfers()
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadOrCreateIdentity } from '../src/net/identity.js'
import { createNetwork } from '../src/net/network.js'
import { createStore } from '../src/storage/index.js'
import { createTransfer } from '../src/transfer/index.js'
import { Profiler } from './lib/cpuprofile.js'
import { COUNTERS, diffCpu, threadCpu, type ThreadCpu } from './lib/thread-cpu.js'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    fetchers: { type: 'string', default: '8' },
    size: { type: 'string', default: '64' },
    fetcher: { type: 'boolean', default: false },
    profile: { type: 'string' }
  }
})
const fetchers = Number(values.fetchers)
const size = Number(values.size) * MiB

type Msg = Record<string, any>

function send (msg: Msg): void {
  process.stdout.write(JSON.stringify(msg) + '\n')
}

async function startPeer (dir: string): Promise<{ network: Awaited<ReturnType<typeof createNetwork>>, store: Awaited<ReturnType<typeof createStore>>, transfer: ReturnType<typeof createTransfer>, stop: () => Promise<void> }> {
  const privateKey = await loadOrCreateIdentity(dir)
  const network = await createNetwork({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, agent: 'bench' })
  await network.start()
  const store = await createStore({ path: join(dir, 'store') })
  const transfer = createTransfer({ network, store })
  await transfer.start()
  return {
    network,
    store,
    transfer,
    stop: async () => {
      await transfer.stop()
      await network.stop()
      await store.close()
    }
  }
}

/** CPU time of this process so far (every thread), ms. */
function cpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

/** A fetcher process, driven by JSON lines on stdin. */
async function fetcher (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-dist-'))
  const peer = await startPeer(dir)
  send({ type: 'ready', peerId: peer.network.peerId, addr: peer.network.getMultiaddrs()[0] })
  let profiler: Profiler | undefined
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line) as Msg
    if (msg.type === 'dial') {
      for (const addr of msg.addrs as string[]) await peer.network.dial(addr)
      send({ type: 'dialled' })
    } else if (msg.type === 'fetch') {
      await peer.store.track(msg.cid, { name: 'bench.bin' })
      const result = await peer.transfer.fetch(msg.cid, { providers: msg.providers, timeout: 60_000 })
      await peer.store.missing(msg.cid)
      send({ type: 'fetched', ms: result.elapsed, received: result.bytesReceived, duplicates: result.duplicates, from: result.providers })
    } else if (msg.type === 'forget') {
      await peer.store.remove(msg.cid)
      await peer.store.gc()
      send({ type: 'forgotten', served: peer.transfer.stats().served.bytes })
    } else if (msg.type === 'stats') {
      const served = peer.transfer.stats().served
      send({ type: 'stats', served: served.bytes, backlogResets: served.backlogResets, maxRssMiB: process.resourceUsage().maxRSS / 1024 })
    } else if (msg.type === 'cpu') {
      send({ type: 'cpu', ms: cpuMs(), threads: threadCpu() })
    } else if (msg.type === 'profile') {
      profiler = await Profiler.start()
      send({ type: 'profiling' })
    } else if (msg.type === 'saveProfile') {
      await profiler?.stop(msg.file as string)
      send({ type: 'profileSaved' })
    }
  }
  await peer.stop()
  await rm(dir, { recursive: true, force: true })
}

class Child {
  private readonly waiting: Array<{ type: string, resolve: (m: Msg) => void }> = []
  private readonly queue: Msg[] = []

  constructor (readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Msg
      const i = this.waiting.findIndex(w => w.type === msg.type)
      if (i === -1) {
        this.queue.push(msg)
        return
      }
      this.waiting.splice(i, 1)[0]?.resolve(msg)
    })
  }

  async next (type: string): Promise<Msg> {
    const i = this.queue.findIndex(m => m.type === type)
    if (i !== -1) return this.queue.splice(i, 1)[0] ?? {}
    return new Promise(resolve => { this.waiting.push({ type, resolve }) })
  }

  send (msg: Msg): void {
    this.proc.stdin.write(JSON.stringify(msg) + '\n')
  }
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-sharer-'))
  const sharer = await startPeer(dir)
  const record = await sharer.store.import((async function * () {
    for (let n = 0; n < size; n += MiB) yield new Uint8Array(randomBytes(Math.min(MiB, size - n)))
  })(), { name: 'bench.bin' })
  const script = fileURLToPath(import.meta.url)
  const children = Array.from({ length: fetchers }, () => new Child(spawn(process.execPath, [...process.execArgv, script, '--fetcher'], { stdio: ['pipe', 'pipe', 'inherit'] })))
  const ready = await Promise.all(children.map(async c => c.next('ready')))
  const sharerAddr = sharer.network.getMultiaddrs()[0] ?? ''
  // each fetcher dials the sharer and the fetchers before it: a full mesh
  await Promise.all(children.map(async (c, i) => {
    c.send({ type: 'dial', addrs: [sharerAddr, ...ready.slice(0, i).map(r => r.addr)] })
    await c.next('dialled')
  }))

  // baseline: one fetcher alone
  const solo = children[0]
  if (solo == null) throw new Error('no fetcher')
  solo.send({ type: 'fetch', cid: record.cid, providers: [sharer.network.peerId] })
  const soloResult = await solo.next('fetched')
  solo.send({ type: 'forget', cid: record.cid })
  await solo.next('forgotten')
  const servedBefore = sharer.transfer.stats().served.bytes

  // CPU of every process during the swarm fetch: on 2 cores shared by 9 processes, the bound
  const allCpu = async (): Promise<{ ms: number, threads: ThreadCpu[] }> => {
    const kids = await Promise.all(children.map(async c => {
      c.send({ type: 'cpu' })
      return await c.next('cpu')
    }))
    return { ms: cpuMs() + kids.reduce((a, k) => a + (k.ms as number), 0), threads: [threadCpu(), ...kids.map(k => k.threads as ThreadCpu)] }
  }
  const cpu0 = await allCpu()
  const profiling = values.profile != null
    ? await Promise.all([Profiler.start(), ...children.map(async c => {
      c.send({ type: 'profile' })
      await c.next('profiling')
    })])
    : undefined

  // the swarm: everyone at once
  const ids = ready.map(r => r.peerId as string)
  const start = performance.now()
  const results = await Promise.all(children.map(async (c, i) => {
    c.send({ type: 'fetch', cid: record.cid, providers: [sharer.network.peerId, ...ids.filter((_, j) => j !== i)] })
    const r = await c.next('fetched')
    return { ms: r.ms as number, duplicates: r.duplicates as number, from: r.from as Record<string, { blocks: number }>, at: performance.now() - start }
  }))
  const wall = Math.max(...results.map(r => r.at))
  const cpu1 = await allCpu()
  const cpu = cpu1.ms - cpu0.ms
  // the same CPU by thread, summed over the processes: the main JavaScript threads, libuv's pools, V8's helpers
  const byThread = cpu1.threads.map((t, i) => diffCpu(cpu0.threads[i] ?? t, t)).reduce((a, b) => {
    for (const k of Object.keys(a) as Array<keyof ThreadCpu>) a[k] += b[k]
    return a
  })
  if (profiling != null && values.profile != null) {
    const dir = values.profile
    await (profiling[0] as Profiler).stop(join(dir, 'sharer.cpuprofile'))
    await Promise.all(children.map(async (c, i) => {
      c.send({ type: 'saveProfile', file: join(dir, `fetcher-${i}.cpuprofile`) })
      await c.next('profileSaved')
    }))
  }
  const sharerStats = sharer.transfer.stats().served
  const sharerUpload = sharerStats.bytes - servedBefore
  const stats = await Promise.all(children.map(async c => {
    c.send({ type: 'stats' })
    return await c.next('stats')
  }))
  const served = stats.map(s => s.served as number)
  const maxRss = stats.map(s => s.maxRssMiB as number)
  // honest peers must never pass the unread-request bound (MAX_UNREAD_REQUEST_BYTES_PER_PEER)
  const backlogResets = stats.reduce((n, s) => n + (s.backlogResets as number), sharerStats.backlogResets)
  for (const c of children) c.proc.stdin.end()
  await Promise.all(children.map(async c => new Promise(resolve => c.proc.once('exit', resolve))))
  await sharer.stop()
  await rm(dir, { recursive: true, force: true })

  const sid = sharer.network.peerId
  const perFetcher = results.map(r => `${r.from[sid]?.blocks ?? 0}+${Object.entries(r.from).filter(([k]) => k !== sid).reduce((n, [, v]) => n + v.blocks, 0)}`)
  const ratio = sharerUpload / size
  const duplicates = results.reduce((s, r) => s + r.duplicates, 0)
  process.stdout.write(`distribution: ${size / MiB} MiB from 1 sharer to ${fetchers} fetchers, each its own process on 127.0.0.1\n`)
  process.stdout.write(`sharer uploaded ${(sharerUpload / MiB).toFixed(1)} MiB = ${ratio.toFixed(2)} x the file (goal <= 2)\n`)
  process.stdout.write(`blocks each fetcher got from the sharer + from other fetchers: ${perFetcher.join(', ')}\n`)
  process.stdout.write(`fetchers uploaded ${served.map(b => (b / MiB).toFixed(0)).join(', ')} MiB; ${duplicates} duplicate blocks in total; peak RSS of each fetcher ${maxRss.map(r => r.toFixed(0)).join(', ')} MiB (the sharer ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)\n`)
  process.stdout.write(`wall time until all ${fetchers} have it: ${wall.toFixed(0)} ms = ${(wall / soloResult.ms).toFixed(2)} x one fetcher alone (${(soloResult.ms as number).toFixed(0)} ms); per fetcher ${results.map(r => r.at.toFixed(0)).join(', ')} ms\n`)
  process.stdout.write(`CPU of all ${fetchers + 1} processes during the swarm fetch: ${(cpu / 1000).toFixed(1)} s = ${(cpu / (fetchers * size / MiB)).toFixed(2)} ms per MiB delivered; ${(cpu / wall).toFixed(2)} cores busy on average (of ${availableParallelism()}); by thread, ms per MiB delivered: ${(Object.keys(byThread) as Array<keyof ThreadCpu>).filter(k => !k.endsWith('Gcs') && k !== 'gcPauseMs' && !(COUNTERS as readonly string[]).includes(k)).map(k => `${k} ${(byThread[k] / (fetchers * size / MiB)).toFixed(2)}`).join(', ')}\n`)
  process.stdout.write(`per MiB delivered, all processes: ${COUNTERS.map(k => `${k} ${(byThread[k] / (fetchers * size / MiB)).toFixed(0)}`).join(', ')}\n`)
  process.stdout.write(`sharer: ${sharerStats.again} blocks sent again to a second connected peer, ${sharerStats.later} requests answered LATER; streams reset for a request backlog, all nodes: ${backlogResets}; load average ${loadavg().map(l => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(JSON.stringify({ sizeMiB: size / MiB, fetchers, sharerUploadRatio: +ratio.toFixed(3), wallMs: Math.round(wall), soloMs: Math.round(soloResult.ms), wallVsSolo: +(wall / soloResult.ms).toFixed(2), cpuMsPerMiB: +(cpu / (fetchers * size / MiB)).toFixed(2), maxFetcherRssMiB: Math.round(Math.max(...maxRss)), duplicates, backlogResets, load: loadavg()[0] }) + '\n')
}

if (values.fetcher) await fetcher()
else await main()
