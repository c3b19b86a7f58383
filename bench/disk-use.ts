/**
 * Disk use of share + get (issue 14, "no second copy"): one file of random
 * bytes shared by one node and fetched by another (two nodes in this process,
 * 127.0.0.1, explicit dial), once the default way (the sharer keeps a
 * reference to its file, the fetcher a reference to the file it wrote) and once
 * with copies (`copy: true` on both sides, what every share and get did
 * before). Reported: each repository's growth over the file's size, as the
 * bytes of its files and as the blocks `du` counts (folders included).
 *
 * Usage: npm run bench -- disk-use [--size 64] [--dir /tmp] [--json]
 */
import '../src/polyfill.js'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createLocalSwarm } from '../src/testing/index.js'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    dir: { type: 'string', default: tmpdir() },
    json: { type: 'boolean', default: false }
  }
})
const size = Math.max(1, Number(values.size)) * MiB

/** Bytes of the files under `dir`, and what `du` says the folder takes. */
async function usage (dir: string): Promise<{ files: number, du: number }> {
  let files = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) files += (await stat(join(e.parentPath, e.name))).size
  }
  const du = Number(spawnSync('du', ['-sk', dir], { encoding: 'utf8' }).stdout.split('\t')[0]) * 1024
  return { files, du }
}

async function run (copy: boolean): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(values.dir, 'swarmdrop-disk-use-'))
  const swarm = await createLocalSwarm({ size: 2, dir })
  try {
    const [alice, bob] = swarm.nodes
    const file = join(dir, 'file.bin')
    await writeFile(file, randomBytes(size))
    await mkdir(join(dir, 'out'))
    const a0 = await usage(alice!.repo)
    const b0 = await usage(bob!.repo)
    const shared = await alice!.share(file, { copy })
    await bob!.get(shared.cid, { output: join(dir, 'out', 'file.bin'), copy })
    const a1 = await usage(alice!.repo)
    const b1 = await usage(bob!.repo)
    return {
      sharerFiles: (a1.files - a0.files) / size,
      sharerDu: (a1.du - a0.du) / size,
      fetcherFiles: (b1.files - b0.files) / size,
      fetcherDu: (b1.du - b0.du) / size
    }
  } finally {
    await swarm.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

const reference = await run(false)
const copies = await run(true)
if (values.json) {
  process.stdout.write(JSON.stringify({ size, reference, copies }) + '\n')
} else {
  const f = (x: number | undefined): string => `${((x ?? 0) * 100).toFixed(2)}%`
  process.stdout.write(`file: ${size / MiB} MiB; repository growth over the file's size (bytes of files / du)\n`)
  process.stdout.write(`  by reference (default): sharer ${f(reference.sharerFiles)} / ${f(reference.sharerDu)}, fetcher ${f(reference.fetcherFiles)} / ${f(reference.fetcherDu)}\n`)
  process.stdout.write(`  copies (--copy):        sharer ${f(copies.sharerFiles)} / ${f(copies.sharerDu)}, fetcher ${f(copies.fetcherFiles)} / ${f(copies.fetcherDu)}\n`)
}
