/**
 * swarmdrop vs Helia bitswap (issue 8 anchor): the same file, on this machine, in the same run.
 *
 *   swarmdrop  a sharer node in a child process shares the file; a fetcher node in this process
 *              fetches it (`node.fetch`: verified, written to its on-disk store)
 *   helia      bench/helia/fetch.mjs --file F under Node 22 (two Helia nodes over bitswap,
 *              TCP + Noise + Yamux on 127.0.0.1; sharer in a child process; `--store fs` so both
 *              sides keep blocks on disk as swarmdrop does, and the default in-memory store too)
 *
 * Rounds alternate swarmdrop / helia so both see the same load; the ratio is taken per round.
 * Usage: npm run bench -- helia [--size 256] [--rounds 2]
 * Needs the Helia folder installed once: npx -y -p node@22 -c 'npm ci --prefix bench/helia'
 * (this script runs that itself when bench/helia/node_modules is missing).
 */
import '../src/polyfill.js'
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { createSwarmNode } from '../src/node/index.js'
import { waitFor } from '../src/util/wait.js'

const MiB = 1024 * 1024
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const HELIA_DIR = join(ROOT, 'bench', 'helia')

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '2' },
    serve: { type: 'string' },
    repo: { type: 'string' }
  }
})

if (values.serve != null) {
  // child: the sharer
  const node = await createSwarmNode({ repo: values.repo!, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, name: 'sharer' })
  const rec = await node.share(values.serve, { name: 'bench.bin' })
  process.stdout.write(JSON.stringify({ addr: node.getMultiaddrs()[0], cid: rec.cid }) + '\n')
  process.stdin.resume()
  process.stdin.on('end', () => { void node.stop() })
} else {
  await main()
}

async function writeFile (path: string, size: number): Promise<void> {
  // seeded pseudo-random bytes (sha256 counter mode): incompressible, reproducible
  const fh = await open(path, 'w')
  let counter = 0
  for (let written = 0; written < size;) {
    const block = Buffer.alloc(Math.min(MiB, size - written))
    for (let off = 0; off < block.length; off += 32) {
      createHash('sha256').update(`swarmdrop-bench-${counter++}`).digest().copy(block, off)
    }
    await fh.write(block)
    written += block.length
  }
  await fh.close()
}

async function swarmdropRound (file: string, dir: string, round: number): Promise<{ ms: number, cid: string }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', file, '--repo', join(dir, `sharer-${round}`)], { stdio: ['pipe', 'pipe', 'inherit'] })
  try {
    const { addr, cid } = await new Promise<{ addr: string, cid: string }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', l => { resolve(JSON.parse(l)) })
      child.once('exit', code => { reject(new Error(`sharer exited with ${code}`)) })
    })
    const node = await createSwarmNode({ repo: join(dir, `fetcher-${round}`), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, name: 'fetcher' })
    try {
      await node.dial(addr)
      // like Helia's B waiting for identify: time the transfer, not the announcement
      await waitFor(() => node.protocol.entry(cid) != null, { timeout: 30_000, message: 'the announcement' })
      const start = performance.now()
      await node.fetch(cid, { timeout: 60_000 })
      const ms = performance.now() - start
      return { ms, cid }
    } finally {
      await node.stop()
    }
  } finally {
    child.stdin.end()
    await new Promise(resolve => child.once('close', resolve))
  }
}

async function heliaRound (file: string, store: 'fs' | 'memory'): Promise<{ ms: number, cid: string, version: string }> {
  const { stdout } = await promisify(execFile)('npx', ['-y', '-p', 'node@22', '-c', `node bench/helia/fetch.mjs --file '${file}' --store ${store} --json`], { cwd: ROOT, maxBuffer: 16 * MiB })
  const line = stdout.trim().split('\n').pop() ?? '{}'
  const r = JSON.parse(line)
  return { ms: r.ms, cid: r.cid, version: r.heliaVersion }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function main (): Promise<void> {
  const size = Number(values.size) * MiB
  const rounds = Number(values.rounds)
  if (!existsSync(join(HELIA_DIR, 'node_modules'))) {
    process.stderr.write('installing bench/helia under Node 22 (once)...\n')
    await promisify(execFile)('npx', ['-y', '-p', 'node@22', '-c', 'npm ci --prefix bench/helia --no-audit --no-fund'], { cwd: ROOT })
  }
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-helia-'))
  try {
    const file = join(dir, 'bench.bin')
    await writeFile(file, size)
    // warm the page cache for everyone
    for await (const chunk of createReadStream(file)) void chunk
    const rows: Array<{ swarmdrop: number, heliaFs: number, heliaMem: number }> = []
    let version = ''
    for (let r = 0; r < rounds; r++) {
      const s = await swarmdropRound(file, dir, r)
      const hf = await heliaRound(file, 'fs')
      const hm = await heliaRound(file, 'memory')
      if (hf.cid !== s.cid || hm.cid !== s.cid) throw new Error(`CIDs differ: swarmdrop ${s.cid}, helia ${hf.cid}`)
      version = hf.version
      rows.push({ swarmdrop: s.ms, heliaFs: hf.ms, heliaMem: hm.ms })
      process.stderr.write(`round ${r + 1}: swarmdrop ${s.ms.toFixed(0)} ms, helia (fs) ${hf.ms} ms, helia (memory) ${hm.ms} ms\n`)
    }
    const mibps = (ms: number): number => +(size / MiB / (ms / 1000)).toFixed(1)
    const result = {
      sizeMiB: size / MiB,
      rounds,
      heliaVersion: version,
      swarmdropMiBps: mibps(median(rows.map(r => r.swarmdrop))),
      heliaFsMiBps: mibps(median(rows.map(r => r.heliaFs))),
      heliaMemoryMiBps: mibps(median(rows.map(r => r.heliaMem))),
      ratioVsHeliaFs: +median(rows.map(r => r.heliaFs / r.swarmdrop)).toFixed(2),
      ratioVsHeliaMemory: +median(rows.map(r => r.heliaMem / r.swarmdrop)).toFixed(2)
    }
    process.stdout.write(`helia: ${result.sizeMiB} MiB, median of ${rounds} rounds: swarmdrop ${result.swarmdropMiBps} MiB/s; Helia ${version} bitswap ${result.heliaFsMiBps} MiB/s with disk blockstores (swarmdrop = ${result.ratioVsHeliaFs}x), ${result.heliaMemoryMiBps} MiB/s in memory (${result.ratioVsHeliaMemory}x); goal >= 2x\n`)
    process.stdout.write(JSON.stringify(result) + '\n')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
