/**
 * The store's block write path alone (what a download does): N blocks of 1 MiB
 * (random, hashed before the clock starts) put into a fresh store with up to 8
 * putBlock calls in flight, then close() (which makes every block durable).
 *
 *   putBlock              verifies each block (sha2-256) and writes it
 *   putBlock verified     the caller already verified (`{ verified: true }`): no second hash
 *
 * Usage: npm run bench -- store-write [--blocks 128] [--rounds 5] [--dir /tmp] [--json]
 * Times are medians of the rounds (and best); both variants run in each round, in
 * alternating order, each after a `sync` so that the previous one's writeback does
 * not land on it.
 */
import '../src/polyfill.js'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { createStore } from '../src/storage/index.js'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
    json: { type: 'boolean', default: false }
  }
})
const count = Math.max(1, Number(values.blocks))
const rounds = Math.max(1, Number(values.rounds))
const blocks = Array.from({ length: count }, () => {
  const bytes = randomBytes(MiB)
  return { cid: CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(bytes).digest())).toString(), bytes }
})

async function putAll (path: string, verified: boolean): Promise<number> {
  const store = await createStore({ path })
  const t0 = performance.now()
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < blocks.length) {
      const b = blocks[next++]!
      await store.putBlock(b.cid, b.bytes, { verified } as any)
    }
  }))
  await store.close()
  return performance.now() - t0
}

const dir = await mkdtemp(join(values.dir, 'swarmdrop-bench-store-write-'))
try {
  const r = { put: [] as number[], putVerified: [] as number[] }
  for (let round = 0; round < rounds; round++) {
    for (const verified of round % 2 === 0 ? [false, true] : [true, false]) {
      const path = join(dir, `r${round}-${String(verified)}`)
      spawnSync('sync')
      ;(verified ? r.putVerified : r.put).push(await putAll(path, verified))
      await rm(path, { recursive: true })
    }
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const mbs = (ms: number): number => Math.round(count / (ms / 1000))
  if (values.json === true) {
    process.stdout.write(JSON.stringify({ blocks: count, rounds, medianMs: { putBlock: Math.round(median(r.put)), putBlockVerified: Math.round(median(r.putVerified)) } }) + '\n')
  } else {
    process.stdout.write(`store block writes, ${count} blocks of 1 MiB, 8 in flight, ${rounds} rounds, node ${process.version}\n\n`)
    process.stdout.write('| what | median ms | MiB/s | best ms |\n|---|---:|---:|---:|\n')
    for (const [k, v] of [['putBlock', r.put], ['putBlock verified', r.putVerified]] as const) {
      process.stdout.write(`| ${k} | ${Math.round(median(v))} | ${mbs(median(v))} | ${Math.round(Math.min(...v))} |\n`)
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
