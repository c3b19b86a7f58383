/**
 * P1 throughput (issue 5): SIZE MiB (default 256) from one process to another on 127.0.0.1,
 * three ways, measured in the same run:
 *
 *   tcp     raw Node TCP socket (the machine's ceiling)
 *   stream  one js-libp2p stream on swarmdrop's stack (tcp + noise + yamux): the transfer's ceiling
 *   fetch   swarmdrop's transfer: fetch of an imported file, verified and written to an on-disk store
 *   framed  one js-libp2p stream carrying the file's blocks as the transfer does, with none of its
 *           protocol: the sender reads each block from its store and sends it length-prefixed, the
 *           receiver decodes the frames (it-length-prefixed) and hashes each (sha2-256). Between
 *           stream and framed: reading, framing and hashing; between framed and fetch-mem: the
 *           transfer's own work (requests, scheduling, landing) and the in-memory store's copy
 *   fetch-mem  the same fetch into a block store in memory: the transfer without the disk's cost
 *   stream-disk  the raw stream written to one file as it arrives (each MiB with one synchronous writev, one
 *           fsync at the end): what writing the bytes to this machine's disk costs a receiver that does nothing
 *           else, the ceiling of any fetch that keeps what it receives (the stream discards it)
 *   store-put  the on-disk store alone: putBlock of the same blocks, 32 at a time (as the fetch
 *              writes them), into an empty store: the ceiling of a fetch to disk
 *
 * Usage: npm run bench -- throughput [--size 256] [--rounds 3] [--only fetch,stream]
 *        [--mux-message BYTES] [--mux-window BYTES] [--max-window BLOCKS] [--window-seconds S] [--profile DIR] [--threads] [--jit-tuning]
 *        [--warmup MiB] [--stepped] [--cold-ms MS]
 * --warmup MiB: one untimed fetch of a file of that size before the first round (as the Syncthing
 * pair of bench/p1.ts syncs a warm-up file first). --stepped: each round starts when a line arrives
 * on stdin and ends with a JSON line `{"round": N, "MiBs": {variant: rate}}` (bench/p1.ts).
 * --cold-ms MS: wait that long before each variant, after the files of the one before are
 * removed, so that it writes into memory the machine freed over a second ago (docs/BENCHMARKS.md,
 * "Memory freed a second ago").
 * Each round runs them one after the other; a ratio is taken within each round (the machine's
 * load changes between rounds) and the median over rounds is reported, with the best of each.
 */
import '../src/polyfill.js'
import { tuneV8ForTransfers } from '../src/util/v8-tuning.js'
// both processes run with the `swarmdrop` command's heap growth (SWARMDROP_V8_TUNING=0: V8's
// defaults), but not its optimization budget unless --jit-tuning: that budget slows one long raw
// stream, the baseline here, more than it slows a fetch (docs/BENCHMARKS.md, "V8 settings")
tuneV8ForTransfers({ jit: process.argv.includes('--jit-tuning') })
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, fsync, openSync, writevSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Profiler } from './lib/cpuprofile.js'
import { diffCpu, threadCpu, type ThreadCpu } from './lib/thread-cpu.js'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadOrCreateIdentity } from '../src/net/identity.js'
import { createNetwork } from '../src/net/network.js'
import * as dagPb from '@ipld/dag-pb'
import * as lp from 'it-length-prefixed'
import { createStore } from '../src/storage/index.js'
import { createMemoryBlockStore, createTransfer } from '../src/transfer/index.js'

const RAW_PROTOCOL = '/swarmdrop-bench/raw/1.0.0'
const FRAMED_PROTOCOL = '/swarmdrop-bench/framed/1.0.0'
const MiB = 1024 * 1024

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    serve: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    'mux-message': { type: 'string' },
    'mux-window': { type: 'string' },
    'max-window': { type: 'string' },
    'window-seconds': { type: 'string' },
    threads: { type: 'boolean', default: false },
    'jit-tuning': { type: 'boolean', default: false },
    warmup: { type: 'string', default: '0' },
    stepped: { type: 'boolean', default: false },
    'cold-ms': { type: 'string', default: '0' }
  }
})
const size = Number(values.size) * MiB
const rounds = Number(values.rounds)
const warmup = Number(values.warmup) * MiB
if (!(warmup >= 0)) throw new Error('--warmup must be a size in MiB >= 0')
const coldMs = Number(values['cold-ms'])
if (!(coldMs >= 0)) throw new Error('--cold-ms must be a time in ms >= 0')

/** 1 MiB chunks of random bytes (one buffer reused: the stream and TCP tests do not care about content). */
function * chunks (total: number, fresh: boolean): Generator<Uint8Array> {
  const reused = new Uint8Array(randomBytes(MiB))
  for (let sent = 0; sent < total; sent += MiB) {
    const n = Math.min(MiB, total - sent)
    yield fresh ? new Uint8Array(randomBytes(n)) : reused.subarray(0, n)
  }
}

async function startPeer (dir: string, memory = false): Promise<{ network: Awaited<ReturnType<typeof createNetwork>>, store: Awaited<ReturnType<typeof createStore>>, transfer: ReturnType<typeof createTransfer> }> {
  const privateKey = await loadOrCreateIdentity(dir)
  const muxer = {
    ...(values['mux-message'] != null ? { maxMessageSize: Number(values['mux-message']) } : {}),
    ...(values['mux-window'] != null ? { maxStreamWindowSize: Number(values['mux-window']) } : {})
  }
  const network = await createNetwork({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, agent: 'bench', muxer })
  await network.start()
  const store = await createStore({ path: join(dir, 'store') })
  const transfer = createTransfer({ network, store: memory ? createMemoryBlockStore() : store, ...windows })
  await transfer.start()
  return { network, store, transfer }
}

/** A dag-pb node's CID (base32 `bafy…`); the file's leaves are raw (`bafk…`). */
const isNode = (cid: string): boolean => cid.startsWith('bafy')

/** Every CID of the file's DAG in order, each node before its children; only the nodes are read. */
async function dagOrder (store: Awaited<ReturnType<typeof createStore>>, root: string): Promise<string[]> {
  const out: string[] = [root]
  if (isNode(root)) for (const link of dagPb.decode(await store.getBlock(root)).Links) out.push(...await dagOrder(store, link.Hash.toString()))
  return out
}

/** The sending process: a store holding the file, the raw protocol, a raw TCP server. */
async function serve (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-serve-'))
  const { network, store, transfer } = await startPeer(dir)
  const record = await store.import((async function * () { yield * chunks(size, true) })(), { name: 'bench.bin' })
  const warm = warmup > 0 ? await store.import((async function * () { yield * chunks(warmup, true) })(), { name: 'warmup.bin' }) : undefined
  await network.handle(RAW_PROTOCOL, (stream) => {
    stream.sink(chunks(size, false)).catch(() => {})
  })
  // the file's leaves in order, read from the store per stream as the transfer's server reads them
  const leaves = (await dagOrder(store, record.cid)).filter(cid => !isNode(cid))
  await network.handle(FRAMED_PROTOCOL, (stream) => {
    stream.sink(lp.encode((async function * () {
      for (const cid of leaves) yield await store.getBlock(cid, { verify: false })
    })())).catch(() => {})
  })
  const tcp = createServer((socket) => {
    const it = chunks(size, false)
    const pump = (): void => {
      for (;;) {
        const next = it.next()
        if (next.done === true) {
          socket.end()
          return
        }
        if (!socket.write(next.value)) {
          socket.once('drain', pump)
          return
        }
      }
    }
    pump()
    socket.on('error', () => {})
  })
  await new Promise<void>(resolve => tcp.listen(0, '127.0.0.1', resolve))
  process.stdout.write(JSON.stringify({ peerId: network.peerId, addr: network.getMultiaddrs()[0], cid: record.cid, warmupCid: warm?.cid, port: (tcp.address() as AddressInfo).port }) + '\n')
  // `start` / `stop NAME` lines profile the serving side (--profile); stop when the parent closes stdin
  const commands = createInterface({ input: process.stdin })
  let profiler: Profiler | undefined
  commands.on('line', (line) => {
    void (async () => {
      if (line === 'cpu') {
        const { user, system } = process.cpuUsage()
        process.stdout.write(`${(user + system) / 1000}\n`)
      } else if (line === 'threads') process.stdout.write(JSON.stringify(threadCpu()) + '\n')
      else if (line === 'warm') {
        // every block read once, untimed: a round's sender reads from memory even after the
        // page cache was dropped between contenders (bench/p1.ts, settle())
        for (const cid of await dagOrder(store, record.cid)) await store.getBlock(cid, { verify: false })
        process.stdout.write('warmed\n')
      } else if (line === 'start') profiler = await Profiler.start()
      else if (line.startsWith('stop ')) {
        await profiler?.stop(line.slice(5))
        process.stdout.write('saved\n')
      }
    })()
  })
  await new Promise(resolve => commands.once('close', resolve))
  tcp.close()
  await transfer.stop()
  await network.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
}

/** Pipeline depth per provider (the fetching side's window), when measured against the defaults. */
const windows = {
  ...(values['max-window'] != null ? { maxWindow: Number(values['max-window']) } : {}),
  ...(values['window-seconds'] != null ? { windowSeconds: Number(values['window-seconds']) } : {})
}

/** The yamux overrides, passed on to the serving process. */
const muxArgs = (['mux-message', 'mux-window'] as const).flatMap(k => values[k] != null ? [`--${k}`, String(values[k])] : [])

function median (xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

async function main (): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv.filter(a => !a.startsWith('--trace')), fileURLToPath(import.meta.url), '--serve', '--size', String(values.size), ...muxArgs, ...(values['jit-tuning'] ? ['--jit-tuning'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })
  const info = await new Promise<{ peerId: string, addr: string, cid: string, warmupCid?: string, port: number }>((resolve, reject) => {
    lines.once('line', (line) => { resolve(JSON.parse(line)) })
    child.once('exit', (code) => { reject(new Error(`server exited with ${code}`)) })
  })
  /** Sends the serving process one command line and returns the line it answers. */
  const ask = async (command: string): Promise<string> => {
    const answer = new Promise<string>(resolve => lines.once('line', resolve))
    child.stdin.write(`${command}\n`)
    return await answer
  }
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-fetch-'))
  const { network, store, transfer } = await startPeer(dir)
  await network.dial(info.addr)
  const memDir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-fetch-mem-'))
  const mem = await startPeer(memDir, true)
  await mem.network.dial(info.addr)
  let memTransfer = mem.transfer

  const tcp = async (): Promise<number> => {
    const start = performance.now()
    let got = 0
    await new Promise<void>((resolve, reject) => {
      const socket = connect(info.port, '127.0.0.1')
      socket.on('data', (b: Buffer) => { got += b.byteLength })
      socket.on('end', resolve)
      socket.on('error', reject)
    })
    if (got !== size) throw new Error(`tcp: got ${got} bytes`)
    return performance.now() - start
  }
  const stream = async (): Promise<number> => await profiling(streamOnce, 'stream')
  const streamOnce = async (): Promise<number> => {
    const start = performance.now()
    const s = await network.openStream(info.peerId, RAW_PROTOCOL)
    let got = 0
    for await (const chunk of s.source) got += chunk.byteLength
    await s.close()
    if (got !== size) throw new Error(`stream: got ${got} bytes`)
    return performance.now() - start
  }
  const streamDisk = async (): Promise<number> => await profiling(streamDiskOnce, 'stream-disk')
  const streamDiskOnce = async (): Promise<number> => {
    const path = join(dir, 'stream-disk.bin')
    const start = performance.now()
    // each MiB written as it completes with one synchronous writev, as the store writes a block
    // (src/storage/blockstore.ts): on this machine the cheapest writer found, cheaper than
    // writes in flight through libuv's pool (docs/BENCHMARKS.md, "Blocks written inline")
    const fd = openSync(path, 'w', 0o600)
    try {
      const s = await network.openStream(info.peerId, RAW_PROTOCOL)
      let got = 0
      let at = 0
      let parts: Uint8Array[] = []
      const write = (): void => {
        const n = parts.reduce((sum, b) => sum + b.byteLength, 0)
        const written = writevSync(fd, parts, at)
        if (written !== n) throw new Error(`stream-disk: short write (${written} of ${n})`)
        at += n
        parts = []
      }
      for await (const chunk of s.source) {
        got += chunk.byteLength
        parts.push(chunk.subarray())
        if (got - at >= MiB) write()
      }
      if (parts.length > 0) write()
      await new Promise<void>((resolve, reject) => { fsync(fd, (err) => { if (err != null) reject(err); else resolve() }) })
      await s.close()
      if (got !== size) throw new Error(`stream-disk: got ${got} bytes`)
    } finally {
      closeSync(fd)
      await rm(path, { force: true })
    }
    return performance.now() - start
  }
  const framed = async (): Promise<number> => await profiling(framedOnce, 'framed')
  const framedOnce = async (): Promise<number> => {
    const start = performance.now()
    const s = await network.openStream(info.peerId, FRAMED_PROTOCOL)
    let got = 0
    for await (const frame of lp.decode(s.source, { maxDataLength: 2 * MiB })) {
      const hash = createHash('sha256')
      for (const chunk of frame) hash.update(chunk)
      hash.digest()
      got += frame.byteLength
    }
    await s.close()
    if (got !== size) throw new Error(`framed: got ${got} bytes`)
    return performance.now() - start
  }
  /** --profile DIR: a CPU profile of both sides during each fetch, fetch into memory and stream (DIR/fetch-N.cpuprofile, DIR/serve-N.cpuprofile, DIR/fetch-mem-N…, DIR/stream-N…). */
  const profiled = new Map<string, number>()
  const profiling = async <T>(fn: () => Promise<T>, what = 'fetch'): Promise<T> => {
    if (values.profile == null) return await fn()
    const n = profiled.get(what) ?? 0
    profiled.set(what, n + 1)
    // `start` has no answer; `stop` answers `saved`
    child.stdin.write('start\n')
    const own = await Profiler.start()
    const result = await fn()
    await own.stop(join(values.profile, `${what}-${n}.cpuprofile`))
    await ask(`stop ${join(values.profile, `${what === 'fetch' ? 'serve' : `${what}-serve`}-${n}.cpuprofile`)}`)
    return result
  }
  const fetch = async (): Promise<number> => await profiling(fetchOnce)
  /** Each round starts from an empty store (run before the round's CPU is read: deleting 256 files is not the fetch's cost). */
  const emptyStore = async (): Promise<void> => {
    if (await store.get(info.cid) != null) await store.remove(info.cid)
    await store.gc()
  }
  const fetchOnce = async (): Promise<number> => {
    const start = performance.now()
    const result = await transfer.fetch(info.cid, { providers: [info.peerId] })
    const ms = performance.now() - start
    if (result.size !== size) throw new Error(`fetch: got ${result.size} bytes`)
    return ms
  }

  /** A fresh memory store each round: the transfer restarted over a new one (before the round's CPU is read). */
  const emptyMemory = async (): Promise<void> => {
    await memTransfer.stop()
    memTransfer = createTransfer({ network: mem.network, store: createMemoryBlockStore(), ...windows })
    await memTransfer.start()
  }
  const fetchMem = async (): Promise<number> => {
    return await profiling(async () => {
      const start = performance.now()
      const result = await memTransfer.fetch(info.cid, { providers: [info.peerId] })
      const ms = performance.now() - start
      if (result.size !== size) throw new Error(`fetch-mem: got ${result.size} bytes`)
      return ms
    }, 'fetch-mem')
  }

  const storePut = async (): Promise<number> => {
    // the blocks of the file, read back from the store the fetch filled
    const blocks: Array<[string, Uint8Array]> = []
    for (const cid of await dagOrder(store, info.cid)) blocks.push([cid, await store.getBlock(cid)])
    const putDir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-put-'))
    const target = await createStore({ path: join(putDir, 'store') })
    const start = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < blocks.length) {
        const [cid, bytes] = blocks[next++] ?? ['', new Uint8Array()]
        await target.putBlock(cid, bytes)
      }
    }))
    const ms = performance.now() - start
    await target.close()
    await rm(putDir, { recursive: true, force: true })
    return ms
  }

  const mbs = (ms: number): number => size / MiB / (ms / 1000)
  // every variant, in the order each round runs them and the report lists them: the one list to extend
  const variants: Record<string, () => Promise<number>> = { tcp, stream, 'stream-disk': streamDisk, framed, fetch, 'fetch-mem': fetchMem, 'store-put': storePut }
  const names = Object.keys(variants)
  const perVariant = <T>(init: () => T): Record<string, T> => Object.fromEntries(names.map(n => [n, init()]))
  const best = perVariant(() => Infinity)
  const runs = perVariant((): number[] => [])
  // CPU time of each side (ms per MiB moved): far steadier than wall time on a loaded machine
  const cpuRecv = perVariant((): number[] => [])
  const cpuSend = perVariant((): number[] => [])
  const childCpu = async (): Promise<number> => Number(await ask('cpu'))
  const ownCpu = (): number => { const { user, system } = process.cpuUsage(); return (user + system) / 1000 }
  // --threads: the same CPU split by thread (main user / system, libuv pool, V8 helpers) and GCs, per MiB
  const childThreads = async (): Promise<ThreadCpu> => JSON.parse(await ask('threads'))
  const split: Record<string, { recv: ThreadCpu[], send: ThreadCpu[] }> = {}
  if (info.warmupCid != null) {
    // --warmup: one fetch of a small file first, as Syncthing's pair syncs a warm-up file
    // before it is timed (bench/lib/syncthing.ts): the connection is up and the code has run
    const result = await transfer.fetch(info.warmupCid, { providers: [info.peerId] })
    if (result.size !== warmup) throw new Error(`warm-up fetch: got ${result.size} bytes`)
  }
  // --stepped: each round waits for a line on stdin and ends with a JSON line of its rates
  // (bench/p1.ts alternates these rounds with Syncthing's, in one pair of processes each)
  const steps = values.stepped ? createInterface({ input: process.stdin })[Symbol.asyncIterator]() : undefined
  for (let r = 0; r < rounds; r++) {
    if (steps != null && (await steps.next()).done === true) break
    await ask('warm')
    const roundMiBs: Record<string, number> = {}
    for (const [name, fn] of Object.entries(variants)) {
      if (values.only != null && !values.only.split(',').includes(name)) continue
      if (name === 'fetch') await emptyStore()
      if (name === 'fetch-mem') await emptyMemory()
      if (coldMs > 0) await new Promise(resolve => setTimeout(resolve, coldMs))
      const [t0, u0] = values.threads ? [threadCpu(), await childThreads()] : []
      const [recv0, send0] = [ownCpu(), await childCpu()]
      const ms = await fn()
      const [recv1, send1] = [ownCpu(), await childCpu()]
      if (t0 != null && u0 != null) {
        const [t1, u1] = [threadCpu(), await childThreads()]
        const s = split[name] ??= { recv: [], send: [] }
        s.recv.push(diffCpu(t0, t1))
        s.send.push(diffCpu(u0, u1))
      }
      cpuRecv[name]?.push((recv1 - recv0) / (size / MiB))
      cpuSend[name]?.push((send1 - send0) / (size / MiB))
      runs[name]?.push(ms)
      best[name] = Math.min(best[name] ?? Infinity, ms)
      roundMiBs[name] = +mbs(ms).toFixed(1)
    }
    if (steps != null) process.stdout.write(JSON.stringify({ round: r + 1, MiBs: roundMiBs }) + '\n')
  }
  const fmt = (name: string): string => `${name.padEnd(11)} ${mbs(best[name] ?? 0).toFixed(0).padStart(5)} MiB/s  (${(best[name] ?? 0).toFixed(0)} ms; runs ${runs[name]?.map(ms => ms.toFixed(0)).join(', ')} ms)`
  process.stdout.write(`throughput: ${size / MiB} MiB between two processes on 127.0.0.1, best of ${rounds}\n`)
  process.stdout.write(names.map(n => `${fmt(n)}\n`).join(''))
  for (const name of names) {
    if ((runs[name] ?? []).length === 0) continue
    process.stdout.write(`cpu ${name.padEnd(11)} receiver ${median(cpuRecv[name] ?? []).toFixed(2)} ms/MiB, sender ${median(cpuSend[name] ?? []).toFixed(2)} ms/MiB (median of ${rounds})\n`)
  }
  const perMiB = (xs: ThreadCpu[]): string => {
    const mib = size / MiB
    return (Object.keys(xs[0] ?? {}) as Array<keyof ThreadCpu>).map(k => `${k} ${median(xs.map(x => x[k] / mib)).toFixed(2)}`).join(', ')
  }
  for (const [name, s] of Object.entries(split)) {
    process.stdout.write(`threads ${name.padEnd(11)} receiver: ${perMiB(s.recv)}\n${' '.repeat(20)}sender:   ${perMiB(s.send)} (per MiB, median)\n`)
  }
  // per-round ratios (time of the stream / time of the fetch), median over rounds
  const ratios = (num: string, den: string): number[] => (runs[num] ?? []).map((ms, i) => ms / (runs[den]?.[i] ?? Infinity))
  const fetchVsStream = median(ratios('stream', 'fetch'))
  const memVsStream = median(ratios('stream', 'fetch-mem'))
  const streamVsTcp = median(ratios('tcp', 'stream'))
  const framedVsStream = median(ratios('stream', 'framed'))
  const fetchVsPut = median(ratios('store-put', 'fetch'))
  const fetchVsStreamDisk = median(ratios('stream-disk', 'fetch'))
  const streamDiskVsStream = median(ratios('stream', 'stream-disk'))
  process.stdout.write(`per round fetch / stream: ${ratios('stream', 'fetch').map(r => r.toFixed(2)).join(', ')}; fetch-mem / stream: ${ratios('stream', 'fetch-mem').map(r => r.toFixed(2)).join(', ')}\n`)
  process.stdout.write(`median of ${rounds}: fetch / libp2p stream = ${fetchVsStream.toFixed(2)} (goal >= 0.8); fetch-mem / libp2p stream = ${memVsStream.toFixed(2)}; framed / libp2p stream = ${framedVsStream.toFixed(2)}; fetch / store-put = ${fetchVsPut.toFixed(2)}; fetch / stream-disk = ${fetchVsStreamDisk.toFixed(2)}; stream-disk / stream = ${streamDiskVsStream.toFixed(2)}; libp2p stream / tcp = ${streamVsTcp.toFixed(2)}; load average ${loadavg().map(l => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(JSON.stringify({ sizeMiB: size / MiB, tcpMiBs: +mbs(best.tcp ?? 0).toFixed(1), streamMiBs: +mbs(best.stream ?? 0).toFixed(1), fetchMiBs: +mbs(best.fetch ?? 0).toFixed(1), fetchMemMiBs: +mbs(best['fetch-mem'] ?? 0).toFixed(1), fetchVsStream: +fetchVsStream.toFixed(3), fetchMemVsStream: +memVsStream.toFixed(3), framedMiBs: +mbs(best.framed ?? 0).toFixed(1), framedVsStream: +framedVsStream.toFixed(3), storePutMiBs: +mbs(best['store-put'] ?? 0).toFixed(1), fetchVsStorePut: +fetchVsPut.toFixed(3), streamDiskMiBs: +mbs(best['stream-disk'] ?? 0).toFixed(1), fetchVsStreamDisk: +fetchVsStreamDisk.toFixed(3), streamDiskVsStream: +streamDiskVsStream.toFixed(3), streamVsTcp: +streamVsTcp.toFixed(3), load: loadavg()[0] }) + '\n')

  await transfer.stop()
  await network.stop()
  await store.close()
  await memTransfer.stop()
  await mem.network.stop()
  await mem.store.close()
  child.stdin.end()
  await new Promise(resolve => child.once('exit', resolve))
  await rm(dir, { recursive: true, force: true })
  await rm(memDir, { recursive: true, force: true })
}

if (values.serve) await serve()
else await main()
