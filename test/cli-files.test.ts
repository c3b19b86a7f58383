/**
 * share / ls / get / pin / unpin / rm / gc through the real binary, nodes on
 * 127.0.0.1 with mDNS off and explicit --peer dials.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../src/util/wait.js'
import { LOOPBACK, runCli, spawnCli, type CliProcess } from './helpers/cli.js'

type After = { after: (fn: () => Promise<void>) => void }

async function tempDir (t: After): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-files-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

async function startNode (t: After, args: string[]): Promise<{ proc: CliProcess, ready: any }> {
  const proc = spawnCli(['start', '--json', ...LOOPBACK, ...args])
  t.after(async () => {
    if (proc.exit == null) {
      proc.kill('SIGKILL')
      await proc.waitForExit()
    }
  })
  const ready = await proc.waitForJson(m => m.event === 'ready')
  return { proc, ready }
}

/** Waits until `ls --json` on `repo` lists `cid`; returns the entry. */
async function waitListed (repo: string, cid: string): Promise<any> {
  let entry: any
  await waitFor(async () => {
    const r = await runCli(['ls', '--json', '--repo', repo])
    entry = r.code === 0 ? r.json().files.find((f: any) => f.cid === cid) : undefined
    return entry != null
  }, { timeout: 15_000, interval: 0, message: `${cid} in the catalog of ${repo}` })
  return entry
}

test('share, ls and get between two running nodes; get writes the announced name, made safe, in the current folder', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  await startNode(t, ['--repo', join(dir, 'b'), '--name', 'bob', '--peer', a.ready.addrs[0]])
  await a.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'bob')

  const bytes = randomBytes(3 * 1024 * 1024 + 123)
  await mkdir(join(dir, 'src'))
  const hostile = join(dir, 'src', '..notes.txt')
  await writeFile(hostile, bytes)
  const shared = await runCli(['share', hostile, '--json', '--repo', join(dir, 'a')])
  assert.equal(shared.code, 0, shared.stderr)
  const [file] = shared.json().files
  assert.equal(file.name, '..notes.txt')
  assert.equal(file.size, bytes.length)
  assert.match(file.cid, /^bafy/)
  await a.proc.waitForJson(m => m.event === 'file:shared' && m.cid === file.cid)

  const entry = await waitListed(join(dir, 'b'), file.cid)
  assert.deepEqual({ ...entry }, { cid: file.cid, name: '..notes.txt', size: bytes.length, providers: 1, local: false, encrypted: false })
  const human = await runCli(['ls', '--repo', join(dir, 'a')])
  assert.match(human.stdout, /^CID +NAME +SIZE +PROVIDERS +LOCAL$/m)
  assert.match(human.stdout, new RegExp(`^${file.cid} +\\.\\.notes\\.txt +3\\.0 MiB +1 +yes$`, 'm'))

  const cwd = join(dir, 'downloads')
  await mkdir(cwd)
  const got = await runCli(['get', file.cid, '--json', '--repo', join(dir, 'b')], { cwd })
  assert.equal(got.code, 0, got.stderr)
  const res = got.json()
  assert.equal(res.path, join(cwd, '__notes.txt'), 'leading dots made safe, inside the current folder')
  assert.equal(res.size, bytes.length)
  assert.ok(res.received >= bytes.length, 'every block came over the network (the file and its DAG nodes)')
  assert.ok((await readFile(res.path)).equals(bytes))
  assert.deepEqual(await readdir(cwd), ['__notes.txt'])

  // an existing file is not replaced without -o; -o FILE writes exactly there
  const again = await runCli(['get', file.cid, '--repo', join(dir, 'b')], { cwd })
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists/)
  const other = await runCli(['get', file.cid, '-o', 'copy.bin', '--repo', join(dir, 'b')], { cwd })
  assert.equal(other.code, 0, other.stderr)
  assert.match(other.stdout, /^wrote .*copy\.bin \(3\.0 MiB\)/m)
  assert.ok((await readFile(join(cwd, 'copy.bin'))).equals(bytes))

  // now both have it: pin, unpin, rm, gc on b
  await waitFor(async () => (await waitListed(join(dir, 'a'), file.cid)).providers === 2, { timeout: 15_000, interval: 0, message: 'two providers' })
  assert.equal((await runCli(['unpin', file.cid, '--repo', join(dir, 'b')])).code, 0)
  assert.equal((await runCli(['pin', file.cid, '--repo', join(dir, 'b')])).code, 0)
  const removed = await runCli(['rm', file.cid, '--json', '--repo', join(dir, 'b')])
  assert.equal(removed.code, 0, removed.stderr)
  assert.deepEqual(removed.json(), { cid: file.cid, removed: true })
  const gc = await runCli(['gc', '--json', '--repo', join(dir, 'b')])
  assert.equal(gc.code, 0, gc.stderr)
  assert.equal(typeof gc.json().removedBlocks, 'number')
  const status = await runCli(['status', '--json', '--repo', join(dir, 'b')])
  assert.equal(status.code, 0, status.stderr)
  assert.equal(status.json().peers, 1)
  assert.equal(typeof status.json().store.bytes, 'number')
})

test('errors: unknown CID exits 1 in one line, a missing path exits 1 naming it, a bad CID exits 2', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a')])
  await startNode(t, ['--repo', join(dir, 'b'), '--peer', a.ready.addrs[0]])
  await a.proc.waitForJson(m => m.event === 'peer:connect')

  const unknown = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
  const r = await runCli(['get', unknown, '--timeout', '2', '--repo', join(dir, 'b')], { cwd: dir })
  assert.equal(r.code, 1)
  assert.equal(r.stderr.split('\n').filter(l => l.startsWith('swarmdrop: error:')).length, 1)
  assert.match(r.stderr, new RegExp(`swarmdrop: error: .*${unknown}`))
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack without DEBUG')

  const missing = await runCli(['share', join(dir, 'nope.txt'), '--repo', join(dir, 'a')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^swarmdrop: error: cannot share .*nope\.txt: no such file$/m)

  const bad = await runCli(['get', 'not-a-cid', '--repo', join(dir, 'b')], { cwd: dir })
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /not-a-cid/)
})

test('get without a running node starts a temporary one; SIGINT leaves no file and the next get resumes', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  const size = 64 * 1024 * 1024
  const bytes = randomBytes(size)
  await writeFile(join(dir, 'big.bin'), bytes)
  const shared = await runCli(['share', join(dir, 'big.bin'), '--json', '--repo', join(dir, 'a')])
  assert.equal(shared.code, 0, shared.stderr)
  const { cid } = shared.json().files[0]
  const cwd = join(dir, 'out')
  await mkdir(cwd)
  const getArgs = ['get', cid, '--repo', join(dir, 'c'), ...LOOPBACK, '--peer', a.ready.addrs[0]]

  // first run: stop the sharer once blocks flow, then interrupt
  const first = spawnCli(getArgs, { cwd })
  t.after(() => { first.kill('SIGKILL') })
  await first.waitForLine(/^bafy.*: \d+% \(/, { stream: 'stderr', timeout: 30_000 })
  a.proc.kill('SIGSTOP')
  t.after(() => { a.proc.kill('SIGCONT') })
  first.kill('SIGINT')
  const exit = await first.waitForExit()
  a.proc.kill('SIGCONT')
  assert.equal(exit.code, 130, first.stderr.join('\n'))
  assert.deepEqual(await readdir(cwd), [], 'no partial file, no temp file')

  // second run resumes from the blocks the temporary node kept in the repository
  const second = await runCli([...getArgs, '--json'], { cwd, timeout: 60_000 })
  assert.equal(second.code, 0, second.stderr)
  const res = second.json()
  assert.equal(res.path, join(cwd, 'big.bin'))
  assert.ok(res.received > 0 && res.received < size, `received ${res.received} of ${size}`)
  assert.ok((await readFile(res.path)).equals(bytes))
})

test('start --replicate fetches and pins every announced file', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a')])
  const r = await startNode(t, ['--repo', join(dir, 'r'), '--replicate', '--peer', a.ready.addrs[0]])
  await writeFile(join(dir, 'one.txt'), 'one')
  await writeFile(join(dir, 'two.txt'), randomBytes(2 * 1024 * 1024))
  const shared = await runCli(['share', join(dir, 'one.txt'), join(dir, 'two.txt'), '--json', '--repo', join(dir, 'a')])
  assert.equal(shared.code, 0, shared.stderr)
  for (const f of shared.json().files) {
    await r.proc.waitForJson(m => m.event === 'replicate:done' && m.cid === f.cid, { timeout: 20_000 })
  }
  const ls = await runCli(['ls', '--json', '--repo', join(dir, 'r')])
  for (const f of shared.json().files) assert.equal(ls.json().files.find((e: any) => e.cid === f.cid)?.local, true)
  // the sharer can go: the replica serves the file to a newcomer
  a.proc.kill('SIGINT')
  await a.proc.waitForExit()
  await mkdir(join(dir, 'c-home'))
  const got = await runCli(['get', shared.json().files[1].cid, '--json', '--repo', join(dir, 'c'), ...LOOPBACK, '--peer', r.ready.addrs[0]], { cwd: join(dir, 'c-home') })
  assert.equal(got.code, 0, got.stderr)
  assert.equal(got.json().size, 2 * 1024 * 1024)
})
