/**
 * Issue 15 point 3 and 5 on the real command: a stable listening port, listening addresses in
 * `peers`, peers' peers, swarm-key mismatches named on both sides, other swarms apart.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli, startNode, tempDir } from './helpers/cli.js'
import { waitFor } from '../src/util/wait.js'
import { generateSwarmKey } from '../src/node/index.js'

/** Polls `swarmdrop peers --json` on `repo` until `match` holds for one peer; resolves with that peer. */
async function waitForPeer (repo: string, match: (p: any) => boolean, timeout = 20_000): Promise<any> {
  let last: any
  let found: any
  await waitFor(async () => {
    last = (await runCli(['peers', '--json', '--repo', repo])).json()
    found = last.peers.find(match)
    return found != null
  }, { timeout, message: () => `a matching peer on ${repo}: ${JSON.stringify(last)}` })
  return found
}

function portOf (addrs: string[]): number {
  const m = /\/tcp\/(\d+)/.exec(addrs[0] ?? '')
  assert.ok(m != null, `a TCP address in ${JSON.stringify(addrs)}`)
  return Number(m[1])
}

test('a restarted node listens on the port it remembered; a taken port falls back to a random one and says so', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'a')
  const first = await startNode(t, ['--repo', repo])
  const port = portOf(first.ready.addrs)
  assert.notEqual(port, 0)
  assert.equal((await readFile(join(repo, 'listen-port'), 'utf8')).trim(), String(port))
  first.proc.kill('SIGTERM')
  assert.equal((await first.proc.waitForExit()).code, 0)

  const second = await startNode(t, ['--repo', repo])
  assert.equal(portOf(second.ready.addrs), port, 'the second start listens on the same port')
  assert.equal(second.ready.listenNote, undefined)

  // another repository remembering the port the running node holds: a random port, and a note
  const other = join(dir, 'b')
  const { mkdir } = await import('node:fs/promises')
  await mkdir(other, { recursive: true, mode: 0o700 })
  await writeFile(join(other, 'listen-port'), `${port}\n`)
  const third = await startNode(t, ['--repo', other])
  assert.notEqual(portOf(third.ready.addrs), port)
  assert.match(third.ready.listenNote, new RegExp(`port ${port} .*is in use: listening on a random port`))
  assert.equal((await readFile(join(other, 'listen-port'), 'utf8')).trim(), String(port), 'the remembered port is kept for the next start')
})

test('peers shows a peer\'s listening address, not its connection\'s port; --peer alice also meets bob (peer exchange, no mDNS)', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  const b = await startNode(t, ['--repo', join(dir, 'b'), '--name', 'bob', '--peer', a.ready.addrs[0]])
  await waitForPeer(join(dir, 'b'), p => p.id === a.ready.peerId && p.connected && p.name === 'alice')
  // alice holds an inbound connection from bob: its remote port is ephemeral, bob's listening port is not
  const bobPort = portOf(b.ready.addrs)
  const entry = await waitForPeer(join(dir, 'a'), p => p.id === b.ready.peerId && p.connected && p.name === 'bob')
  assert.ok(entry.addrs.every((x: string) => x.includes(`/tcp/${bobPort}`)), `listening addresses ${JSON.stringify(entry.addrs)}`)
  assert.ok(entry.connections.some((x: string) => !x.includes(`/tcp/${bobPort}`)), 'the connection itself is from an ephemeral port')
  assert.equal(entry.member, true)
  const text = await runCli(['peers', '--repo', join(dir, 'a')])
  assert.match(text.stdout, new RegExp(`bob +yes \\(direct\\) +/ip4/127\\.0\\.0\\.1/tcp/${bobPort}`))

  // carol knows only bob, bob knows alice: carol meets alice
  await startNode(t, ['--repo', join(dir, 'c'), '--name', 'carol', '--peer', b.ready.addrs[0]])
  const alice = await waitForPeer(join(dir, 'c'), p => p.id === a.ready.peerId && p.connected && p.name === 'alice', 40_000)
  assert.equal(alice.member, true)
})

test('nodes with different swarm keys: each side says "different swarm key" in its log', async (t) => {
  const dir = await tempDir(t)
  const keyA = join(dir, 'a.key')
  const keyB = join(dir, 'b.key')
  await writeFile(keyA, generateSwarmKey(), { mode: 0o600 })
  await writeFile(keyB, generateSwarmKey(), { mode: 0o600 })
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--swarm-key', keyA])
  const b = await startNode(t, ['--repo', join(dir, 'b'), '--swarm-key', keyB, '--peer', a.ready.addrs[0]])
  const dialler = await b.proc.waitForJson(m => m.event === 'swarm-key:mismatch')
  assert.equal(dialler.direction, 'outbound')
  assert.match(dialler.message, /the peer at \/ip4\/127\.0\.0\.1\/tcp\/\d+.* refused the connection: it uses a different swarm key/)
  const listener = await a.proc.waitForJson(m => m.event === 'swarm-key:mismatch')
  assert.equal(listener.direction, 'inbound')
  assert.match(listener.message, /a peer at 127\.0\.0\.1 tried to connect with a different swarm key/)

  // a temporary node of `get` with the wrong key names the reason instead of "found no peer"
  const got = await runCli(['get', 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', '--repo', join(dir, 'c'), '--no-mdns', '--listen', '/ip4/127.0.0.1/tcp/0', '--peer', a.ready.addrs[0], '--swarm-key', keyB, '--timeout', '3'], { cwd: dir })
  assert.equal(got.code, 1, got.stderr)
  assert.match(got.stderr, /found no peer of the swarm in 3 s: the peer at \/ip4\/127\.0\.0\.1\/tcp\/\d+.* refused the connection: it uses a different swarm key/)
})

test('a node of swarm "team" does not count a peer of swarm "other" as a member', async (t) => {
  const dir = await tempDir(t)
  const a = await startNode(t, ['--repo', join(dir, 'a'), '--swarm', 'team'])
  const b = await startNode(t, ['--repo', join(dir, 'b'), '--swarm', 'other', '--peer', a.ready.addrs[0]])
  const entry = await waitForPeer(join(dir, 'a'), p => p.id === b.ready.peerId && p.connected)
  assert.equal(entry.member, false)
  const status = (await runCli(['status', '--json', '--repo', join(dir, 'a')])).json()
  assert.equal(status.peers, 0)
  assert.equal(status.otherSwarmPeers, 1)
  const text = await runCli(['peers', '--repo', join(dir, 'a')])
  assert.match(text.stdout, /no peers of this swarm yet/)
  assert.match(text.stdout, /not members \(another swarm; their files are not listed\): 1/)
})
