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
 * Usage: npm run bench -- import-export [--size 256] [--rounds 5] [--dir /tmp] [--json]
 * Each round runs every baseline next to its contender; a ratio (our throughput / the
 * baseline's) is the median of the per-round ratios, times are medians (and best).
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
    rounds: { type: 'string', default: '5' },
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

const dir = await mkdtemp(join(values.dir, 'swarmdrop-bench-storage-'))
try {
  const input = join(dir, 'input.bin')
  const fh = await open(input, 'w')
  for (let done = 0; done < size; done += MiB) await fh.write(randomBytes(Math.min(MiB, size - done)))
  await fh.sync()
  await fh.close()
  await readFile(input) // into the page cache, for every contender alike

  // baseline and contender run back to back in each round, and each round gives a ratio: on a
  // shared machine the load drifts between rounds far more than within one
  const r = { sha256sum: [] as number[], import: [] as number[], reimport: [] as number[], cp: [] as number[], cpSync: [] as number[], export: [] as number[], exportNoVerify: [] as number[] }
  let cid = ''
  for (let round = 0; round < rounds; round++) {
    r.sha256sum.push(await run('sha256sum', [input]))
    const store = await createStore({ path: join(dir, 'store') })
    let t0 = performance.now()
    cid = (await store.import(input)).cid
    r.import.push(performance.now() - t0)
    t0 = performance.now()
    await store.import(input)
    r.reimport.push(performance.now() - t0)

    r.cp.push(await run('cp', [input, join(dir, 'cp.bin')]))
    await rm(join(dir, 'cp.bin'))
    t0 = performance.now()
    await run('cp', [input, join(dir, 'cp.bin')])
    await run('sync', [join(dir, 'cp.bin')])
    r.cpSync.push(performance.now() - t0)
    await rm(join(dir, 'cp.bin'))
    t0 = performance.now()
    await store.export(cid, join(dir, 'out.bin'))
    r.export.push(performance.now() - t0)
    await rm(join(dir, 'out.bin'))
    t0 = performance.now()
    await store.export(cid, join(dir, 'out.bin'), { verify: false })
    r.exportNoVerify.push(performance.now() - t0)
    await rm(join(dir, 'out.bin'))
    await store.close()
    await rm(join(dir, 'store'), { recursive: true })
  }

  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const ratio = (base: number[], ours: number[]): number => +median(base.map((b, i) => b / ours[i]!)).toFixed(2)
  const mbs = (ms: number): number => Math.round(size / MiB / (ms / 1000))
  const rows: Array<[string, number[]]> = [
    ['sha256sum', r.sha256sum],
    ['import', r.import],
    ['re-import (blocks present)', r.reimport],
    ['cp', r.cp],
    ['cp + sync', r.cpSync],
    ['export (verify)', r.export],
    ['export (no verify)', r.exportNoVerify]
  ]
  const ratios = {
    importVsSha256sum: ratio(r.sha256sum, r.import),
    exportVsCp: ratio(r.cp, r.export),
    exportVsCpSync: ratio(r.cpSync, r.export),
    exportNoVerifyVsCpSync: ratio(r.cpSync, r.exportNoVerify)
  }
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ sizeMiB: size / MiB, rounds, node: process.version, medianMs: Object.fromEntries(rows.map(([k, v]) => [k, Math.round(median(v))])), ratios }) + '\n')
  } else {
    process.stdout.write(`storage import/export, ${size / MiB} MiB of random bytes, ${rounds} rounds, node ${process.version}\n\n`)
    process.stdout.write('| what | median ms | MiB/s | best ms |\n|---|---:|---:|---:|\n')
    for (const [k, v] of rows) process.stdout.write(`| ${k} | ${Math.round(median(v))} | ${mbs(median(v))} | ${Math.round(Math.min(...v))} |\n`)
    process.stdout.write('\nratios (our throughput / the baseline\'s, median of the per-round ratios):\n')
    process.stdout.write(`import / sha256sum:              ${ratios.importVsSha256sum}× (goal ≥ 0.7×)\n`)
    process.stdout.write(`export / cp:                     ${ratios.exportVsCp}× (cp does not fsync)\n`)
    process.stdout.write(`export / cp + sync:              ${ratios.exportVsCpSync}×\n`)
    process.stdout.write(`export (no verify) / cp + sync:  ${ratios.exportNoVerifyVsCpSync}×\n`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
