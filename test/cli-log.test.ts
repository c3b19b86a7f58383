/**
 * The node's log (`swarmdrop start`, issue 15 point 4): one line per joining peer, one line per
 * file when it first shows up (never this node's own files), a line when a peer downloads one
 * of this node's files, failed and cancelled fetches, and `status`'s transfer counters.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { attachNodeLog, describeServed, JOIN_NAME_WAIT_MS } from '../src/cli/node-log.js'
import { Output } from '../src/cli/output.js'
import { TypedEventEmitter } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { LOOPBACK, runCli, spawnCli, startNode, tempDir } from './helpers/cli.js'

const ME = '12D3KooWMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMeMe01'
const BOB = '12D3KooWBobBobBobBobBobBobBobBobBobBobBobBobBobBob02'
const CAROL = '12D3KooWCarolCarolCarolCarolCarolCarolCarolCarol03'

/** A node as the log sees it: events, nicknames, its own id and a store that holds `mine`. */
function fakeNode (mine: string[] = []): { node: any, names: Map<string, string>, lines: string[], out: Output } {
  const names = new Map<string, string>()
  const node: any = new TypedEventEmitter<any>()
  node.peerId = ME
  node.peerName = (id: string) => names.get(id)
  node.store = { has: async (cid: string) => mine.includes(cid) }
  const stdout = new PassThrough()
  const lines: string[] = []
  let buf = ''
  stdout.on('data', (c: Buffer) => {
    buf += c.toString()
    const parts = buf.split('\n')
    buf = parts.pop()!
    lines.push(...parts)
  })
  const out = new Output({ stdout, stderr: new PassThrough(), env: {} })
  return { node, names, lines, out }
}

function humanLog (out: Output): (event: string, detail: Record<string, unknown>, human: string) => void {
  return (_event, _detail, human) => { out.print(human) }
}

function entry (cid: string, name: string, providers: string[]): any {
  return { cid, name, size: 2048, providers: providers.map(peer => ({ peer, complete: true, lastSeen: Date.now() })) }
}

test('node log: one line per joining peer, with its nickname once the Hello names it', async () => {
  const { node, names, lines, out } = fakeNode()
  attachNodeLog(node, out, humanLog(out))
  node.safeDispatchEvent('peer:connect', { id: BOB })
  names.set(BOB, 'bob')
  node.safeDispatchEvent('peer:name', { id: BOB, name: 'bob' })
  // a second connection of the same peer and the same name again: nothing new
  node.safeDispatchEvent('peer:connect', { id: BOB })
  node.safeDispatchEvent('peer:name', { id: BOB, name: 'bob' })
  // a peer whose name is known already: its line at once
  names.set(CAROL, 'carol')
  node.safeDispatchEvent('peer:connect', { id: CAROL })
  // a peer that comes and goes before its Hello: no line at all
  const DAVE = '12D3KooWDaveDaveDaveDaveDaveDaveDaveDaveDaveDaveDav04'
  node.safeDispatchEvent('peer:connect', { id: DAVE })
  node.safeDispatchEvent('peer:disconnect', { id: DAVE })
  node.safeDispatchEvent('peer:disconnect', { id: BOB })
  await waitFor(() => lines.length >= 3, { timeout: 5000, interval: 0, message: 'three lines' })
  assert.deepEqual(lines.map(l => l.replace(/\s+/g, ' ')), [
    'peer joined bob (12D3Ko…bBob02)',
    'peer joined carol (12D3Ko…arol03)',
    'peer left bob (12D3Ko…bBob02)'
  ])
})

test('node log: a peer without a Hello after 2 s gets a "connected" line; its name, if it comes, one more', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const { node, names, lines, out } = fakeNode()
  attachNodeLog(node, out, humanLog(out))
  node.safeDispatchEvent('peer:connect', { id: BOB })
  t.mock.timers.tick(JOIN_NAME_WAIT_MS - 1)
  await new Promise(resolve => setImmediate(resolve))
  assert.equal(lines.length, 0, lines.join('\n'))
  t.mock.timers.tick(1)
  names.set(BOB, 'bob')
  node.safeDispatchEvent('peer:name', { id: BOB, name: 'bob' })
  await waitFor(() => lines.length >= 2, { timeout: 5000, interval: 0, message: 'two lines' })
  assert.deepEqual(lines.map(l => l.replace(/\s+/g, ' ')), [
    'connected 12D3Ko…bBob02 (no Hello yet: a slow peer, or one of another swarm)',
    'peer named bob (12D3Ko…bBob02)'
  ])
})

test('node log: a file once, from its first announcer; this node\'s own files never', async () => {
  const { node, names, lines, out } = fakeNode(['bafymine-fetched'])
  names.set(BOB, 'bob')
  names.set(CAROL, 'carol')
  attachNodeLog(node, out, humanLog(out))
  node.safeDispatchEvent('file:announced', { entry: entry('bafyholiday', 'holiday.jpg', [BOB]), peer: BOB })
  node.safeDispatchEvent('file:announced', { entry: entry('bafyholiday', 'holiday.jpg', [BOB, CAROL]), peer: CAROL })
  node.safeDispatchEvent('file:announced', { entry: entry('bafyholiday', 'holiday.jpg', [BOB, CAROL]), peer: BOB })
  // shared here (this node is a provider), or already in the store: not news from bob
  node.safeDispatchEvent('file:announced', { entry: entry('bafymine', 'mine.txt', [ME, BOB]), peer: BOB })
  node.safeDispatchEvent('file:announced', { entry: entry('bafymine-fetched', 'fetched.txt', [BOB]), peer: BOB })
  // a barrier: a line that comes after every check above
  node.safeDispatchEvent('file:announced', { entry: entry('bafylast', 'last.txt', [CAROL]), peer: CAROL })
  await waitFor(() => lines.some(l => l.includes('last.txt')), { timeout: 5000, interval: 0, message: 'the last line' })
  assert.deepEqual(lines.map(l => l.replace(/\s+/g, ' ')), [
    'file holiday.jpg (2.0 KiB) bafyholiday from bob (12D3Ko…bBob02)',
    'file last.txt (2.0 KiB) bafylast from carol (12D3Ko…arol03)'
  ])
})

test('node log: who downloaded what, and how much was sent of a download that stopped', () => {
  const who = (id: string): string => id === BOB ? 'bob (…Bob02)' : id
  assert.equal(describeServed({ peer: BOB, cid: 'bafyx', name: 'holiday.jpg', bytes: 3 * 1024 * 1024, blocks: 3, ended: 'done' }, who).replace(/\s+/g, ' '),
    'sent holiday.jpg (3.0 MiB) to bob (…Bob02)')
  assert.equal(describeServed({ peer: BOB, cid: 'bafyx', name: 'holiday.jpg', bytes: 1024 * 1024, blocks: 1, ended: 'aborted' }, who).replace(/\s+/g, ' '),
    'sent 1.0 MiB of holiday.jpg to bob (…Bob02) before the download stopped')
  assert.equal(describeServed({ peer: BOB, bytes: 1024, blocks: 1, ended: 'done' }, who).replace(/\s+/g, ' '),
    'sent blocks of a file (resumed download) (1.0 KiB) to bob (…Bob02)')
})

test('swarmdrop start logs a peer\'s download of my file, failed and cancelled fetches; status counts bytes up and down', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-log-')
  const alice = spawnCli(['start', ...LOOPBACK, '--repo', join(dir, 'a'), '--name', 'alice'])
  t.after(async () => {
    if (alice.exit == null) {
      alice.kill('SIGKILL')
      await alice.waitForExit()
    }
  })
  const addr = (await alice.waitForLine(/^ {2}listening /)).trim().split(/\s+/)[1]!
  await alice.waitForLine(/^ready:/)
  const bob = await startNode(t, ['--repo', join(dir, 'b'), '--name', 'bob', '--peer', addr])
  await alice.waitForLine(/peer joined +bob \(/)

  const size = 2 * 1024 * 1024 + 3
  await writeFile(join(dir, 'report.pdf'), randomBytes(size))
  const sh = await runCli(['share', join(dir, 'report.pdf'), '--json', '--repo', join(dir, 'a')])
  assert.equal(sh.code, 0, sh.stderr)
  const cid: string = sh.json().files[0].cid
  await waitFor(async () => {
    const r = await runCli(['ls', '--json', '--repo', join(dir, 'b')])
    return r.code === 0 && r.json().files.some((f: any) => f.cid === cid)
  }, { timeout: 15_000, interval: 0, message: 'bob lists the file' })
  const got = await runCli(['get', cid, '--repo', join(dir, 'b')], { cwd: await tempDir(t, 'dl-') })
  assert.equal(got.code, 0, got.stderr)

  // alice's log: who fetched what, and how much
  const sent = await alice.waitForLine(/ sent +report\.pdf/)
  assert.match(sent, /sent +report\.pdf \(2\.0 MiB\) to bob \(12D3Ko…\w+\)$/)

  // status: bytes up on alice, bytes down on bob, nothing running now
  const sa = await runCli(['status', '--json', '--repo', join(dir, 'a')])
  assert.ok(sa.json().transfer.uploaded >= size, JSON.stringify(sa.json().transfer))
  assert.equal(sa.json().transfer.downloads, 0)
  const sb = await runCli(['status', '--json', '--repo', join(dir, 'b')])
  assert.ok(sb.json().transfer.downloaded >= size, JSON.stringify(sb.json().transfer))
  const text = await runCli(['status', '--repo', join(dir, 'a')])
  assert.match(text.stdout, /^uploaded +2\.0 MiB since start, 0 uploads running$/m)
  assert.match(text.stdout, /^downloaded +0 B since start, 0 downloads running$/m)

  // exactly one join line for bob, and alice's own file never shown as news from bob
  assert.equal(alice.stdout.filter(l => /peer joined/.test(l)).length, 1, alice.stdout.join('\n'))
  assert.equal(alice.stdout.filter(l => /peer named/.test(l)).length, 0, alice.stdout.join('\n'))
  assert.ok(!alice.stdout.some(l => /file +report\.pdf/.test(l)), alice.stdout.join('\n'))

  // a fetch that fails, and one the client cancels, both show in the node's log
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const nobodyHas = async (): Promise<string> => CID.createV1(0x55, await sha256.digest(randomBytes(32))).toString()
  const missing = await nobodyHas()
  const failed = await runCli(['get', missing, '--timeout', '1', '--repo', join(dir, 'b')], { cwd: dir })
  assert.equal(failed.code, 1)
  const f = await bob.proc.waitForJson(m => m.event === 'fetch:failed' && m.cid === missing)
  assert.equal(f.cancelled, false)
  assert.match(f.error, /no peer in the swarm provides/)
  const other = await nobodyHas()
  const p = spawnCli(['get', other, '--repo', join(dir, 'a')], { cwd: dir })
  await alice.waitForLine(new RegExp(`fetching +${other}`))
  p.kill('SIGINT')
  assert.equal((await p.waitForExit()).code, 130)
  await alice.waitForLine(new RegExp(`cancelled +fetch of ${other} \\(the client stopped it\\)`))
})
