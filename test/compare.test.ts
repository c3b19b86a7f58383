/**
 * The client-server vs swarm comparison (issue 8; bench/compare since issue 11
 * moved it out of the CLI): the central HTTP file server and its clients, the
 * report, and runComparison comparing client-server with the swarm on 127.0.0.1.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { waitFor } from '../src/util/wait.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createFileServer, downloadFile, formatChart, formatReport, listFiles, median, uploadFile, runComparison,
  BlocksLostError, HttpStatusError, IncompleteDownloadError, InvalidCompareOptionError,
  type CompareReport, type ModeReport
} from '../bench/compare/index.js'
import { runClientServer, runClientServerOriginDies } from '../bench/compare/client-server.js'
import { runSwarmOriginDies } from '../bench/compare/swarm.js'

const MiB = 1024 * 1024

async function tempDir (t: { after: (fn: () => Promise<void>) => void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('file server: upload, list and download are byte-identical, only on 127.0.0.1, and sent bytes are counted', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-compare-http-')
  const server = await createFileServer({ dir })
  t.after(async () => { await server.close() })
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)

  const content = randomBytes(3 * MiB + 17)
  await writeFile(join(dir, 'src.bin'), content)
  const stored = await uploadFile(server.url, join(dir, 'src.bin'), 'holiday photos.bin')
  assert.deepEqual(stored, { id: stored.id, name: 'holiday photos.bin', size: content.byteLength })
  assert.deepEqual(await listFiles(server.url), [stored])

  let last = 0
  const bytes = await downloadFile(server.url, stored.id, join(dir, 'a.bin'), { onBytes: (b) => { last = b } })
  await downloadFile(server.url, stored.id, join(dir, 'b.bin'))
  assert.equal(bytes, content.byteLength)
  assert.equal(last, content.byteLength)
  assert.ok(content.equals(await readFile(join(dir, 'a.bin'))))
  assert.ok(content.equals(await readFile(join(dir, 'b.bin'))))
  // the server counts a download once its side of the response has ended, which may come after the client's last byte
  await waitFor(() => server.stats().downloads.completed + server.stats().downloads.aborted === 2, { timeout: 5000, message: 'the server to account for both downloads' })
  const stats = server.stats()
  assert.equal(stats.bytesSent, 2 * content.byteLength)
  assert.deepEqual(stats.downloads, { started: 2, completed: 2, aborted: 0 })
  assert.equal(stats.uploads, 1)

  await assert.rejects(downloadFile(server.url, '999', join(dir, 'c.bin')), { name: 'HttpStatusError', status: 404 })
})

test('file server: kill() cuts a download short; the client fails with IncompleteDownloadError', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-compare-kill-')
  const server = await createFileServer({ dir })
  t.after(async () => { await server.close() })
  await writeFile(join(dir, 'src.bin'), randomBytes(64 * MiB))
  const stored = await uploadFile(server.url, join(dir, 'src.bin'), 'big.bin')
  let killed: Promise<void> | undefined
  const download = downloadFile(server.url, stored.id, join(dir, 'out.bin'), {
    onBytes: (b) => { if (b >= MiB && killed == null) killed = server.kill() }
  })
  await assert.rejects(download, (err: any) => {
    assert.equal(err.name, 'IncompleteDownloadError')
    assert.ok(err.received < err.expected, `${err.received} < ${err.expected}`)
    return true
  })
  await killed
  await assert.rejects(listFiles(server.url), { code: 'ECONNREFUSED' })
})

test('client-server mode: the server sends N copies; killed halfway, the clients are cut off', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-compare-cs-')
  // large enough that the half left to each client cannot all sit in socket buffers when the server dies
  const size = 16 * MiB
  await writeFile(join(dir, 'file.bin'), randomBytes(size))
  const base = { path: join(dir, 'file.bin'), name: 'file.bin', size, peers: 3 }

  const full = await runClientServer({ ...base, dir: join(dir, 'full') })
  assert.equal(full.originBytes, 3 * size)
  assert.equal(full.peerBytes, 0)
  assert.equal(full.peers.length, 3)
  for (const p of full.peers) {
    assert.equal(p.ok, true)
    assert.equal(p.bytes, size)
    assert.ok(p.ms > 0 && p.ms <= full.wallMs)
  }

  const events: string[] = []
  const dies = await runClientServerOriginDies({ ...base, dir: join(dir, 'dies'), idleTimeout: 1000, onProgress: (evt) => { if (evt.type === 'compare:phase') events.push(evt.detail.phase) } })
  assert.deepEqual(events, ['setup', 'origin-dies', 'killed'])
  assert.ok(dies.diedAt >= 0.5 && dies.diedAt < 1, `died at ${dies.diedAt}`)
  assert.ok(dies.originBytes < 3 * size)
  const failed = dies.peers.filter(p => !p.ok)
  assert.ok(failed.length >= 1, 'at least one client was cut off')
  for (const p of failed) {
    assert.ok(p.bytes < size)
    assert.match(p.error ?? '', /IncompleteDownloadError|ECONNRESET|ECONNREFUSED|aborted/)
  }
})

function mode (name: ModeReport['mode'], over: Partial<ModeReport> = {}): ModeReport {
  return {
    mode: name,
    wallMs: 1000,
    originBytes: 4 * MiB,
    originMultiple: 4,
    peerBytes: 0,
    medianMs: 900,
    slowestMs: 1000,
    cpuMs: 800,
    originDies: { fetchers: 4, finished: 0, failed: 4, finishedBefore: 0, reasons: { IncompleteDownloadError: 4 }, heldByFetchers: 0.5, diedAt: 0.5, diedMs: 500, originBytes: 2 * MiB },
    ...over
  }
}

test('errors carry their names; bad options are refused before anything starts', async () => {
  for (const [name, Err, err] of [
    ['InvalidCompareOptionError', InvalidCompareOptionError, new InvalidCompareOptionError('x')],
    ['HttpStatusError', HttpStatusError, new HttpStatusError(404, 'http://127.0.0.1:1/files/9')],
    ['IncompleteDownloadError', IncompleteDownloadError, new IncompleteDownloadError(1, 2)],
    ['BlocksLostError', BlocksLostError, new BlocksLostError(2, 17)]
  ] as const) {
    assert.equal(err.name, name)
    assert.equal(Err.name, name)
    assert.ok(err instanceof Error)
  }
  await assert.rejects(runComparison({ peers: 0 }), { name: 'InvalidCompareOptionError' })
  await assert.rejects(runComparison({ peers: 17 }), { name: 'InvalidCompareOptionError' })
  await assert.rejects(runComparison({ size: 0 }), { name: 'InvalidCompareOptionError' })
  await assert.rejects(runComparison({ dieAt: 1 }), { name: 'InvalidCompareOptionError' })
})

test('report: median, table and chart', () => {
  assert.equal(median([]), 0)
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  const report: CompareReport = {
    peers: 4,
    size: MiB,
    host: '127.0.0.1',
    modes: {
      clientServer: mode('client-server'),
      swarm: mode('swarm', { wallMs: 2500, originBytes: 1.5 * MiB, originMultiple: 1.5, peerBytes: 2.5 * MiB, originDies: { fetchers: 4, finished: 4, failed: 0, finishedBefore: 0, reasons: {}, heldByFetchers: 1, diedAt: 0.5, diedMs: 1200, originBytes: MiB } })
    },
    ratios: { originBytes: 0.38, wallMs: 2.5 },
    totalMs: 9000,
    machine: { node: 'v20', cpus: 2, platform: 'linux' }
  }
  const table = formatReport(report).join('\n')
  assert.match(table, /CLIENT-SERVER\s+SWARM/)
  assert.match(table, /sent by the origin\s+4\.0 MiB = 4\.00×\s+1\.5 MiB = 1\.50×/)
  assert.match(table, /origin dies halfway\s+0 of 4 finished, 4 failed\s+4 of 4 finished from peers, 0 failed/)
  const chart = formatChart(report, { width: 20 })
  // the longest bar fills the width; the other is in proportion
  assert.equal((chart[1]!.match(/█/g) ?? []).length, 20)
  assert.equal((chart[2]!.match(/█/g) ?? []).length, Math.round(1.5 / 4 * 20))
  assert.match(chart[2]!, /swarm\s+█+\s+1\.50×$/)
  assert.match(chart.at(-2)!, /client-server\s+█{8}\s+1\.0 s$/)
  assert.match(chart.at(-1)!, /swarm\s+█{20}\s+2\.5 s$/)
})

test('swarm mode: the sharer dies once the fetchers must hold every block; each one finishes from the others', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-compare-swarm-')
  const size = 8 * MiB
  await writeFile(join(dir, 'file.bin'), randomBytes(size))
  // a block missing everywhere would leave each of the 3 fetchers at most 7 of the 8 MiB:
  // past 7/8 of 3 × 8 MiB the whole file is among them
  const base = { path: join(dir, 'file.bin'), name: 'file.bin', size, peers: 3, dieAt: 0.9, idleTimeout: 30_000 }
  const dies = await runSwarmOriginDies({ ...base, dir: join(dir, 'swarm') })
  assert.equal(dies.heldByFetchers, 1)
  assert.ok(dies.diedAt >= 0.9 && dies.diedMs > 0, JSON.stringify(dies))
  assert.deepEqual(dies.peers.map(p => [p.ok, p.bytes, p.error]), [[true, size, undefined], [true, size, undefined], [true, size, undefined]])
  assert.ok(dies.peerBytes > 0)
})

const NUMBER_FIELDS = ['wallMs', 'originBytes', 'originMultiple', 'peerBytes', 'medianMs', 'slowestMs', 'cpuMs'] as const
const DIES_FIELDS = ['fetchers', 'finished', 'failed', 'finishedBefore', 'heldByFetchers', 'diedAt', 'diedMs', 'originBytes'] as const

test('runComparison, 4 peers, 16 MiB: both modes, the swarm origin sends less, the origin-dies case says who finished', async (t) => {
  const tmp = await tempDir(t, 'swarmdrop-compare-run-')
  const size = 16 * MiB
  const phases: string[] = []
  const report = await runComparison({ peers: 4, size, dir: tmp, onProgress: (evt) => { if (evt.type === 'compare:phase') phases.push(`${evt.detail.mode}:${evt.detail.phase}`) } })
  // JSON-ready: what `npm run bench -- compare` writes per N
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report)
  for (const phase of ['client-server:fetch', 'client-server:origin-dies', 'swarm:fetch', 'swarm:origin-dies', 'swarm:killed']) assert.ok(phases.includes(phase), `${phase} in ${phases.join(', ')}`)
  assert.equal(report.peers, 4)
  assert.equal(report.size, size)
  assert.equal(report.host, '127.0.0.1')
  for (const [key, name] of [['clientServer', 'client-server'], ['swarm', 'swarm']] as const) {
    const m = report.modes[key]
    assert.equal(m.mode, name)
    for (const f of NUMBER_FIELDS) assert.ok(typeof m[f] === 'number' && Number.isFinite(m[f]) && m[f] >= 0, `${key}.${f} = ${m[f]}`)
    for (const f of DIES_FIELDS) assert.ok(typeof m.originDies[f] === 'number' && Number.isFinite(m.originDies[f]), `${key}.originDies.${f} = ${m.originDies[f]}`)
    assert.ok(m.wallMs > 0 && m.medianMs <= m.slowestMs && m.slowestMs <= m.wallMs + 1, JSON.stringify(m))
    assert.equal(m.originMultiple, Math.round(m.originBytes / size * 100) / 100)
    assert.equal(m.originDies.fetchers, 4)
    assert.equal(m.originDies.finished + m.originDies.failed, 4)
    assert.ok(m.originDies.diedAt >= 0.5, `${key} origin died at ${m.originDies.diedAt}`)
  }
  const { clientServer: cs, swarm: sw } = report.modes
  // acceptance 1: the server sends a copy per client; the sharer less, the fetchers serve each other
  assert.equal(cs.originBytes, 4 * size)
  assert.equal(cs.peerBytes, 0)
  assert.ok(sw.originBytes < cs.originBytes, `swarm origin ${sw.originBytes} < client-server origin ${cs.originBytes}`)
  assert.ok(sw.peerBytes > 0, 'swarm fetchers served each other')
  // acceptance 2: with the whole file somewhere among the fetchers every one finishes from peers;
  // with part of it only at the origin, only those that were already done have it
  const d = sw.originDies
  assert.equal(d.finished, d.heldByFetchers === 1 ? 4 : d.finishedBefore, JSON.stringify(d))
  // the ones that could not finish are stopped as soon as the blocks are known to be lost
  if (d.heldByFetchers < 1) assert.deepEqual(d.reasons, { BlocksLostError: d.failed })
  assert.equal(Object.values(cs.originDies.reasons).reduce((a, b) => a + b, 0), cs.originDies.failed)
  assert.ok(cs.originDies.failed >= 1, JSON.stringify(cs.originDies))
  assert.deepEqual(await readdir(tmp), [], 'temporary folders removed')
})

test('runComparison: aborted while the swarm fetches → rejects with the reason, every node stopped, temporary folders removed', async (t) => {
  const tmp = await tempDir(t, 'swarmdrop-compare-abort-')
  const tcp = (): number => process.getActiveResourcesInfo().filter(r => r.startsWith('TCP')).length
  const before = tcp()
  const controller = new AbortController()
  const reason = new Error('stop here')
  await assert.rejects(runComparison({
    peers: 2,
    size: 32 * MiB,
    dir: tmp,
    signal: controller.signal,
    onProgress: (evt) => { if (evt.type === 'compare:phase' && evt.detail.mode === 'swarm' && evt.detail.phase === 'fetch') controller.abort(reason) }
  }), (err) => err === reason)
  assert.deepEqual(await readdir(tmp), [], 'temporary folders removed')
  // every node stopped: no listener or connection of the run is left (closed handles leave the list on the next turns)
  await waitFor(() => tcp() <= before, { timeout: 10_000, message: () => `TCP handles back to ${before} (now ${tcp()})` })
})
