/**
 * The swarmdrop command, as a user runs it: the real built binary in child
 * processes, nodes on 127.0.0.1 with mDNS off (tests with mDNS live in
 * cli-mdns.test.ts, inside a network namespace).
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { mkdtemp, rm, stat, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LOOPBACK, runCli, spawnCli, type CliProcess } from './helpers/cli.js'

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** Starts `swarmdrop start --json` and waits for its ready event; killed in teardown. */
async function startNode (t: { after: (fn: () => Promise<void>) => void }, args: string[]): Promise<{ proc: CliProcess, ready: any }> {
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

test('usage errors exit 2 with the usage; unknown commands too', async () => {
  const r = await runCli(['ls', '--bogus'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /^swarmdrop: error: ls: unknown option --bogus$/m)
  assert.match(r.stderr, /^usage: swarmdrop ls/m)
  const u = await runCli(['frobnicate'])
  assert.equal(u.code, 2)
  assert.match(u.stderr, /unknown command "frobnicate"/)
  const m = await runCli(['get'])
  assert.equal(m.code, 2)
  assert.match(m.stderr, /get: missing CID/)
  const h = await runCli(['share', '--help'])
  assert.equal(h.code, 0)
  assert.match(h.stdout, /^usage: swarmdrop share PATH\.\.\./)
  assert.match(h.stdout, /Example:\n {2}swarmdrop share/)
  const v = await runCli(['--version'])
  assert.match(v.stdout, /^swarmdrop \d+\.\d+\.\d+$/)
})

test('commands that need a node exit 2 naming the repository and `swarmdrop start`', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'repo')
  await writeFile(join(dir, 'a.txt'), 'hello')
  for (const args of [['share', join(dir, 'a.txt')], ['ls'], ['peers', '--json'], ['status'], ['pub', 'chat', 'hi']]) {
    const r = await runCli([...args, '--repo', repo])
    assert.equal(r.code, 2, args.join(' '))
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, `one line: ${r.stderr}`)
    assert.match(lines[0]!, new RegExp(`no swarmdrop node is running on the repository ${repo}.*swarmdrop start`))
  }
  // SWARMDROP_REPO is the default repository
  const e = await runCli(['ls'], { env: { SWARMDROP_REPO: repo } })
  assert.equal(e.code, 2)
  assert.match(e.stderr, new RegExp(repo))
})

test('start serves an owner-only control socket; a second start on the repository fails and the first keeps running', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'a')
  const { proc, ready } = await startNode(t, ['--repo', repo, '--name', 'alice'])
  assert.equal(ready.name, 'alice')
  assert.match(ready.peerId, /^12D3Koo/)
  assert.equal(ready.socket, join(repo, 'control.sock'))
  const info = await stat(ready.socket)
  assert.ok(info.isSocket())
  assert.equal(info.mode & 0o777, 0o600)

  const second = await runCli(['start', '--repo', repo, ...LOOPBACK])
  assert.equal(second.code, 1)
  assert.match(second.stderr, /in use by a running node \(pid \d+\)/)
  assert.equal(second.stderr.trim().split('\n').length, 1)

  const id = await runCli(['id', '--json', '--repo', repo])
  assert.equal(id.code, 0)
  assert.equal(id.json().peerId, ready.peerId)
  assert.equal(proc.exit, undefined, 'the first node still runs')

  // SIGINT stops it cleanly: exit 0, socket removed
  proc.kill('SIGINT')
  assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null })
  assert.ok(proc.stdout.some(l => JSON.parse(l).event === 'stopped'))
  await assert.rejects(stat(ready.socket), { code: 'ENOENT' })
})

test('a socket left by a killed node is reported as stale and replaced by the next start', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'a')
  const first = spawnCli(['start', '--json', '--repo', repo, ...LOOPBACK])
  await first.waitForJson(m => m.event === 'ready')
  first.kill('SIGKILL')
  await first.waitForExit()
  assert.ok((await stat(join(repo, 'control.sock'))).isSocket(), 'the killed node left its socket')

  const r = await runCli(['peers', '--repo', repo])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /stale/)

  const { ready } = await startNode(t, ['--repo', repo])
  const s = await runCli(['status', '--json', '--repo', repo])
  assert.equal(s.code, 0, s.stderr)
  assert.equal(s.json().peerId, ready.peerId)
  const stop = await runCli(['stop', '--repo', repo])
  assert.equal(stop.code, 0)
})

test('two nodes: peers shows the other with its nickname; pub reaches sub', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  const b = await startNode(t, ['--repo', join(dir, 'b'), '--name', 'bob', '--peer', a.ready.addrs[0]])
  await a.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'bob')

  const peers = await runCli(['peers', '--json', '--repo', join(dir, 'a')])
  assert.equal(peers.code, 0)
  const list = peers.json().peers
  assert.equal(list.length, 1)
  assert.equal(list[0].id, b.ready.peerId)
  assert.equal(list[0].name, 'bob')
  assert.equal(list[0].connected, true)
  const human = await runCli(['peers', '--repo', join(dir, 'a')])
  assert.match(human.stdout, /^PEER +NAME +CONNECTED +ADDRESS$/m)
  assert.match(human.stdout, new RegExp(`^${b.ready.peerId} +bob +yes`, 'm'))

  const sub = spawnCli(['sub', 'chat', '--json', '--repo', join(dir, 'b')])
  t.after(() => { sub.kill('SIGKILL') })
  await sub.waitForJson(m => m.event === 'subscribed')
  // gossipsub needs to learn b's new subscription before a publishes
  let delivered: string | undefined
  for (let i = 0; i < 50 && delivered == null; i++) {
    const pub = await runCli(['pub', 'chat', `hello ${i}`, '--json', '--repo', join(dir, 'a')])
    assert.equal(pub.code, 0, pub.stderr)
    if (pub.json().recipients > 0) delivered = `hello ${i}`
  }
  assert.ok(delivered != null, 'a saw b subscribed')
  const msg = await sub.waitForJson(m => m.event === 'message' && m.data === delivered)
  assert.equal(msg.from, a.ready.peerId)
  assert.equal(msg.name, 'alice')
  sub.kill('SIGINT')
  assert.equal((await sub.waitForExit()).code, 130)

  const reserved = await runCli(['pub', '/swarmdrop/1/default/announce', 'x', '--repo', join(dir, 'a')])
  assert.equal(reserved.code, 2)
  assert.match(reserved.stderr, /reserved/)
})

test('key gen writes an owner-only kubo key file that start accepts, and never overwrites one', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'swarm.key')
  const r = await runCli(['key', 'gen', '-o', file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(await readFile(file, 'utf8'), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  assert.equal((await stat(file)).mode & 0o777, 0o600)
  const again = await runCli(['key', 'gen', '-o', file])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists/)
  const { ready } = await startNode(t, ['--repo', join(dir, 'a'), '--swarm-key', file])
  assert.match(ready.peerId, /^12D3Koo/)
  await writeFile(join(dir, 'bad.key'), 'nonsense')
  const bad = await runCli(['start', '--repo', join(dir, 'b'), ...LOOPBACK, '--swarm-key', join(dir, 'bad.key')])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /swarm key file .*bad\.key is invalid/)
})
