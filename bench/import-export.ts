/**
 * Storage throughput (issue 3): import and export of one SIZE MiB file
 * (default 256) of random bytes, against baselines measured in the same run
 * on the same file, all from the page cache (the file is read once first):
 *
 *   import   store.import(path) into a fresh store: read, chunk, hash (sha2-256),
 *            write each 1 MiB block to a temp file, fsync, rename, write the record
 *     vs     `sha256sum FILE` (goal: import ≥ 0.7× its throughput)
 *   export   store.export(cid, dest): read, verify every block, write a temp file,
 *            fsync, rename
 *     vs     `cp FILE DEST` (cp does not fsync; `cp + sync` is shown as well)
 *
 * Usage: npm run bench -- import-export [--size 256] [--rounds 3] [--dir /tmp] [--json]
 * Each figure is the best of `rounds`. A ratio is our throughput / the baseline's.
 */
import '../src/polyfill.js'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, open, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createStore } from '../src/storage/index.js'

const MiB = 1024 * 1024

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    dir: { type: 'string', default: tmpdir() },
    json: { type: 'boolean', default: false }
  }
})
const size = Math.round(Number(values.size) * MiB)
const rounds = Math.max(1, Number(values.rounds))
if (!Number.isFinite(size) || size <= 0) throw new Error('--size takes a number of MiB > 0')

async function run (cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now()
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}`)
  return performance.now() - t0
}

async function best (fn: (round: number) => Promise<number>): Promise<number> {
  let min = Infinity
  for (let r = 0; r < rounds; r++) min = Math.min(min, await fn(r))
  return min
}

const dir = await mkdtemp(join(values.dir, 'swarmdrop-bench-storage-'))
try {
  const input = join(dir, 'input.bin')
  const fh = await open(input, 'w')
  for (let done = 0; done < size; done += MiB) await fh.write(randomBytes(Math.min(MiB, size - done)))
  await fh.sync()
  await fh.close()
  await readFile(input) // into the page cache, for every contender alike

  const sha256sum = await best(async () => run('sha256sum', [input]))
  let cid = ''
  const importMs = await best(async (r) => {
    const store = await createStore({ path: join(dir, `store-${r}`) })
    const t0 = performance.now()
    cid = (await store.import(input)).cid
    const ms = performance.now() - t0
    await store.close()
    if (r > 0) await rm(join(dir, `store-${r}`), { recursive: true })
    return ms
  })
  const store = await createStore({ path: join(dir, 'store-0') })
  const reimportMs = await best(async () => {
    const t0 = performance.now()
    await store.import(input)
    return performance.now() - t0
  })
  const cp = await best(async () => {
    const ms = await run('cp', [input, join(dir, 'cp.bin')])
    await rm(join(dir, 'cp.bin'))
    return ms
  })
  const cpSync = await best(async () => {
    const t0 = performance.now()
    await run('cp', [input, join(dir, 'cp.bin')])
    await run('sync', [join(dir, 'cp.bin')])
    const ms = performance.now() - t0
    await rm(join(dir, 'cp.bin'))
    return ms
  })
  const exportMs = await best(async () => {
    const t0 = performance.now()
    await store.export(cid, join(dir, 'out.bin'))
    const ms = performance.now() - t0
    await rm(join(dir, 'out.bin'))
    return ms
  })
  const exportNoVerifyMs = await best(async () => {
    const t0 = performance.now()
    await store.export(cid, join(dir, 'out.bin'), { verify: false })
    const ms = performance.now() - t0
    await rm(join(dir, 'out.bin'))
    return ms
  })
  await store.close()

  const mbs = (ms: number): number => Math.round(size / MiB / (ms / 1000))
  const rows: Array<[string, number]> = [
    ['sha256sum', sha256sum],
    ['import', importMs],
    ['re-import (blocks present)', reimportMs],
    ['cp', cp],
    ['cp + sync', cpSync],
    ['export (verify)', exportMs],
    ['export (no verify)', exportNoVerifyMs]
  ]
  const ratios = {
    importVsSha256sum: +(sha256sum / importMs).toFixed(2),
    exportVsCp: +(cp / exportMs).toFixed(2),
    exportVsCpSync: +(cpSync / exportMs).toFixed(2)
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ sizeMiB: size / MiB, rounds, node: process.version, ms: Object.fromEntries(rows.map(([k, v]) => [k, Math.round(v)])), ratios }) + '\n')
  } else {
    process.stdout.write(`storage import/export, ${size / MiB} MiB of random bytes, best of ${rounds}, node ${process.version}\n\n`)
    process.stdout.write('| what | ms | MiB/s |\n|---|---:|---:|\n')
    for (const [k, v] of rows) process.stdout.write(`| ${k} | ${Math.round(v)} | ${mbs(v)} |\n`)
    process.stdout.write(`\nimport / sha256sum: ${ratios.importVsSha256sum}× (goal ≥ 0.7×)\n`)
    process.stdout.write(`export / cp:        ${ratios.exportVsCp}×\n`)
    process.stdout.write(`export / cp + sync: ${ratios.exportVsCpSync}×\n`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
