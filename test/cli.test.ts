/**
 * The swarmdrop command without files: usage, exit codes, the node's
 * lifecycle and its control socket. The real built binary in child
 * processes, nodes on 127.0.0.1 with mDNS off (mDNS: cli-mdns.test.ts).
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { stat, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LOOPBACK, runCli, spawnCli, startNode, tempDir } from './helpers/cli.js'

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
  assert.match(h.stdout, /Examples?:\n {2}swarmdrop share/)
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
  // DEBUG adds the stack
  const debug = await runCli(['ls', '--repo', repo], { env: { DEBUG: 'swarmdrop:none' } })
  assert.equal(debug.code, 2)
  assert.match(debug.stderr, /^swarmdrop: error: no swarmdrop node.*\n.*NoNodeError.*\n\s+at /m)
  // SWARMDROP_REPO is the default repository
  const e = await runCli(['ls'], { env: { SWARMDROP_REPO: repo } })
  assert.equal(e.code, 2)
  assert.match(e.stderr, new RegExp(repo))
})

test('the control socket: owner-only; a second start fails while the first runs; a killed node\'s socket is stale and replaced; SIGINT stops cleanly', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'a')
  const socket = join(repo, 'control.sock')
  const first = spawnCli(['start', '--json', '--repo', repo, '--name', 'alice', ...LOOPBACK])
  t.after(() => { first.kill('SIGKILL') })
  const ready = await first.waitForJson(m => m.event === 'ready')
  assert.equal(ready.name, 'alice')
  assert.match(ready.peerId, /^12D3Koo/)
  assert.equal(ready.socket, socket)
  const info = await stat(socket)
  assert.ok(info.isSocket())
  assert.equal(info.mode & 0o777, 0o600)

  const second = await runCli(['start', '--repo', repo, ...LOOPBACK])
  assert.equal(second.code, 1)
  assert.match(second.stderr, /in use by a running node \(pid \d+\)/)
  assert.equal(second.stderr.trim().split('\n').length, 1)
  const id = await runCli(['id', '--json', '--repo', repo])
  assert.equal(id.code, 0)
  assert.equal(id.json().peerId, ready.peerId, 'the first node still answers')

  // killed: its socket stays behind, and is reported as stale
  first.kill('SIGKILL')
  await first.waitForExit()
  assert.ok((await stat(socket)).isSocket(), 'the killed node left its socket')
  const stale = await runCli(['peers', '--repo', repo])
  assert.equal(stale.code, 2)
  assert.match(stale.stderr, /stale/)

  // the next start replaces it; same repository, same identity
  const { proc, ready: again } = await startNode(t, ['--repo', repo])
  assert.equal(again.peerId, ready.peerId)
  const s = await runCli(['status', '--json', '--repo', repo])
  assert.equal(s.code, 0, s.stderr)
  assert.equal(s.json().peerId, ready.peerId)
  assert.equal(s.json().peers, 0)

  // Ctrl-C: a clean stop, exit 130 (as under npx); SIGTERM and `stop`: exit 0
  proc.kill('SIGINT')
  assert.deepEqual(await proc.waitForExit(), { code: 130, signal: null })
  assert.ok(proc.stdout.some(l => JSON.parse(l).event === 'stopped'))
  await assert.rejects(stat(socket), { code: 'ENOENT' })
  const { proc: again2 } = await startNode(t, ['--repo', repo])
  again2.kill('SIGTERM')
  assert.deepEqual(await again2.waitForExit(), { code: 0, signal: null })
  assert.ok(again2.stdout.some(l => JSON.parse(l).event === 'stopped'))
})

test('key gen writes an owner-only kubo key file that start accepts, and never overwrites one; stop stops the node', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'swarm.key')
  const r = await runCli(['key', 'gen', '-o', file])
  assert.equal(r.code, 0, r.stderr)
  assert.match(await readFile(file, 'utf8'), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  assert.equal((await stat(file)).mode & 0o777, 0o600)
  const again = await runCli(['key', 'gen', '-o', file])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists/)
  await writeFile(join(dir, 'bad.key'), 'nonsense')
  const bad = await runCli(['start', '--repo', join(dir, 'b'), ...LOOPBACK, '--swarm-key', join(dir, 'bad.key')])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /swarm key file .*bad\.key is invalid/)

  const { proc, ready } = await startNode(t, ['--repo', join(dir, 'a'), '--swarm-key', file])
  assert.match(ready.peerId, /^12D3Koo/)
  const stop = await runCli(['stop', '--repo', join(dir, 'a')])
  assert.equal(stop.code, 0)
  assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null })
})
