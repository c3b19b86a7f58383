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
 * Usage: npm run bench -- distribution [--fetchers 8] [--size 64]
 */
import '../src/polyfill.js'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadOrCreateIdentity } from '../src/net/identity.js'
import { createNetwork } from '../src/net/network.js'
import { createStore } from '../src/storage/index.js'
import { createTransfer } from '../src/transfer/index.js'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    fetchers: { type: 'string', default: '8' },
    size: { type: 'string', default: '64' },
    fetcher: { type: 'boolean', default: false }
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

/** A fetcher process, driven by JSON lines on stdin. */
async function fetcher (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-dist-'))
  const peer = await startPeer(dir)
  send({ type: 'ready', peerId: peer.network.peerId, addr: peer.network.getMultiaddrs()[0] })
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
      send({ type: 'stats', served: peer.transfer.stats().served.bytes })
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
  const children = Array.from({ length: fetchers }, () => new Child(spawn(process.execPath, [script, '--fetcher'], { stdio: ['pipe', 'pipe', 'inherit'] })))
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

  // the swarm: everyone at once
  const ids = ready.map(r => r.peerId as string)
  const start = performance.now()
  const results = await Promise.all(children.map(async (c, i) => {
    c.send({ type: 'fetch', cid: record.cid, providers: [sharer.network.peerId, ...ids.filter((_, j) => j !== i)] })
    const r = await c.next('fetched')
    return { ms: r.ms as number, duplicates: r.duplicates as number, from: r.from as Record<string, { blocks: number }>, at: performance.now() - start }
  }))
  const wall = Math.max(...results.map(r => r.at))
  const sharerStats = sharer.transfer.stats().served
  const sharerUpload = sharerStats.bytes - servedBefore
  const served = await Promise.all(children.map(async c => {
    c.send({ type: 'stats' })
    return (await c.next('stats')).served as number
  }))
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
  process.stdout.write(`fetchers uploaded ${served.map(b => (b / MiB).toFixed(0)).join(', ')} MiB; ${duplicates} duplicate blocks in total\n`)
  process.stdout.write(`wall time until all ${fetchers} have it: ${wall.toFixed(0)} ms = ${(wall / soloResult.ms).toFixed(2)} x one fetcher alone (${(soloResult.ms as number).toFixed(0)} ms); per fetcher ${results.map(r => r.at.toFixed(0)).join(', ')} ms\n`)
  process.stdout.write(`sharer: ${sharerStats.again} blocks sent again to a second connected peer, ${sharerStats.later} requests answered LATER; load average ${loadavg().map(l => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(JSON.stringify({ sizeMiB: size / MiB, fetchers, sharerUploadRatio: +ratio.toFixed(3), wallMs: Math.round(wall), soloMs: Math.round(soloResult.ms), wallVsSolo: +(wall / soloResult.ms).toFixed(2), duplicates, load: loadavg()[0] }) + '\n')
}

if (values.fetcher) await fetcher()
else await main()
