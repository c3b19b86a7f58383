import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createStore, type Store, type StoreProgressEvent } from '../src/storage/index.js'
import { MiB, writePattern } from './fixtures/storage-pattern.js'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'storage-child.js')
/** CID of pattern(64 MiB) (test/fixtures/storage-pattern.ts): 64 raw leaves under one root. */
const CID_64MIB = 'bafybeihqvcs5ag2qt52amaa4nqktdcihryqo5dtqvgsdg4cyyw62jr3wpu'

interface Run { killed: boolean, lines: string[] }

/** Runs the child and SIGKILLs it on the first stdout line for which `stop` is true (stdout to a pipe is synchronous on POSIX). */
async function runChild (t: { after: (fn: () => void) => void }, args: string[], stop: (line: string, count: number) => boolean): Promise<Run> {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => { if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL') })
  const lines: string[] = []
  let killed = false
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line)
    if (!killed && stop(line, lines.length)) {
      killed = true
      child.kill('SIGKILL')
    }
  })
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
  if (killed) assert.equal(signal, 'SIGKILL')
  else assert.equal(code, 0, `child failed: ${stderr}`)
  return { killed, lines }
}

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-storage-crash-'))
  t.after(async () => { await fsp.rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Opens the store left by a killed process and checks it: nothing corrupt, no bad record, temp files gone. */
async function checkAfterCrash (path: string): Promise<Store> {
  const store = await createStore({ path })
  assert.deepEqual(await fsp.readdir(join(path, 'tmp')), [], 'temp files removed at open')
  const report = await store.fsck()
  assert.deepEqual(report.corrupt, [], 'no corrupt block')
  assert.deepEqual(report.missing, [], 'no complete file lacks a block')
  assert.deepEqual(report.badRecords, [], 'every record readable')
  for (const r of await store.list()) {
    assert.equal(r.cid, CID_64MIB)
    assert.equal(r.complete, true)
  }
  return store
}

test('kill -9 during a 64 MiB import at several points: the store opens, fsck finds nothing corrupt, re-import gives the same CID', async (t) => {
  const dir = await tempDir(t)
  const input = join(dir, 'input.bin')
  await writePattern(input, 64 * MiB)
  const sha = createHash('sha256').update(await fsp.readFile(input)).digest('hex')

  // 65 blocks in all (64 leaves, then the root, then the record): kill after the n-th block is on disk
  for (const n of [1, 16, 40, 64, 65]) {
    const path = join(dir, `store-${n}`)
    const run = await runChild(t, ['import', path, input], (line, count) => line.startsWith('block') && count >= n)
    if (n <= 40) {
      assert.ok(run.killed && !run.lines.some(l => l.startsWith('done')), `killed mid-import after block ${n}`)
      // blocks are fsynced in batches: the killed writer left its marker, so the next open checks its recent blocks
      assert.equal((await fsp.readdir(join(path, 'dirty'))).length, 1, 'the killed writer left its marker')
    }
    const store = await checkAfterCrash(path)
    assert.deepEqual(await fsp.readdir(join(path, 'dirty')), [], 'the marker is gone once checked')
    try {
      const left = (await store.stat()).blocks
      if (run.killed) assert.ok(left >= n, `blocks written before the kill are on disk (${left} ≥ ${n})`)
      let reused = 0
      const rec = await store.import(input, {
        onProgress: (e: StoreProgressEvent) => { if (e.type === 'store:import:block' && !e.detail.written) reused++ }
      })
      assert.equal(rec.cid, CID_64MIB)
      assert.equal(rec.complete, true)
      assert.ok(reused >= Math.min(n, 64), `the blocks of the killed run are reused (${reused})`)
      if (n === 16) {
        await store.export(rec.cid, join(dir, 'out.bin'))
        assert.equal(createHash('sha256').update(await fsp.readFile(join(dir, 'out.bin'))).digest('hex'), sha)
        const report = await store.fsck()
        assert.deepEqual({ corrupt: report.corrupt, missing: report.missing, incomplete: report.incomplete }, { corrupt: [], missing: [], incomplete: [] })
      }
    } finally {
      await store.close()
    }
  }

  // crash, restart, crash again in one store, then let it finish
  const path = join(dir, 'store-again')
  const first = await runChild(t, ['import', path, input], (line, count) => count >= 10)
  assert.ok(first.killed)
  await (await checkAfterCrash(path)).close()
  const second = await runChild(t, ['import', path, input], line => line.endsWith('new'))
  assert.ok(second.killed && second.lines.filter(l => l.endsWith('old')).length >= 10, 'the restarted import skipped the blocks already on disk')
  await (await checkAfterCrash(path)).close()
  const third = await runChild(t, ['import', path, input], () => false)
  assert.equal(third.lines.at(-1), `done ${CID_64MIB}`)
  const store = await checkAfterCrash(path)
  t.after(async () => { await store.close() })
  assert.equal((await store.get(CID_64MIB))?.size, 64 * MiB)
})

test('kill -9 while records are rewritten: every record stays readable and whole', async (t) => {
  const dir = await tempDir(t)
  const path = join(dir, 'store')
  let store = await createStore({ path })
  const { cid } = await store.import(Buffer.from('records under fire'), { name: 'r.txt' })
  await store.close()
  for (const n of [1, 25, 150]) {
    const run = await runChild(t, ['pins', path, cid, '100000'], (_, count) => count >= n)
    assert.ok(run.killed)
    store = await createStore({ path })
    const report = await store.fsck()
    assert.deepEqual(report.badRecords, [])
    const rec = await store.get(cid)
    assert.equal(rec?.name, 'r.txt')
    assert.equal(typeof rec?.pinned, 'boolean')
    assert.equal(rec?.complete, true)
    assert.deepEqual(await fsp.readdir(join(path, 'records')), [`${cid}.json`])
    await store.close()
  }
})
