/**
 * P2 against its anchor (issue 12): a SIZE MiB file (default 64) from one sharer to N fetchers
 * (default 8) at once, each its own process, in one private loopback-only network namespace,
 * measured in the same run:
 *
 *   swarmdrop     bench/distribution.ts: its wall time until all N have the file (processes
 *                 started and connected first) and the sharer's upload from its transfer stats;
 *                 every block is checked against its CID (sha256) as it lands
 *   aria2-plain   BitTorrent: opentracker, one seeding aria2c, N leeching aria2c started together,
 *                 1 MiB pieces, DHT/LPD/PEX off (bench/lib/aria2.ts); wall time from spawning the
 *                 leechers (their start-up and tracker announce count against aria2) until the
 *                 last has every piece; the seeder's upload counted by nftables; sha256 of every copy
 *   aria2-crypto  the same with --bt-require-crypto=true --bt-min-crypto-level=arc4
 *
 * Each starts after `sync` and a drop of the page cache, the seed file read back in (bench/lib/procs.ts,
 * settle()): no one runs while the copies of the one before are written back, nor writes its own
 * into the memory that the one before left cold.
 *
 * Goals: swarmdrop wall <= 1.0 x aria2-crypto (stretch: <= aria2-plain), sharer upload <= 1.5 x
 * the file; at 16 fetchers, every fetcher finishes and the sharer uploads <= 2 x.
 *
 * Usage: npm run bench -- p2 [--size 64] [--fetchers 8] [--json]
 * Needs root (unshare, nft, apt-get); installs aria2, opentracker, mktorrent, nftables when missing.
 */
import '../src/polyfill.js'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeTorrent, runBitTorrent, type BitTorrentResult } from './lib/aria2.js'
import { assertPrivateNetns, enterPrivateNetns, insidePrivateNetns, load } from './lib/netns.js'
import { Procs, runSwarmdropBench, settle } from './lib/procs.js'
import { ensureTools, versions } from './lib/tools.js'

const MiB = 1024 * 1024
const TOOLS = ['aria2c', 'opentracker', 'mktorrent', 'nft', 'setpriv', 'unshare']
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    fetchers: { type: 'string', default: '8' },
    json: { type: 'boolean', default: false }
  }
})
const sizeMiB = Number(values.size)
const fetchers = Number(values.fetchers)
// leechers take 127.0.0.10 upwards
if (!(sizeMiB > 0) || !Number.isInteger(fetchers) || fetchers < 1 || fetchers > 200) throw new Error('--size must be > 0 and --fetchers a whole number from 1 to 200')

async function main (): Promise<void> {
  assertPrivateNetns()
  const loadStart = load()
  const tools = versions(['aria2c', 'opentracker', 'mktorrent', 'nft'])
  const say = (line: string): void => { process.stderr.write(`${line}\n`) }
  say(`p2: ${sizeMiB} MiB to ${fetchers} fetchers, private namespace with only loopback; load average at start ${loadStart}`)
  say(`tools: ${Object.values(tools).join('; ')}`)
  const size = sizeMiB * MiB
  // generous bounds that only catch hangs
  const timeout = 120_000 + 2_000 * sizeMiB * Math.max(1, fetchers / 4)
  const procs = new Procs()
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-p2-'))
  let plain: BitTorrentResult, crypto: BitTorrentResult
  let swarm: { wallMs: number, sharerUploadRatio: number } | undefined
  let swarmFailed: string | undefined
  try {
    await mkdir(join(dir, 'seed'))
    const file = join(dir, 'seed', 'bench.bin')
    await writeFile(file, randomBytes(size))
    const torrent = makeTorrent(dir, file)
    settle([file])
    plain = await runBitTorrent(procs, dir, torrent, { leechers: fetchers, crypto: false, timeout })
    say(describe('aria2 plain', plain, size))
    settle([file])
    crypto = await runBitTorrent(procs, dir, torrent, { leechers: fetchers, crypto: true, timeout })
    say(describe('aria2 crypto', crypto, size))
    settle([file])
    try {
      const r = await runSwarmdropBench(procs, 'distribution', ['--size', String(sizeMiB), '--fetchers', String(fetchers)], timeout, ['wallMs', 'sharerUploadRatio'])
      swarm = { wallMs: r.wallMs, sharerUploadRatio: r.sharerUploadRatio }
      say(`swarmdrop: wall ${swarm.wallMs} ms, sharer uploaded ${swarm.sharerUploadRatio} x the file (transfer stats)`)
    } catch (err) {
      // the engine under test failing is a result, not a broken harness: report it with the anchors
      swarmFailed = (err as Error).message
      say(`swarmdrop: FAILED: ${swarmFailed}`)
    }
  } finally {
    await procs.stopAll()
    await rm(dir, { recursive: true, force: true })
  }
  const loadEnd = load()
  const result = {
    bench: 'p2',
    sizeMiB,
    fetchers,
    swarmdropFailed: swarmFailed ?? null,
    swarmdropWallMs: swarm?.wallMs ?? null,
    aria2PlainWallMs: plain.wallMs,
    aria2CryptoWallMs: crypto.wallMs,
    aria2PlainAnnouncedMs: plain.announcedMs,
    aria2CryptoAnnouncedMs: crypto.announcedMs,
    wallVsAria2Crypto: swarm != null ? round(swarm.wallMs / crypto.wallMs) : null,
    wallVsAria2Plain: swarm != null ? round(swarm.wallMs / plain.wallMs) : null,
    swarmdropSharerUpload: swarm?.sharerUploadRatio ?? null,
    aria2PlainSeederUpload: round(plain.seederUploadNft / size),
    aria2CryptoSeederUpload: round(crypto.seederUploadNft / size),
    aria2PlainSeederUploadOwnStats: round(plain.seederUploadAria2 / size),
    aria2CryptoSeederUploadOwnStats: round(crypto.seederUploadAria2 / size),
    versions: tools,
    loadStart,
    loadEnd
  }
  if (swarm != null) {
    say(`swarmdrop wall / aria2-crypto = ${result.wallVsAria2Crypto} (goal <= 1.0); / aria2-plain = ${result.wallVsAria2Plain} (stretch <= 1.0)`)
    say(`sharer upload / file: swarmdrop ${result.swarmdropSharerUpload} (goal <= ${fetchers >= 16 ? 2 : 1.5}); aria2 seeder plain ${result.aria2PlainSeederUpload}, crypto ${result.aria2CryptoSeederUpload} (nftables)`)
  } else {
    say(`no swarmdrop ratios: its distribution failed; aria2 seeder upload / file: plain ${result.aria2PlainSeederUpload}, crypto ${result.aria2CryptoSeederUpload} (nftables)`)
  }
  say(`load average at end ${loadEnd}`)
  if (swarmFailed != null) process.exitCode = 1
  process.stdout.write(values.json
    ? `${JSON.stringify(result)}\n`
    : `p2 ${sizeMiB} MiB to ${fetchers}: wall swarmdrop/aria2-crypto ${result.wallVsAria2Crypto}, swarmdrop/aria2-plain ${result.wallVsAria2Plain}; sharer upload swarmdrop ${result.swarmdropSharerUpload}, aria2 ${result.aria2PlainSeederUpload}/${result.aria2CryptoSeederUpload}\n`)
}

function describe (name: string, r: BitTorrentResult, size: number): string {
  return `${name}: wall ${r.wallMs} ms (per leecher ${r.perLeecherMs.join(', ')} ms; all announced to the tracker by ${r.announcedMs} ms); seeder uploaded ${(r.seederUploadNft / size).toFixed(2)} x the file ` +
    `by nftables (from its listening port alone ${(r.seederUploadNftPort / size).toFixed(2)} x), ${(r.seederUploadAria2 / size).toFixed(2)} x by aria2's own count; every copy's sha256 checked`
}

function round (x: number, digits = 2): number {
  return Number(x.toFixed(digits))
}

if (insidePrivateNetns()) {
  await main()
} else {
  ensureTools(TOOLS)
  process.exitCode = await enterPrivateNetns(fileURLToPath(import.meta.url))
}
