/**
 * What the protections of issue 7 cost in throughput, each as a ratio to plain transfer of the
 * same amount of data in the same run. A sharer process and a fetcher process on 127.0.0.1:
 *
 *   swarm key   `--swarm-key`: every connection wrapped in @libp2p/pnet (XSalsa20) under Noise,
 *               so every byte is encrypted twice. Measured on a raw libp2p stream (the cipher
 *               cost alone) and on a fetch of a file into the on-disk store, against the same
 *               pair of nodes without a key.
 *   encrypt     `share --encrypt` / `get LINK`: the file is encrypted (AES-256-GCM, 64 KiB chunks,
 *               src/crypto) while it is imported and decrypted while it is written out.
 *               share + fetch + decrypt against share + fetch + export of a plain file, with the
 *               CLI's own code (src/cli/files.ts: shareFiles, fetchToFile).
 *
 * Every round uses a fresh random file of SIZE MiB for each mode (nothing is deduplicated), runs
 * the modes one after the other (their order rotating), and takes each ratio within the round;
 * the median over rounds is reported (the machine's load changes between rounds).
 *
 * Usage: npm run bench -- security-cost [--size 64] [--rounds 3]
 */
import '../src/polyfill.js'
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fetchToFile, shareFiles } from '../src/cli/files.js'
import { parseLink } from '../src/crypto/index.js'
import { createSwarmNode, generateSwarmKey, type SwarmNode } from '../src/node/index.js'
import { waitFor } from '../src/util/wait.js'

const RAW_PROTOCOL = '/swarmdrop-bench/raw/1.0.0'
const MiB = 1024 * 1024
const LOCAL = ['/ip4/127.0.0.1/tcp/0']

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
    serve: { type: 'string' }
  }
})
const size = Number(values.size) * MiB
const rounds = Number(values.rounds)

type Mode = 'plain' | 'key' | 'encrypt'

async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** 1 MiB of random bytes, reused: the raw stream measures the stack, not the content. */
function * rawChunks (total: number): Generator<Uint8Array> {
  const chunk = new Uint8Array(randomBytes(MiB))
  for (let sent = 0; sent < total; sent += MiB) yield chunk.subarray(0, Math.min(MiB, total - sent))
}

async function startNode (repo: string, swarmKey: string | undefined, bootstrap: string[] = []): Promise<SwarmNode> {
  const node = await createSwarmNode({ repo, name: 'bench', listen: LOCAL, mdns: false, bootstrap, ...(swarmKey != null ? { swarmKey } : {}) })
  await node.network.handle(RAW_PROTOCOL, (stream) => { stream.sink(rawChunks(size)).catch(() => {}) })
  return node
}

/**
 * The sharer: a node without a key and one with the key given in --serve. Commands on stdin, one
 * JSON line each: { op: 'share', mode } writes a fresh random file, shares it (timed) and answers
 * { cid, link?, ms, sha256 }; { op: 'remove', mode, cid } drops it from that node's store.
 */
async function serve (swarmKey: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-share-'))
  const nodes = { plain: await startNode(join(dir, 'plain'), undefined), key: await startNode(join(dir, 'key'), swarmKey) }
  const nodeOf = (mode: Mode): SwarmNode => mode === 'key' ? nodes.key : nodes.plain
  process.stdout.write(JSON.stringify({ plain: nodes.plain.getMultiaddrs()[0], key: nodes.key.getMultiaddrs()[0] }) + '\n')
  let n = 0
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    const cmd = JSON.parse(line)
    if (cmd.op === 'share') {
      const path = join(dir, `file-${n++}.bin`)
      const bytes = randomBytes(size)
      await writeFile(path, bytes)
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      const start = performance.now()
      const [shared] = await shareFiles(nodeOf(cmd.mode), [path], { encrypt: cmd.mode === 'encrypt' })
      const ms = performance.now() - start
      await rm(path)
      process.stdout.write(JSON.stringify({ cid: shared?.cid, link: shared?.link, ms, sha256 }) + '\n')
    } else if (cmd.op === 'remove') {
      await nodeOf(cmd.mode).store.remove(cmd.cid)
      process.stdout.write('{}\n')
    }
  }
  await nodes.plain.stop()
  await nodes.key.stop()
  await rm(dir, { recursive: true, force: true })
}

interface RoundResult {
  /** Raw stream of SIZE bytes (ms; `encrypt` runs on the plain pair of nodes: another plain sample). */
  stream: number
  /** share (sharer's import, with encryption for `encrypt`), fetch, export or decrypt (ms). */
  share: number
  fetch: number
  output: number
}

async function main (): Promise<void> {
  const swarmKey = generateSwarmKey()
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', swarmKey, '--size', String(values.size)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<any> => {
    const { value, done } = await lines.next()
    if (done === true) throw new Error('the sharer process ended')
    return JSON.parse(value)
  }
  const ask = async (cmd: object): Promise<any> => {
    child.stdin.write(JSON.stringify(cmd) + '\n')
    return next()
  }
  const addrs: { plain: string, key: string } = await next()
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-bench-fetch-'))
  const fetchers = {
    plain: await startNode(join(dir, 'plain'), undefined, [addrs.plain]),
    key: await startNode(join(dir, 'key'), swarmKey, [addrs.key])
  }
  const sharerOf = (addr: string): string => addr.slice(addr.lastIndexOf('/') + 1)
  for (const [mode, node] of Object.entries(fetchers)) {
    const sharer = sharerOf(mode === 'key' ? addrs.key : addrs.plain)
    await waitFor(() => node.network.getSubscribers(node.topics.announce).includes(sharer), { timeout: 20_000, message: `the ${mode} sharer in the fetcher's mesh` })
  }

  const rawStream = async (mode: Mode): Promise<number> => {
    const node = mode === 'key' ? fetchers.key : fetchers.plain
    const start = performance.now()
    const raw = await node.network.openStream(sharerOf(mode === 'key' ? addrs.key : addrs.plain), RAW_PROTOCOL)
    let got = 0
    for await (const chunk of raw.source) got += chunk.byteLength
    await raw.close()
    if (got !== size) throw new Error(`${mode}: the raw stream brought ${got} bytes`)
    return performance.now() - start
  }
  // warm-up: one stream on each connection before anything is timed
  await rawStream('plain')
  await rawStream('key')

  const run = async (mode: Mode): Promise<RoundResult> => {
    const node = mode === 'key' ? fetchers.key : fetchers.plain
    const sharer = sharerOf(mode === 'key' ? addrs.key : addrs.plain)
    const stream = await rawStream(mode)
    let start: number

    const shared = await ask({ op: 'share', mode })
    await waitFor(() => node.protocol.providers(shared.cid).includes(sharer), { timeout: 20_000, message: `the ${mode} announcement` })
    start = performance.now()
    await node.fetch(shared.cid)
    const fetch = performance.now() - start
    const out = join(dir, `out-${mode}.bin`)
    start = performance.now()
    const file = await fetchToFile(node, shared.cid, { cwd: dir, output: out, ...(mode === 'encrypt' ? { key: parseLink(shared.link).key } : {}) })
    const output = performance.now() - start
    if (await sha256File(out) !== shared.sha256) throw new Error(`${mode}: the file written out differs from the one shared`)
    if (mode === 'encrypt' && !file.decrypted) throw new Error('encrypt: not decrypted')
    await rm(out)
    await node.store.remove(shared.cid)
    await ask({ op: 'remove', mode, cid: shared.cid })
    return { stream, share: shared.ms, fetch, output }
  }

  const modes: Mode[] = ['plain', 'key', 'encrypt']
  const results: Array<Record<Mode, RoundResult>> = []
  for (let r = 0; r < rounds; r++) {
    const round: Partial<Record<Mode, RoundResult>> = {}
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + r) % modes.length] as Mode
      round[mode] = await run(mode)
    }
    results.push(round as Record<Mode, RoundResult>)
  }

  const median = (xs: number[]): number => {
    const sorted = [...xs].sort((a, b) => a - b)
    const mid = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[mid] ?? 0 : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
  }
  const mbs = (ms: number): number => size / MiB / (ms / 1000)
  const total = (x: RoundResult): number => x.share + x.fetch + x.output
  /** Throughput of `mode` as a fraction of plain's, per round: plain time / mode time. */
  const ratios = (mode: Mode, pick: (x: RoundResult) => number): number[] => results.map(r => pick(r.plain) / pick(r[mode]))
  const line = (label: string, pick: (x: RoundResult) => number, only = modes): string => {
    const cells = only.map(m => `${m} ${mbs(median(results.map(r => pick(r[m])))).toFixed(0).padStart(4)} MiB/s`)
    return `${label.padEnd(24)} ${cells.join('   ')}`
  }
  const figures = {
    sizeMiB: size / MiB,
    rounds,
    keyStream: median(ratios('key', x => x.stream)),
    keyFetch: median(ratios('key', x => x.fetch)),
    keyTotal: median(ratios('key', total)),
    encryptShare: median(ratios('encrypt', x => x.share)),
    encryptOutput: median(ratios('encrypt', x => x.output)),
    encryptTotal: median(ratios('encrypt', total)),
    load: loadavg()[0]
  }
  process.stdout.write(`security-cost: ${size / MiB} MiB between two processes on 127.0.0.1, median of ${rounds} rounds (throughput)\n`)
  process.stdout.write(`${line('raw libp2p stream', x => x.stream, ['plain', 'key'])}\n`)
  process.stdout.write(`${line('share (import)', x => x.share)}\n`)
  process.stdout.write(`${line('fetch (to disk store)', x => x.fetch)}\n`)
  process.stdout.write(`${line('export / decrypt', x => x.output)}\n`)
  process.stdout.write(`${line('share + fetch + output', total)}\n`)
  const fmt = (xs: number[]): string => xs.map(x => x.toFixed(2)).join(', ')
  process.stdout.write(`--swarm-key / plain: raw stream ${figures.keyStream.toFixed(2)} (rounds ${fmt(ratios('key', x => x.stream))}), ` +
    `fetch ${figures.keyFetch.toFixed(2)} (${fmt(ratios('key', x => x.fetch))}), share + fetch + export ${figures.keyTotal.toFixed(2)} (${fmt(ratios('key', total))})\n`)
  process.stdout.write(`--encrypt / plain: share ${figures.encryptShare.toFixed(2)} (${fmt(ratios('encrypt', x => x.share))}), ` +
    `decrypt / export ${figures.encryptOutput.toFixed(2)} (${fmt(ratios('encrypt', x => x.output))}), share + fetch + decrypt vs + export ${figures.encryptTotal.toFixed(2)} (${fmt(ratios('encrypt', total))})\n`)
  process.stdout.write(`load average ${loadavg().map(l => l.toFixed(1)).join(' ')}\n`)
  process.stdout.write(JSON.stringify({ ...figures, results }) + '\n')

  await fetchers.plain.stop()
  await fetchers.key.stop()
  child.stdin.end()
  await new Promise(resolve => child.once('exit', resolve))
  await rm(dir, { recursive: true, force: true })
}

if (values.serve != null) await serve(values.serve)
else await main()
