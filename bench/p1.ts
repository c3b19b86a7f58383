/**
 * P1 against its anchors (issue 12): SIZE MiB (default 256) from one process to another, in one
 * private loopback-only network namespace, measured in the same run:
 *
 *   fetch      swarmdrop's fetch between two processes (bench/throughput.ts, one round)
 *   stream     one raw js-libp2p stream on the same stack (tcp + noise + yamux), same bench
 *   stream-disk  the same stream written to one file as it arrives (same bench): the stream's rate
 *              for a receiver that keeps the bytes, as the fetch and Syncthing do
 *   syncthing  two Syncthing instances, folder send-only → receive-only: from the file's
 *              appearance in A's folder until B has it whole (sha256 checked); also split into
 *              A's hashing (scan until indexed) and the pull that follows
 *
 * Goals: fetch / stream >= 0.8, fetch / syncthing >= 1.0. Each round runs both; a ratio is taken
 * within a round and the median over rounds reported. Each starts after `sync` (bench/lib/procs.ts,
 * settle()): no one runs while what the one before wrote is written back.
 *
 * Usage: npm run bench -- p1 [--size 256] [--rounds 1] [--json]
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
import { median, Procs, runSwarmdropBench, settle } from './lib/procs.js'
import { startSyncthingPair, type SyncResult } from './lib/syncthing.js'
import { ensureTools, versions } from './lib/tools.js'

const MiB = 1024 * 1024
const TOOLS = ['syncthing', 'setpriv', 'unshare']
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false }
  }
})
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
  const perRound: Array<{ fetchMiBs: number, streamMiBs: number, fetchVsStream: number, streamDiskMiBs: number, fetchVsStreamDisk: number, syncthing: SyncResult }> = []
  try {
    const pair = await startSyncthingPair(procs, dir)
    for (let r = 0; r < rounds; r++) {
      settle()
      const tp = await runSwarmdropBench(procs, 'throughput', ['--size', String(sizeMiB), '--rounds', '1'], 900_000, ['fetchMiBs', 'streamMiBs', 'fetchVsStream', 'streamDiskMiBs', 'fetchVsStreamDisk'])
      const source = join(dir, `p1-${r}.bin`)
      await randomFile(source, sizeMiB * MiB)
      settle()
      const syncthing = await pair.sync(source, `p1-${r}.bin`, 600_000)
      perRound.push({ fetchMiBs: tp.fetchMiBs, streamMiBs: tp.streamMiBs, fetchVsStream: tp.fetchVsStream, streamDiskMiBs: tp.streamDiskMiBs, fetchVsStreamDisk: tp.fetchVsStreamDisk, syncthing })
      say(`round ${r + 1}: fetch ${tp.fetchMiBs} MiB/s, raw libp2p stream ${tp.streamMiBs} MiB/s, the stream to disk ${tp.streamDiskMiBs} MiB/s, syncthing ${rate(syncthing.totalMs).toFixed(1)} MiB/s ` +
        `(${syncthing.totalMs.toFixed(0)} ms = ${syncthing.indexedMs.toFixed(0)} ms hashing on A + ${syncthing.pullMs.toFixed(0)} ms pull by B)`)
    }
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
    fetchVsStream: round(median(perRound.map(r => r.fetchVsStream)), 3),
    fetchVsStreamDisk: round(median(perRound.map(r => r.fetchVsStreamDisk)), 3),
    fetchVsSyncthing: round(median(perRound.map(r => r.fetchMiBs / rate(r.syncthing.totalMs))), 3),
    fetchVsSyncthingPull: round(median(perRound.map(r => r.fetchMiBs / rate(r.syncthing.pullMs))), 3),
    versions: tools,
    loadStart,
    loadEnd
  }
  say(`fetch / raw libp2p stream = ${result.fetchVsStream} (goal >= 0.8); fetch / the stream written to disk = ${result.fetchVsStreamDisk}`)
  say(`fetch / syncthing = ${result.fetchVsSyncthing} (goal >= 1.0; syncthing from appearance to complete); fetch / syncthing's pull alone = ${result.fetchVsSyncthingPull}`)
  say(`load average at end ${loadEnd}`)
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `p1 ${sizeMiB} MiB: fetch/raw ${result.fetchVsStream}, fetch/syncthing ${result.fetchVsSyncthing}\n`)
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
