/**
 * Frictions of a first-day tour (issue 15), through the real binary: two nodes,
 * alice and bob, on 127.0.0.1 with mDNS off, started once for the file.
 */
import '../src/polyfill.js'
import { after, before, test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkDestination } from '../src/node/commands/destination.js'
import { waitFor } from '../src/util/wait.js'
import { runCli, startNode, tempDir, type After, type CliProcess } from './helpers/cli.js'

const shared = { dir: '', a: undefined as unknown as { proc: CliProcess, ready: any }, b: undefined as unknown as { proc: CliProcess, ready: any } }
const repoA = (): string => join(shared.dir, 'a')
const repoB = (): string => join(shared.dir, 'b')
const cleanups: Array<() => Promise<void>> = []

before(async () => {
  shared.dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-tour-'))
  const t: After = { after: (fn) => { cleanups.push(fn) } }
  shared.a = await startNode(t, ['--repo', repoA(), '--name', 'alice'])
  shared.b = await startNode(t, ['--repo', repoB(), '--name', 'bob', '--peer', shared.a.ready.addrs[0]])
  await shared.a.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'bob')
})

after(async () => {
  for (const fn of cleanups.reverse()) await fn()
  await rm(shared.dir, { recursive: true, force: true })
})

/** The entry of `cid` in `ls --json` on `repo`, once listed. */
async function listed (repo: string, cid: string): Promise<any> {
  let entry: any
  await waitFor(async () => {
    const r = await runCli(['ls', '--json', '--repo', repo])
    entry = r.code === 0 ? r.json().files.find((f: any) => f.cid === cid) : undefined
    return entry != null
  }, { timeout: 15_000, interval: 0, message: `${cid} in the catalog of ${repo}` })
  return entry
}

/** alice shares a new random file named `name`; resolves once bob's catalog lists it. */
async function aliceShares (t: After, name: string, size = 1024 * 1024 + 7): Promise<{ cid: string, bytes: Buffer }> {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  const bytes = randomBytes(size)
  await writeFile(join(dir, name), bytes)
  const r = await runCli(['share', join(dir, name), '--json', '--repo', repoA()])
  assert.equal(r.code, 0, r.stderr)
  const cid: string = r.json().files[0].cid
  await listed(repoB(), cid)
  return { cid, bytes }
}

test('get checks the destination before the first block: an existing file fails at once unless --force; a missing folder too', async (t) => {
  const { cid, bytes } = await aliceShares(t, 'holiday.jpg')
  const cwd = await tempDir(t, 'swarmdrop-cli-tour-')
  await writeFile(join(cwd, 'holiday.jpg'), 'mine')

  const refused = await runCli(['get', cid, '--repo', repoB()], { cwd })
  assert.equal(refused.code, 1)
  assert.deepEqual(refused.stderr.split('\n'), [`swarmdrop: error: ${join(cwd, 'holiday.jpg')} already exists; nothing was fetched. Replace it with --force, or write elsewhere with -o PATH`])
  assert.equal((await listed(repoB(), cid)).local, false, 'nothing was downloaded')
  assert.equal(await readFile(join(cwd, 'holiday.jpg'), 'utf8'), 'mine')

  const missing = await runCli(['get', cid, '-o', join(cwd, 'no', 'such') + '/', '--repo', repoB()], { cwd })
  assert.equal(missing.code, 1)
  assert.equal(missing.stderr.split('\n').length, 1, missing.stderr)
  assert.match(missing.stderr, /the folder .*no\/such does not exist; nothing was fetched/)
  assert.doesNotMatch(missing.stderr, /\.part|ENOENT/)
  assert.equal((await listed(repoB(), cid)).local, false, 'nothing was downloaded')

  const forced = await runCli(['get', cid, '--force', '--repo', repoB()], { cwd })
  assert.equal(forced.code, 0, forced.stderr)
  assert.ok((await readFile(join(cwd, 'holiday.jpg'))).equals(bytes))
  assert.deepEqual(await readdir(cwd), ['holiday.jpg'], 'no probe or temporary file left')
})

test('the destination check: free space when the size is known, folders, --force', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  const free = async (): Promise<number> => 1000
  await assert.rejects(checkDestination(join(dir, 'big.bin'), { size: 1001, freeBytes: free }), { name: 'NotEnoughSpaceError' })
  await checkDestination(join(dir, 'big.bin'), { size: 1000, freeBytes: free })
  await writeFile(join(dir, 'big.bin'), Buffer.alloc(500))
  await assert.rejects(checkDestination(join(dir, 'big.bin'), { size: 1400, freeBytes: free }), { name: 'OutputExistsError' })
  // the replaced file's room counts with --force
  await checkDestination(join(dir, 'big.bin'), { size: 1400, force: true, freeBytes: free })
  await mkdir(join(dir, 'sub'))
  await assert.rejects(checkDestination(join(dir, 'sub'), {}), { name: 'OutputFolderError' })
  await assert.rejects(checkDestination(join(dir, 'big.bin', 'x'), {}), { name: 'OutputFolderError' })
  assert.deepEqual((await readdir(dir)).sort(), ['big.bin', 'sub'])
})
