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
import { runCli, spawnCli, startNode, tempDir, type After, type CliProcess } from './helpers/cli.js'
import { runInPty, screen } from './helpers/pty.js'

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

const BAR = /[█░]{6,}/

test('progress bars on an 80-column terminal: demo --nodes 4 leaves one bar per transfer, no line wider than 80', async () => {
  const r = await runInPty(['demo', '--nodes', '4', '--size', '8'], { cols: 80, env: { NO_COLOR: '1' }, timeout: 120_000 })
  assert.equal(r.code, 0, r.raw)
  const s = screen(r.raw, 80)
  assert.deepEqual(s.wrapped, [], 'no line ran past column 80')
  assert.ok(s.widest <= 80)
  const bars = s.lines.filter(l => BAR.test(l))
  assert.equal(bars.length, 3, `one bar per fetcher:\n${s.lines.join('\n')}`)
  for (const b of bars) assert.match(b, /100%.* MiB\/s {2}done$/)
  // one rate: the bar's final figure is the table's
  for (const b of bars) {
    const [name] = b.split(/\s+/)
    const rate = b.match(/([\d.]+ [KMG]?i?B\/s)/)![1]!
    const row = s.lines.find(l => l.startsWith(`${name!} `) && l.includes('fetcher'))
    assert.ok(row?.includes(rate), `${name!}: bar ${rate}, table ${row ?? '(none)'}`)
  }
})

test('get on an 80-column terminal: the bar is labelled by the file\'s name, fits, ends done; share shows a bar too', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  const name = 'a-rather-long-holiday-video-name-that-would-not-fit-on-one-line-anyway.mp4'
  await writeFile(join(dir, name), randomBytes(6 * 1024 * 1024))
  const sh = await runInPty(['share', join(dir, name), '--repo', repoA()], { cols: 80, env: { NO_COLOR: '1' } })
  assert.equal(sh.code, 0, sh.raw)
  const shs = screen(sh.raw, 80)
  assert.equal(shs.lines.filter(l => BAR.test(l)).length, 1, shs.lines.join('\n'))
  const cid = shs.lines.map(l => l.match(/^(bafy\w+)/)?.[1]).find(c => c != null)!
  assert.ok(cid != null, shs.lines.join('\n'))
  await listed(repoB(), cid)

  const cwd = await tempDir(t, 'dl-')
  const r = await runInPty(['get', cid, '--repo', repoB()], { cols: 80, cwd, env: { NO_COLOR: '1' } })
  assert.equal(r.code, 0, r.raw)
  const s = screen(r.raw, 80)
  assert.ok(s.widest <= 80, s.lines.join('\n'))
  const bars = s.lines.filter(l => BAR.test(l))
  assert.equal(bars.length, 1, s.lines.join('\n'))
  assert.match(bars[0]!, /^a-rather-long-holiday-v.*…/, 'labelled by the name (cut to fit), not the CID')
  assert.match(bars[0]!, /100% +6\.0 MiB \/ 6\.0 MiB {2}[\d.]+ [KMG]?i?B\/s {2}done$/)
  const rate = bars[0]!.match(/([\d.]+ [KMG]?i?B\/s)/)![1]!
  assert.ok(s.lines.some(l => l.includes(`, ${rate} from 1 peer`)), `the summary has the bar's rate ${rate}:\n${s.lines.join('\n')}`)
})

test('Ctrl-C during get: the bar says cancelled, not failed; exit 130', async () => {
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const nobodyHas = CID.createV1(0x55, await sha256.digest(randomBytes(32))).toString()
  const p = spawnCli(['get', nobodyHas, '--repo', repoB()])
  await shared.b.proc.waitForJson(m => m.event === 'fetch:start' && m.cid === nobodyHas)
  p.kill('SIGINT')
  const { code } = await p.waitForExit()
  assert.equal(code, 130)
  assert.ok(p.stderr.some(l => / cancelled$/.test(l)), p.stderr.join('\n'))
  assert.ok(!p.stderr.some(l => /failed/.test(l)), p.stderr.join('\n'))
})

test('error messages: one clear line with a next step; usage line after exit-2 errors', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  // rm, pin and unpin: the same exit code and message for a non-CID
  for (const cmd of ['rm', 'pin', 'unpin']) {
    const r = await runCli([cmd, 'notacid', '--repo', repoB()])
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`)
    assert.match(r.stderr, /^swarmdrop: error: "notacid" is not a CID \(they look like bafy…\); copy one from `swarmdrop ls`$/m)
    assert.match(r.stderr, new RegExp(`^usage: swarmdrop ${cmd} CID`, 'm'))
  }
  // a missing --swarm-key file says how to make one
  const key = await runCli(['start', '--repo', join(dir, 'k'), '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', join(dir, 'missing.key')])
  assert.equal(key.code, 2)
  assert.match(key.stderr, /there is no file .*missing\.key; make the swarm's key once with `swarmdrop key gen -o .*missing\.key`/)
  assert.doesNotMatch(key.stderr, /ENOENT/)
  // named exit-2 errors print the usage line too (not "no node": that one stays one line)
  const reserved = await runCli(['pub', '/swarmdrop/x', 'hi', '--repo', repoA()])
  assert.equal(reserved.code, 2)
  assert.match(reserved.stderr, /reserved/)
  assert.match(reserved.stderr, /^usage: swarmdrop pub \[--global\] TOPIC MESSAGE/m)
  // --repo without a value; empty values
  const repo = await runCli(['--repo'])
  assert.equal(repo.code, 2)
  assert.match(repo.stderr, /--repo needs a value \(DIR\)/)
  const name = await runCli(['start', '--name', '', '--repo', join(dir, 'n')])
  assert.equal(name.code, 2)
  assert.match(name.stderr, /start: --name needs a non-empty value \(NICK\)/)
  // stop with no node: the wanted state already holds
  const stop = await runCli(['stop', '--repo', join(dir, 'none')])
  assert.equal(stop.code, 0)
  assert.match(stop.stdout, /no node is running on .*none; nothing to stop/)
  // durations as people say them
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const nobodyHas = CID.createV1(0x55, await sha256.digest(randomBytes(32))).toString()
  const none = await runCli(['get', nobodyHas, '--timeout', '1', '--repo', repoB()], { cwd: dir })
  assert.equal(none.code, 1)
  assert.doesNotMatch(none.stderr, /\d{4,} ms/)
  assert.match(none.stderr, /\b1 s\b/)
})

test('--json rates are integers; decrypted files get the mode of plain ones; long names are cut to the terminal in ls', async (t) => {
  const { cid } = await aliceShares(t, 'plain.txt', 3 * 1024 * 1024)
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  await writeFile(join(dir, 'secret.txt'), randomBytes(3000))
  const enc = await runCli(['share', '--encrypt', '--json', join(dir, 'secret.txt'), '--repo', repoA()])
  assert.equal(enc.code, 0, enc.stderr)
  const { link, cid: encCid } = enc.json().files[0]
  await listed(repoB(), encCid)
  const cwd = await tempDir(t, 'dl-')
  assert.equal((await runCli(['get', cid, '--repo', repoB()], { cwd })).code, 0)
  const got = await runCli(['get', link, '--repo', repoB()], { cwd })
  assert.equal(got.code, 0, got.stderr)
  const { stat } = await import('node:fs/promises')
  const plainMode = (await stat(join(cwd, 'plain.txt'))).mode & 0o777
  assert.equal(plainMode, 0o666 & ~process.umask())
  assert.equal((await stat(join(cwd, 'secret.txt'))).mode & 0o777, plainMode)

  const rates = shared.b.proc.stdout.map(l => JSON.parse(l)).filter(m => m.event === 'fetch:progress').map(m => m.rate)
  assert.ok(rates.length > 0)
  for (const r of rates) assert.ok(Number.isInteger(r), `rate ${String(r)}`)

  await aliceShares(t, 'x'.repeat(150) + '.bin', 100)
  const ls = await runInPty(['ls', '--repo', repoB()], { cols: 120, env: { NO_COLOR: '1' } })
  assert.equal(ls.code, 0)
  const s = screen(ls.raw, 120)
  assert.deepEqual(s.wrapped, [], s.lines.join('\n'))
  assert.ok(s.lines.some(l => /xxxx…/.test(l)), s.lines.join('\n'))
})

test('get NAME, get CID1 CID2, get -o - to stdout; share prints the command for the other laptop', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  const one = randomBytes(300_000)
  const two = randomBytes(200_000)
  await writeFile(join(dir, 'unique-report.pdf'), one)
  await writeFile(join(dir, 'second.bin'), two)
  const sh = await runCli(['share', join(dir, 'unique-report.pdf'), join(dir, 'second.bin'), '--repo', repoA()])
  assert.equal(sh.code, 0, sh.stderr)
  const cids = [...sh.stdout.matchAll(/^(baf\w+) /gm)].map(m => m[1]!)
  assert.equal(cids.length, 2, sh.stdout)
  assert.match(sh.stdout, /^On another machine of the swarm, run:$/m)
  for (const cid of cids) assert.match(sh.stdout, new RegExp(`^ {2}swarmdrop get ${cid}$`, 'm'))
  for (const cid of cids) await listed(repoB(), cid)

  // by name
  const cwd = await tempDir(t, 'dl-')
  const byName = await runCli(['get', 'unique-report.pdf', '--repo', repoB()], { cwd })
  assert.equal(byName.code, 0, byName.stderr)
  assert.ok((await readFile(join(cwd, 'unique-report.pdf'))).equals(one))
  const unknown = await runCli(['get', 'no-such-holiday.jpg', '--repo', repoB()], { cwd })
  assert.equal(unknown.code, 2)
  assert.equal(unknown.stderr.split('\n')[0], 'swarmdrop: error: "no-such-holiday.jpg" is neither a CID nor the name of a file in the swarm\'s catalog; `swarmdrop ls` lists the files (get takes a CID, a link or an exact name)')
  assert.match(unknown.stderr, /^usage: swarmdrop get/m)
  // a name two files share: the candidates, no download
  const dir2 = await tempDir(t, 'swarmdrop-cli-tour-')
  await writeFile(join(dir2, 'second.bin'), randomBytes(1000))
  const other = await runCli(['share', '--json', join(dir2, 'second.bin'), '--repo', repoA()])
  const otherCid: string = other.json().files[0].cid
  await listed(repoB(), otherCid)
  const twice = await runCli(['get', 'second.bin', '--repo', repoB()], { cwd })
  assert.equal(twice.code, 2)
  assert.match(twice.stderr, /2 files are named "second\.bin"; get one by its CID: /)
  assert.ok(twice.stderr.includes(cids[1]!) && twice.stderr.includes(otherCid))

  // several at once (both names would be taken in cwd: another folder)
  const cwd2 = await tempDir(t, 'dl-')
  const many = await runCli(['get', cids[0]!, cids[1]!, '--json', '--repo', repoB()], { cwd: cwd2 })
  assert.equal(many.code, 0, many.stderr)
  assert.deepEqual(many.json().files.map((f: any) => f.cid), cids)
  assert.deepEqual((await readdir(cwd2)).sort(), ['second.bin', 'unique-report.pdf'])

  // -o -: the bytes on stdout, nothing written in the folder
  const cwd3 = await tempDir(t, 'dl-')
  const { spawn } = await import('node:child_process')
  const { BIN } = await import('./helpers/cli.js')
  const child = spawn(process.execPath, [BIN, 'get', cids[1]!, '-o', '-', '--repo', repoB()], { cwd: cwd3, env: { ...process.env, NO_COLOR: '1', DEBUG: '' } })
  const chunks: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => chunks.push(c))
  const code = await new Promise(resolve => child.on('close', resolve))
  assert.equal(code, 0)
  assert.ok(Buffer.concat(chunks).equals(two), 'stdout holds exactly the file')
  assert.deepEqual(await readdir(cwd3), [])
})

test('a private, named swarm shows in the banner, status, id and peers with the key\'s fingerprint', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-tour-')
  const key = join(dir, 'swarm.key')
  assert.equal((await runCli(['key', 'gen', '-o', key])).code, 0)
  const { spawnCli: spawn, LOOPBACK } = await import('./helpers/cli.js')
  const p = spawn(['start', ...LOOPBACK, '--repo', join(dir, 'p'), '--swarm', 'team', '--swarm-key', key])
  t.after(async () => {
    if (p.exit == null) {
      p.kill('SIGKILL')
      await p.waitForExit()
    }
  })
  const banner = await p.waitForLine(/^ {2}swarm +/)
  const m = /^ {2}swarm +team \(private, key ([0-9a-f]{4}(:[0-9a-f]{4}){3})\)$/.exec(banner)
  assert.ok(m != null, banner)
  const fingerprint = m[1]!
  await p.waitForLine(/^ready:/)
  const status = await runCli(['status', '--repo', join(dir, 'p')])
  assert.match(status.stdout, new RegExp(`^swarm +team \\(private, key ${fingerprint}\\)$`, 'm'))
  const id = await runCli(['id', '--json', '--repo', join(dir, 'p')])
  assert.equal(id.json().private, true)
  assert.equal(id.json().keyFingerprint, fingerprint)
  const peers = await runCli(['peers', '--repo', join(dir, 'p')])
  assert.deepEqual(peers.stdout.split('\n'), [`swarm team (private, key ${fingerprint})`, 'no peers yet'])
  // another key, another fingerprint; a node without a key says nothing of one
  const other = join(dir, 'other.key')
  await runCli(['key', 'gen', '-o', other])
  const { keyFingerprint } = await import('../src/cli/format.js')
  const { readSwarmKeyFile } = await import('../src/node/index.js')
  assert.equal(keyFingerprint(await readSwarmKeyFile(key)), fingerprint)
  assert.notEqual(keyFingerprint(await readSwarmKeyFile(other)), fingerprint)
  const plain = await runCli(['id', '--json', '--repo', repoA()])
  assert.equal(plain.json().private, undefined)
  assert.match((await runCli(['status', '--repo', repoA()])).stdout, /^swarm +default$/m)
})

test('pin shows the progress of the fetch it needs', async (t) => {
  const { cid } = await aliceShares(t, 'to-pin.bin', 3 * 1024 * 1024)
  const r = await runCli(['pin', cid, '--repo', repoB()])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /^to-pin\.bin: 100% \(3\.0 MiB of 3\.0 MiB\)$/m)
  assert.match(r.stdout, new RegExp(`^pinned ${cid}$`, 'm'))
  // already here: no progress at all
  const again = await runCli(['pin', cid, '--repo', repoB()])
  assert.equal(again.code, 0)
  assert.equal(again.stderr, '')
})
