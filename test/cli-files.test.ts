/**
 * share / ls / get / pin / unpin / rm / gc / peers / pub / sub through the
 * real binary, nodes on 127.0.0.1 with mDNS off and explicit --peer dials.
 * Two nodes, alice and bob, serve every test of this file (started once, to
 * keep the file fast); the --replicate test, last, stops alice.
 */
import '../src/polyfill.js'
import { after, before, test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../src/util/wait.js'
import { LOOPBACK, runCli, spawnCli, startNode, tempDir as tempDirIn, type After, type CliProcess } from './helpers/cli.js'

async function tempDir (t: After): Promise<string> {
  return tempDirIn(t, 'swarmdrop-cli-files-')
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

const shared = { dir: '', a: undefined as unknown as { proc: CliProcess, ready: any }, b: undefined as unknown as { proc: CliProcess, ready: any } }
const repoA = (): string => join(shared.dir, 'a')
const repoB = (): string => join(shared.dir, 'b')
const cleanups: Array<() => Promise<void>> = []
/** A folder inside the suite's folder, removed with it at the end of the file. */
const keptDir = async (): Promise<string> => mkdtemp(join(shared.dir, 'files-'))

before(async () => {
  shared.dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-files-'))
  const t: After = { after: (fn) => { cleanups.push(fn) } }
  shared.a = await startNode(t, ['--repo', repoA(), '--name', 'alice'])
  shared.b = await startNode(t, ['--repo', repoB(), '--name', 'bob', '--peer', shared.a.ready.addrs[0]])
  await shared.a.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'bob')
})

after(async () => {
  for (const fn of cleanups.reverse()) await fn()
  await rm(shared.dir, { recursive: true, force: true })
})

test('share, ls and get between two running nodes; get writes the announced name, made safe, in the current folder', async (t) => {
  // shared by reference: the file must outlive this test (the replica of the last test fetches every announced file)
  const dir = await keptDir()
  const bytes = randomBytes(3 * 1024 * 1024 + 123)
  const hostile = join(dir, '..notes.txt')
  await writeFile(hostile, bytes)
  const res1 = await runCli(['share', hostile, '--json', '--repo', repoA()])
  assert.equal(res1.code, 0, res1.stderr)
  const [file] = res1.json().files
  assert.equal(file.name, '..notes.txt')
  assert.equal(file.size, bytes.length)
  assert.match(file.cid, /^bafy/)
  await shared.a.proc.waitForJson(m => m.event === 'file:shared' && m.cid === file.cid)

  const entry = await waitListed(repoB(), file.cid)
  assert.deepEqual({ ...entry }, { cid: file.cid, name: '..notes.txt', size: bytes.length, providers: 1, partial: 0, local: false, encrypted: false })
  const human = await runCli(['ls', '--repo', repoA()])
  assert.match(human.stdout, /^CID +NAME +SIZE +PROVIDERS +LOCAL$/m)
  assert.match(human.stdout, new RegExp(`^${file.cid} +\\.\\.notes\\.txt +3\\.0 MiB +1 +yes$`, 'm'))

  const cwd = join(dir, 'downloads')
  await mkdir(cwd)
  const got = await runCli(['get', file.cid, '--json', '--repo', repoB()], { cwd })
  assert.equal(got.code, 0, got.stderr)
  const res = got.json()
  assert.equal(res.path, join(cwd, '__notes.txt'), 'leading dots made safe, inside the current folder')
  assert.equal(res.size, bytes.length)
  assert.ok(res.received >= bytes.length, 'every block came over the network (the file and its DAG nodes)')
  assert.ok((await readFile(res.path)).equals(bytes))
  assert.deepEqual(await readdir(cwd), ['__notes.txt'])
  await shared.b.proc.waitForJson(m => m.event === 'fetch:done' && m.cid === file.cid)

  // an existing file is not replaced without -o; -o FILE writes exactly there
  const again = await runCli(['get', file.cid, '--repo', repoB()], { cwd })
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists/)
  const other = await runCli(['get', file.cid, '-o', 'copy.bin', '--repo', repoB()], { cwd })
  assert.equal(other.code, 0, other.stderr)
  assert.match(other.stdout, /^wrote .*copy\.bin \(3\.0 MiB\)/m)
  assert.ok((await readFile(join(cwd, 'copy.bin'))).equals(bytes))

  // now both have it: pin, unpin, rm, gc on b
  await waitFor(async () => (await waitListed(repoA(), file.cid)).providers === 2, { timeout: 15_000, interval: 0, message: 'two providers' })
  assert.equal((await runCli(['unpin', file.cid, '--repo', repoB()])).code, 0)
  assert.equal((await runCli(['pin', file.cid, '--repo', repoB()])).code, 0)
  const removed = await runCli(['rm', file.cid, '--json', '--repo', repoB()])
  assert.equal(removed.code, 0, removed.stderr)
  assert.deepEqual(removed.json(), { cid: file.cid, removed: true })
  const gc = await runCli(['gc', '--json', '--repo', repoB()])
  assert.equal(gc.code, 0, gc.stderr)
  assert.equal(typeof gc.json().removedBlocks, 'number')
  const status = await runCli(['status', '--json', '--repo', repoB()])
  assert.equal(status.code, 0, status.stderr)
  assert.equal(status.json().peers, 1)
  assert.equal(typeof status.json().store.bytes, 'number')
})

test('peers shows the other node with its nickname; pub reaches sub', async (t) => {
  const { a, b } = shared
  const peers = await runCli(['peers', '--json', '--repo', repoA()])
  assert.equal(peers.code, 0)
  const list = peers.json().peers
  assert.equal(list.length, 1)
  assert.equal(list[0].id, b.ready.peerId)
  assert.equal(list[0].name, 'bob')
  assert.equal(list[0].connected, true)
  const human = await runCli(['peers', '--repo', repoA()])
  assert.match(human.stdout, /^PEER +NAME +CONNECTED +ADDRESS$/m)
  assert.match(human.stdout, new RegExp(`^${b.ready.peerId} +bob +yes`, 'm'))

  const sub = spawnCli(['sub', 'chat', '--json', '--repo', repoB()])
  t.after(() => { sub.kill('SIGKILL') })
  await sub.waitForJson(m => m.event === 'subscribed')
  // a publishes once gossipsub told it that b subscribed (recipients > 0)
  let delivered: string | undefined
  for (let i = 0; i < 50 && delivered == null; i++) {
    const pub = await runCli(['pub', 'chat', `hello ${i}`, '--json', '--repo', repoA()])
    assert.equal(pub.code, 0, pub.stderr)
    if (pub.json().recipients > 0) delivered = `hello ${i}`
  }
  assert.ok(delivered != null, 'a saw b subscribed')
  const msg = await sub.waitForJson(m => m.event === 'message' && m.data === delivered)
  assert.equal(msg.from, a.ready.peerId)
  assert.equal(msg.name, 'alice')
  sub.kill('SIGINT')
  assert.equal((await sub.waitForExit()).code, 130)

  const reserved = await runCli(['pub', '/swarmdrop/1/default/announce', 'x', '--repo', repoA()])
  assert.equal(reserved.code, 2)
  assert.match(reserved.stderr, /reserved/)
})

test('errors: unknown CID exits 1 in one line, a missing path exits 1 naming it, a bad CID exits 2', async (t) => {
  const dir = await tempDir(t)
  const unknown = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
  const r = await runCli(['get', unknown, '--timeout', '1', '--repo', repoB()], { cwd: dir })
  assert.equal(r.code, 1)
  assert.equal(r.stderr.split('\n').filter(l => l.startsWith('swarmdrop: error:')).length, 1)
  assert.match(r.stderr, new RegExp(`swarmdrop: error: .*${unknown}`))
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack without DEBUG')

  const missing = await runCli(['share', join(dir, 'nope.txt'), '--repo', repoA()])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^swarmdrop: error: cannot share .*nope\.txt: no such file$/m)

  const bad = await runCli(['get', 'not-a-cid', '--repo', repoB()], { cwd: dir })
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /not-a-cid/)
})

test('get without a running node starts a temporary one; SIGINT leaves no file and the next get resumes', async (t) => {
  // shared by reference: the file must outlive this test (the replica of the last test fetches every announced file)
  const dir = await keptDir()
  const { a } = shared
  const size = 64 * 1024 * 1024
  const bytes = randomBytes(size)
  await writeFile(join(dir, 'big.bin'), bytes)
  const res1 = await runCli(['share', join(dir, 'big.bin'), '--json', '--repo', repoA()])
  assert.equal(res1.code, 0, res1.stderr)
  const { cid } = res1.json().files[0]
  const cwd = join(dir, 'out')
  await mkdir(cwd)
  const getArgs = ['get', cid, '--repo', join(dir, 'c'), ...LOOPBACK, '--peer', a.ready.addrs[0]]

  // first run: freeze the sharer once blocks flow, then interrupt
  const first = spawnCli(getArgs, { cwd })
  t.after(() => { first.kill('SIGKILL') })
  await first.waitForLine(/^big\.bin: \d+% \(/, { stream: 'stderr', timeout: 30_000 })
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

test('share --encrypt prints a link; get LINK decrypts; the bare CID yields ciphertext; a wrong key writes nothing', async (t) => {
  const dir = await tempDir(t)
  const marker = 'PLAINTEXT-MARKER-' + randomBytes(8).toString('hex')
  const secret = Buffer.concat([Buffer.from(marker), randomBytes(300 * 1024), Buffer.from(marker)])
  await writeFile(join(dir, 'secret.pdf'), secret)
  const res1 = await runCli(['share', '--encrypt', join(dir, 'secret.pdf'), '--json', '--repo', repoA()])
  assert.equal(res1.code, 0, res1.stderr)
  const [file] = res1.json().files
  assert.equal(file.name, 'secret.pdf')
  assert.equal(file.size, secret.length)
  assert.match(file.link, new RegExp(`^swarmdrop:${file.cid}#[A-Za-z0-9_-]{43}$`))

  // the swarm sees a placeholder name and the encrypted flag
  const entry = await waitListed(repoB(), file.cid)
  assert.equal(entry.name, 'encrypted')
  assert.equal(entry.encrypted, true)

  const cwd = join(dir, 'out')
  await mkdir(cwd)
  const got = await runCli(['get', file.link, '--json', '--repo', repoB()], { cwd })
  assert.equal(got.code, 0, got.stderr)
  assert.equal(got.json().path, join(cwd, 'secret.pdf'), 'the name comes from inside the encrypted file')
  assert.equal(got.json().decrypted, true)
  assert.ok((await readFile(join(cwd, 'secret.pdf'))).equals(secret))

  const bare = await runCli(['get', file.cid, '-o', 'cipher.bin', '--repo', repoB()], { cwd })
  assert.equal(bare.code, 0, bare.stderr)
  assert.match(bare.stderr, /this file is encrypted: .*cipher\.bin holds ciphertext/)
  const cipher = await readFile(join(cwd, 'cipher.bin'))
  assert.equal(cipher.indexOf(marker), -1, 'no plaintext in the stored bytes')

  const wrong = file.link.replace(/#.*$/, '#' + Buffer.alloc(32, 7).toString('base64url'))
  const bad = await runCli(['get', wrong, '-o', 'wrong.pdf', '--repo', repoB()], { cwd })
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /does not decrypt with this key/)
  assert.deepEqual((await readdir(cwd)).sort(), ['cipher.bin', 'secret.pdf'], 'nothing written for the wrong key')

  const malformed = await runCli(['get', 'swarmdrop:nonsense', '--repo', repoB()], { cwd })
  assert.equal(malformed.code, 2)
  assert.match(malformed.stderr, /not a valid swarmdrop link/)

  // the link kept out of the process arguments: on stdin (-) or in a file (--link-file)
  const viaStdin = join(dir, 'stdin')
  await mkdir(viaStdin)
  const piped = await runCli(['get', '-', '--json', '--repo', repoB()], { cwd: viaStdin, input: `# the plans\n${file.link}\n` })
  assert.equal(piped.code, 0, piped.stderr)
  assert.ok((await readFile(join(viaStdin, 'secret.pdf'))).equals(secret))
  await writeFile(join(dir, 'plans.link'), file.link + '\n')
  const viaFile = join(dir, 'file')
  await mkdir(viaFile)
  const fromFile = await runCli(['get', '--link-file', join(dir, 'plans.link'), '--json', '--repo', repoB()], { cwd: viaFile })
  assert.equal(fromFile.code, 0, fromFile.stderr)
  assert.ok((await readFile(join(viaFile, 'secret.pdf'))).equals(secret))
  // a second get of the link onto the first one's file is refused, as for a plain get
  const again = await runCli(['get', '--link-file', join(dir, 'plans.link'), '--repo', repoB()], { cwd: viaFile })
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists/)
  const missing = await runCli(['get', '--link-file', join(dir, 'no.link'), '--repo', repoB()], { cwd: viaFile })
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /cannot read --link-file .*no\.link \(ENOENT\)/)
})

test('start --replicate fetches and pins every announced file (last: stops alice)', async (t) => {
  const dir = await tempDir(t)
  const { a } = shared
  const r = await startNode(t, ['--repo', join(dir, 'r'), '--replicate', '--peer', a.ready.addrs[0]])
  await writeFile(join(dir, 'one.txt'), 'one')
  await writeFile(join(dir, 'two.txt'), randomBytes(2 * 1024 * 1024))
  const res1 = await runCli(['share', join(dir, 'one.txt'), join(dir, 'two.txt'), '--json', '--repo', repoA()])
  assert.equal(res1.code, 0, res1.stderr)
  const files = res1.json().files
  for (const f of files) {
    await r.proc.waitForJson(m => m.event === 'replicate:done' && m.cid === f.cid, { timeout: 20_000 })
  }
  const ls = await runCli(['ls', '--json', '--repo', join(dir, 'r')])
  for (const f of files) assert.equal(ls.json().files.find((e: any) => e.cid === f.cid)?.local, true)
  // the sharer goes: the replica serves the file to a newcomer
  a.proc.kill('SIGTERM')
  assert.equal((await a.proc.waitForExit()).code, 0, 'SIGTERM stops cleanly with 0')
  await mkdir(join(dir, 'c-home'))
  const got = await runCli(['get', files[1].cid, '--json', '--repo', join(dir, 'c'), ...LOOPBACK, '--peer', r.ready.addrs[0]], { cwd: join(dir, 'c-home') })
  assert.equal(got.code, 0, got.stderr)
  assert.equal(got.json().size, 2 * 1024 * 1024)
})
