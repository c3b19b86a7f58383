/**
 * P1 against its anchors (issue 12): SIZE MiB (default 256) from one process to another, in one
 * private loopback-only network namespace, measured in the same run:
 *
 *   fetch      swarmdrop's fetch between two processes (bench/throughput.ts --stepped: one pair of
 *              processes for every round, a 4 MiB warm-up fetch first, as Syncthing's pair has)
 *   stream     one raw js-libp2p stream on the same stack (tcp + noise + yamux), same bench
 *   stream-disk  the same stream written to one file as it arrives (same bench): the stream's rate
 *              for a receiver that keeps the bytes, as the fetch and Syncthing do
 *   syncthing  two Syncthing instances, folder send-only → receive-only: from the file's
 *              appearance in A's folder until B has it whole (sha256 checked); also split into
 *              A's hashing (scan until indexed) and the pull that follows
 *
 * Goals: fetch / stream >= 0.8, fetch / syncthing >= 1.0. Each round runs both; a ratio is taken
 * within a round and the median over rounds reported. Each starts after `sync` and a drop of the page
 * cache, Syncthing's source read back in (bench/lib/procs.ts, settle()): no one runs while what the one
 * before wrote is written back, nor writes into the memory that the one before left cold.
 *
 * --cold-ms MS: each contender starts MS after the memory it will write into was freed (after
 * settle(), and in bench/throughput.ts after the files of the variant before are removed). This
 * machine hands memory freed more than about a second ago back to its host, and writing a file
 * into it costs the writer ~10 times the kernel CPU (docs/BENCHMARKS.md, "Memory freed a second
 * ago"); without it each contender writes partly into memory just freed, as on bare metal.
 *
 * Usage: npm run bench -- p1 [--size 256] [--rounds 1] [--json] [--cold-ms 2500]
 * Needs root (unshare, apt-get); installs syncthing when missing.
 */
import '../src/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { assertPrivateNetns, enterPrivateNetns, insidePrivateNetns, load } from './lib/netns.js'
import { median, Procs, settle } from './lib/procs.js'
import { waitFor } from '../src/util/wait.js'
import { startSyncthingPair, type SyncResult } from './lib/syncthing.js'
import { ensureTools, versions } from './lib/tools.js'

const MiB = 1024 * 1024
const TOOLS = ['syncthing', 'setpriv', 'unshare']
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'cold-ms': { type: 'string', default: '0' }
  }
})
const coldMs = Number(values['cold-ms'])
if (!(coldMs >= 0)) throw new Error('--cold-ms must be a time in ms >= 0')
const sizeMiB = Number(values.size)
const rounds = Number(values.rounds)
if (!(sizeMiB > 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error('--size must be > 0 and --rounds a whole number >= 1')

/** A file of fresh random bytes (Syncthing would deduplicate repeated blocks). */
async function randomFile (path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path)
  for (let n = 0; n < bytes; n += MiB) {
    if (!out.write(randomBytes(Math.min(MiB, bytes - n)))) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
}

async function main (): Promise<void> {
  assertPrivateNetns()
  const loadStart = load()
  const tools = versions(['syncthing'])
  const say = (line: string): void => { process.stderr.write(`${line}\n`) }
  say(`p1: ${sizeMiB} MiB, ${rounds} round(s), private namespace with only loopback; load average at start ${loadStart}`)
  say(`tools: ${Object.values(tools).join('; ')}`)
  const procs = new Procs()
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-p1-'))
  const perRound: Array<{ fetchMiBs: number, streamMiBs: number, streamDiskMiBs: number, syncthing: SyncResult }> = []
  try {
    // both pairs live through every round and each moved a warm-up file first, as a user's nodes
    // would: Syncthing's pair syncs a 4 MiB file (bench/lib/syncthing.ts), swarmdrop's fetches one
    const pair = await startSyncthingPair(procs, dir)
    const swarmdrop = await startSwarmdropPair(procs)
    for (let r = 0; r < rounds; r++) {
      settle()
      const tp = await swarmdrop.round(900_000)
      const source = join(dir, `p1-${r}.bin`)
      await randomFile(source, sizeMiB * MiB)
      settle([source])
      if (coldMs > 0) await new Promise(resolve => setTimeout(resolve, coldMs))
      const syncthing = await pair.sync(source, `p1-${r}.bin`, 600_000)
      perRound.push({ fetchMiBs: tp.fetch, streamMiBs: tp.stream, streamDiskMiBs: tp['stream-disk'], syncthing })
      say(`round ${r + 1}: fetch ${tp.fetch} MiB/s, raw libp2p stream ${tp.stream} MiB/s, the stream to disk ${tp['stream-disk']} MiB/s, syncthing ${rate(syncthing.totalMs).toFixed(1)} MiB/s ` +
        `(${syncthing.totalMs.toFixed(0)} ms = ${syncthing.indexedMs.toFixed(0)} ms hashing on A + ${syncthing.pullMs.toFixed(0)} ms pull by B)`)
    }
    await swarmdrop.stop()
    await pair.stop()
  } finally {
    await procs.stopAll()
    await rm(dir, { recursive: true, force: true })
  }
  const loadEnd = load()
  const result = {
    bench: 'p1',
    sizeMiB,
    rounds,
    fetchMiBs: round(median(perRound.map(r => r.fetchMiBs))),
    streamMiBs: round(median(perRound.map(r => r.streamMiBs))),
    streamDiskMiBs: round(median(perRound.map(r => r.streamDiskMiBs))),
    syncthingMiBs: round(median(perRound.map(r => rate(r.syncthing.totalMs)))),
    syncthingPullMiBs: round(median(perRound.map(r => rate(r.syncthing.pullMs)))),
    fetchVsStream: round(median(perRound.map(r => r.fetchMiBs / r.streamMiBs)), 3),
    fetchVsStreamDisk: round(median(perRound.map(r => r.fetchMiBs / r.streamDiskMiBs)), 3),
    perRound: perRound.map(r => ({ fetchMiBs: r.fetchMiBs, streamMiBs: r.streamMiBs, streamDiskMiBs: r.streamDiskMiBs, syncthingMiBs: round(rate(r.syncthing.totalMs)) })),
    fetchVsSyncthing: round(median(perRound.map(r => r.fetchMiBs / rate(r.syncthing.totalMs))), 3),
    fetchVsSyncthingPull: round(median(perRound.map(r => r.fetchMiBs / rate(r.syncthing.pullMs))), 3),
    versions: tools,
    coldMs,
    loadStart,
    loadEnd
  }
  say(`fetch / raw libp2p stream = ${result.fetchVsStream} (goal >= 0.8); fetch / the stream written to disk = ${result.fetchVsStreamDisk}`)
  say(`fetch / syncthing = ${result.fetchVsSyncthing} (goal >= 1.0; syncthing from appearance to complete); fetch / syncthing's pull alone = ${result.fetchVsSyncthingPull}`)
  say(`load average at end ${loadEnd}`)
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `p1 ${sizeMiB} MiB: fetch/raw ${result.fetchVsStream}, fetch/syncthing ${result.fetchVsSyncthing}\n`)
}

/**
 * swarmdrop's pair: bench/throughput.ts in its stepped mode (two processes, one connection, a
 * 4 MiB warm-up fetch first), one round of stream, stream-disk and fetch per `round()`.
 */
async function startSwarmdropPair (procs: Procs): Promise<{ round: (timeout: number) => Promise<{ fetch: number, stream: number, 'stream-disk': number }>, stop: () => Promise<void> }> {
  const script = new URL('./throughput.js', import.meta.url).pathname
  const proc = procs.spawn('throughput', process.execPath, [script, '--size', String(sizeMiB), '--rounds', String(rounds), '--only', 'stream,stream-disk,fetch', '--warmup', '4', '--stepped', '--cold-ms', String(coldMs)], { capture: true })
  let seen = 0
  const results = (): Array<{ round: number, MiBs: Record<string, number> }> =>
    proc.stdout().split('\n').filter(l => l.startsWith('{"round"')).map(l => JSON.parse(l))
  return {
    round: async (timeout) => {
      proc.child.stdin?.write('go\n')
      await waitFor(() => proc.exit != null || results().length > seen, { timeout, interval: 50, message: 'swarmdrop\'s round to finish' })
      const got = results()[seen++]
      if (got == null) throw new Error(`swarmdrop's throughput bench exited (${JSON.stringify(proc.exit)}): ${proc.stderr().slice(-2000)}`)
      const [fetch = 0, stream = 0, streamDisk = 0] = [got.MiBs.fetch, got.MiBs.stream, got.MiBs['stream-disk']]
      if (!(fetch > 0 && stream > 0 && streamDisk > 0)) throw new Error(`swarmdrop's round lacks a rate: ${JSON.stringify(got)}`)
      return { fetch, stream, 'stream-disk': streamDisk }
    },
    stop: async () => {
      proc.child.stdin?.end()
      await waitFor(() => proc.exit != null, { timeout: 60_000, interval: 50, message: 'swarmdrop\'s throughput bench to exit' })
      for (const line of proc.stdout().trim().split('\n')) process.stderr.write(`  | ${line}\n`)
      if (proc.exit?.code !== 0) throw new Error(`swarmdrop's throughput bench exited with ${JSON.stringify(proc.exit)}`)
    }
  }
}

function rate (ms: number): number {
  return sizeMiB / (ms / 1000)
}

function round (x: number, digits = 1): number {
  return Number(x.toFixed(digits))
}

if (insidePrivateNetns()) {
  await main()
} else {
  ensureTools(TOOLS)
  process.exitCode = await enterPrivateNetns(fileURLToPath(import.meta.url))
}
