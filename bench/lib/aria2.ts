/**
 * The BitTorrent anchor for P2: an opentracker on 127.0.0.1:6969, one seeding aria2c on
 * 127.0.0.2 and N leeching aria2c processes on 127.0.0.10, .11, ... started together; the
 * torrent is private with 1 MiB pieces (mktorrent -p -l 20). Call it only inside the bench's
 * private namespace (bench/lib/netns.ts): the tracker is the only peer source, with DHT, local
 * peer discovery and PEX off.
 *
 * Wall time runs from just before the leechers are spawned until the last one's
 * --on-bt-download-complete hook fires (they keep seeding each other until all are done). The
 * seeder's upload is counted by nftables in the namespace (every TCP packet it sends except to
 * the tracker; IP and TCP headers included), and also read from aria2's RPC for comparison.
 * Every copy's sha256 is checked.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { waitFor } from '../../src/util/wait.js'
import { assertLoopback, type Procs } from './procs.js'

const TRACKER = '127.0.0.1'
const TRACKER_PORT = 6969
const SEEDER = '127.0.0.2'
const SEEDER_PORT = 7000
const RPC_PORT = 6800
const TABLE = 'swarmdrop_anchors'

/** Flags on every aria2c: nothing but the tracker on loopback. */
export const COMMON = [
  '--no-conf=true', '--disable-ipv6=true',
  '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
  '--seed-ratio=0.0', '--file-allocation=none', '--summary-interval=0', '--console-log-level=warn',
  '--bt-stop-timeout=0', `--stop-with-process=${process.pid}`
]
export const CRYPTO = ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4']

export interface Torrent { path: string, infoHash: string, file: string }

export interface BitTorrentResult {
  crypto: boolean
  leechers: number
  wallMs: number
  perLeecherMs: number[]
  /** When the tracker had heard from every leecher (0 if they were done first); polled every 100 ms. */
  announcedMs: number
  /** Bytes the seeder sent, counted by nftables (all its TCP except to the tracker). */
  seederUploadNft: number
  /** The same, only packets from its listening port. */
  seederUploadNftPort: number
  /** What aria2 itself says it uploaded. */
  seederUploadAria2: number
}

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** A private torrent of `file` with 1 MiB pieces announcing to the loopback tracker (or to `announce`, bench/shaped.ts's lab tracker). */
export function makeTorrent (dir: string, file: string, announce = `http://${TRACKER}:${TRACKER_PORT}/announce`): Torrent {
  const path = join(dir, 'bench.torrent')
  const mk = spawnSync('mktorrent', ['-p', '-l', '20', '-a', announce, '-o', path, file], { encoding: 'utf8' })
  if (mk.status !== 0) throw new Error(`mktorrent failed: ${mk.stderr}`)
  const show = spawnSync('aria2c', ['-S', path], { encoding: 'utf8' })
  const infoHash = /Info Hash: ([0-9a-f]{40})/.exec(show.stdout)?.[1]
  if (infoHash == null) throw new Error(`no info hash in: ${show.stdout}`)
  return { path, infoHash, file }
}

function nft (...args: string[]): string {
  const r = spawnSync('nft', args, { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`nft ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** Fresh counters for the seeder's outgoing packets (this namespace only). */
function setUpCounters (): void {
  spawnSync('nft', ['delete', 'table', 'inet', TABLE])
  nft('add', 'table', 'inet', TABLE)
  nft('add', 'counter', 'inet', TABLE, 'seeder_addr')
  nft('add', 'counter', 'inet', TABLE, 'seeder_port')
  nft('add', 'chain', 'inet', TABLE, 'out', '{ type filter hook output priority 0 ; policy accept ; }')
  nft('add', 'rule', 'inet', TABLE, 'out', 'ip', 'saddr', SEEDER, 'tcp', 'dport', '!=', String(TRACKER_PORT), 'counter', 'name', 'seeder_addr')
  nft('add', 'rule', 'inet', TABLE, 'out', 'ip', 'saddr', SEEDER, 'tcp', 'sport', String(SEEDER_PORT), 'counter', 'name', 'seeder_port')
}

function readCounter (name: string): number {
  const json = JSON.parse(nft('-j', 'list', 'counter', 'inet', TABLE, name)) as { nftables: Array<{ counter?: { bytes: number } }> }
  const counter = json.nftables.find(e => e.counter != null)?.counter
  if (counter == null) throw new Error(`no nft counter ${name}`)
  return counter.bytes
}

/** Peers the tracker knows for the torrent: seeders (complete) and leechers (incomplete). */
async function trackerPeers (infoHash: string): Promise<{ complete: number, incomplete: number }> {
  const escaped = infoHash.replace(/../g, h => `%${h}`)
  const url = `http://${TRACKER}:${TRACKER_PORT}/scrape?info_hash=${escaped}`
  assertLoopback(url)
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
  const text = Buffer.from(await res.arrayBuffer()).toString('latin1')
  return { complete: Number(/8:completei(\d+)e/.exec(text)?.[1] ?? 0), incomplete: Number(/10:incompletei(\d+)e/.exec(text)?.[1] ?? 0) }
}

async function seederUploaded (): Promise<number> {
  const url = `http://127.0.0.1:${RPC_PORT}/jsonrpc`
  assertLoopback(url)
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: '1', method: 'aria2.tellActive', params: [['uploadLength']] }), signal: AbortSignal.timeout(2000) })
  const json = await res.json() as { result?: Array<{ uploadLength: string }> }
  return (json.result ?? []).reduce((n, d) => n + Number(d.uploadLength), 0)
}

/**
 * The files of one run under `run`: the tracker's folder with its whitelist (only `torrent`), and
 * the completion hook each leecher runs (it writes the time to $ANCHOR_DONE_FILE).
 */
export async function prepareRun (run: string, torrent: Torrent): Promise<{ otDir: string, hook: string }> {
  const otDir = join(run, 'tracker')
  await mkdir(otDir, { recursive: true, mode: 0o755 })
  await chmod(otDir, 0o755)
  await writeFile(join(otDir, 'whitelist.txt'), `${torrent.infoHash}\n`, { mode: 0o644 })
  const hook = join(run, 'done.sh')
  await writeFile(hook, '#!/bin/sh\ndate +%s%N > "$ANCHOR_DONE_FILE"\n', { mode: 0o755 })
  return { otDir, hook }
}

/**
 * One BitTorrent distribution of `torrent` to `leechers` fresh aria2c processes, with its own
 * tracker and seeder (so nothing carries over between runs). Everything it starts is stopped.
 */
export async function runBitTorrent (procs: Procs, dir: string, torrent: Torrent, options: { leechers: number, crypto: boolean, timeout: number }): Promise<BitTorrentResult> {
  const run = join(dir, options.crypto ? 'bt-crypto' : 'bt-plain')
  const { otDir, hook } = await prepareRun(run, torrent)
  const flags = [...COMMON, ...(options.crypto ? CRYPTO : [])]
  const started = []
  try {
    setUpCounters()
    // opentracker chroots into its folder and drops to nobody: the whitelist path is inside the chroot
    started.push(procs.spawn('opentracker', 'opentracker', ['-i', TRACKER, '-p', String(TRACKER_PORT), '-P', String(TRACKER_PORT), '-d', otDir, '-u', 'nobody', '-w', '/whitelist.txt'], { log: join(run, 'tracker.log') }))
    await waitFor(async () => await trackerPeers(torrent.infoHash).then(() => true, () => false), { timeout: 10_000, interval: 100, message: 'opentracker to answer' })
    const seedDir = join(torrent.file, '..')
    started.push(procs.spawn('aria2-seeder', 'aria2c', [...flags, `--interface=${SEEDER}`, `--listen-port=${SEEDER_PORT}`, '--bt-seed-unverified=true',
      '--enable-rpc=true', '--rpc-listen-all=false', `--rpc-listen-port=${RPC_PORT}`, '-d', seedDir, torrent.path], { log: join(run, 'seeder.log') }))
    await waitFor(async () => await seederUploaded().then(() => true, () => false), { timeout: 10_000, interval: 100, message: 'the aria2 seeder\'s RPC to answer' })
    await waitFor(async () => (await trackerPeers(torrent.infoHash).catch(() => undefined))?.complete === 1, { timeout: 15_000, interval: 100, message: 'the seeder to register with the tracker' })

    const doneFiles = Array.from({ length: options.leechers }, (_, i) => join(run, `leecher-${i}.done`))
    const start = Date.now()
    const leechers = doneFiles.map((done, i) => procs.spawn(`aria2-leecher-${i}`, 'aria2c', [...flags, `--interface=127.0.0.${10 + i}`, `--listen-port=${7010 + i}`,
      `--on-bt-download-complete=${hook}`, '-d', join(run, `leecher-${i}`), torrent.path], { log: join(run, `leecher-${i}.log`), env: { ANCHOR_DONE_FILE: done } }))
    started.push(...leechers)
    const doneAt: Array<number | undefined> = doneFiles.map(() => undefined)
    let announced = 0
    let polled = 0
    await waitFor(async () => {
      // when the tracker has heard from every leecher (polled every 100 ms): their start-up cost
      if (announced === 0 && Date.now() - polled >= 100) {
        polled = Date.now()
        const peers = await trackerPeers(torrent.infoHash).catch(() => undefined)
        if (peers != null && peers.complete + peers.incomplete >= options.leechers + 1) announced = Date.now() - start
      }
      for (const [i, f] of doneFiles.entries()) {
        if (doneAt[i] != null) continue
        const text = await readFile(f, 'utf8').catch(() => '')
        if (/^\d+\n$/.test(text)) doneAt[i] = Number(BigInt(text.trim()) / 1_000_000n)
      }
      const dead = leechers.find(l => l.exit != null)
      if (dead != null) throw new Error(`${dead.name} exited early (${JSON.stringify(dead.exit)}):\n${dead.tail()}`)
      return doneAt.every(t => t != null)
    }, { timeout: options.timeout, interval: 25, message: () => `all ${options.leechers} aria2c leechers to finish (${doneAt.filter(t => t != null).length} did); leecher 0 log:\n${leechers[0]?.tail()}` })
    const perLeecherMs = doneAt.map(t => (t ?? 0) - start)
    const seederUploadAria2 = await seederUploaded()
    const seederUploadNft = readCounter('seeder_addr')
    const seederUploadNftPort = readCounter('seeder_port')
    await procs.stop(started)
    started.length = 0
    const want = await sha256File(torrent.file)
    for (let i = 0; i < options.leechers; i++) {
      const got = await sha256File(join(run, `leecher-${i}`, basename(torrent.file)))
      if (got !== want) throw new Error(`aria2 leecher ${i}: sha256 ${got}, want ${want}`)
    }
    return { crypto: options.crypto, leechers: options.leechers, wallMs: Math.max(...perLeecherMs), perLeecherMs, announcedMs: announced, seederUploadNft, seederUploadNftPort, seederUploadAria2 }
  } finally {
    await procs.stop(started)
    spawnSync('nft', ['delete', 'table', 'inet', TABLE])
  }
}
