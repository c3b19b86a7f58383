/** `swarmdrop demo`: a local swarm on 127.0.0.1 that shares, fetches, reports and cleans up. */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, tourCommands } from './helpers/cli.js'

test('the README tour\'s `npx swarmdrop demo` exits 0, prints the table and removes its temporary repositories', async (t) => {
  assert.ok((await tourCommands()).includes('swarmdrop demo'), 'the tour shows the demo')
  const tmp = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-demo-'))
  t.after(async () => { await rm(tmp, { recursive: true, force: true }) })
  const r = await runCli(['demo'], { timeout: 60_000, env: { TMPDIR: tmp } })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^swarmdrop demo: 3 nodes, one 16\.0 MiB file$/m)
  assert.match(r.stdout, /^NODE +ROLE +HEARD OF FILE +FETCHED IN +RATE +FROM PEERS$/m)
  assert.match(r.stdout, /^node-0 +sharer/m)
  assert.match(r.stdout, /^node-1 +fetcher +\+\d+(\.\d)? m?s +\d+(\.\d)? m?s +\d+(\.\d)? [KMG]iB\/s +[12]$/m)
  assert.match(r.stdout, /^node-2 +fetcher/m)
  for (const row of ['discovery', 'announcement', 'transfer', 'sharer upload']) assert.match(r.stdout, new RegExp(`^${row} `, 'm'))
  assert.match(r.stderr, /node-1: 100% \(16\.0 MiB of 16\.0 MiB\)/, 'progress lines when piped')
  assert.deepEqual(await readdir(tmp), [], 'temporary repositories removed')
})

test('demo --json reports every fetcher; bad options exit 2', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-demo-'))
  t.after(async () => { await rm(tmp, { recursive: true, force: true }) })
  const r = await runCli(['demo', '--nodes', '2', '--size', '2', '--json'], { timeout: 60_000, env: { TMPDIR: tmp } })
  assert.equal(r.code, 0, r.stderr)
  const report = r.json()
  assert.equal(report.nodes, 2)
  assert.equal(report.size, 2 * 1024 * 1024)
  assert.match(report.cid, /^bafy/)
  assert.equal(report.fetchers.length, 1)
  for (const f of report.fetchers) {
    assert.match(f.peerId, /^12D3Koo/)
    for (const k of ['announcementMs', 'elapsedMs', 'rate', 'providers']) assert.equal(typeof f[k], 'number', k)
    assert.ok(f.rate > 0 && f.providers === 1)
  }
  assert.ok(report.uploadedBySharer >= report.size, 'one fetcher: everything came from the sharer')
  assert.equal(report.uploadedRatio, Number((report.uploadedBySharer / report.size).toFixed(2)))
  for (const k of ['discoveryMs', 'shareMs', 'totalMs']) assert.equal(typeof report[k], 'number', k)
  assert.equal(r.stderr, '', 'no progress output with --json')
  assert.deepEqual(await readdir(tmp), [])

  const bad = await runCli(['demo', '--nodes', '1'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--nodes must be a whole number from 2 to 16/)
})
