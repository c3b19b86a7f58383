/** `swarmdrop demo`: a local swarm on 127.0.0.1 that shares, fetches, reports and cleans up. */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from './helpers/cli.js'

test('demo exits 0 with a report of every fetcher and removes its temporary repositories', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-demo-'))
  t.after(async () => { await rm(tmp, { recursive: true, force: true }) })
  const r = await runCli(['demo', '--nodes', '4', '--size', '8', '--json'], { timeout: 60_000, env: { TMPDIR: tmp } })
  assert.equal(r.code, 0, r.stderr)
  const report = r.json()
  assert.equal(report.nodes, 4)
  assert.equal(report.size, 8 * 1024 * 1024)
  assert.match(report.cid, /^bafy/)
  assert.equal(report.fetchers.length, 3)
  for (const f of report.fetchers) {
    assert.match(f.peerId, /^12D3Koo/)
    for (const k of ['announcementMs', 'elapsedMs', 'rate', 'providers']) assert.equal(typeof f[k], 'number', k)
    assert.ok(f.rate > 0 && f.providers >= 1)
  }
  assert.ok(report.uploadedBySharer > 0)
  assert.equal(report.uploadedRatio, Number((report.uploadedBySharer / report.size).toFixed(2)))
  for (const k of ['discoveryMs', 'shareMs', 'totalMs']) assert.equal(typeof report[k], 'number', k)
  assert.deepEqual(await readdir(tmp), [], 'temporary repositories removed')

  const bad = await runCli(['demo', '--nodes', '1'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /--nodes must be a whole number from 2 to 16/)
})
