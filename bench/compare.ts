/**
 * Client-server vs swarm (issue 8): the same SIZE MiB file (default 32) to N = 1, 2, 4, 8, 16
 * fetchers, both ways in the same run (bench/compare's runComparison, once per N):
 *
 *   - client-server: a central HTTP server streaming from disk, N HTTP clients at once (the baseline);
 *   - swarm: one sharer and N swarmdrop nodes fetching at once from it and from each other.
 *
 * Figures per N: bytes sent by the origin (× the file; goal for the swarm at N = 8: ≤ 2, the server
 * sends 8), wall time until all N have the file (swarm / client-server), and how many fetchers still
 * finish when the origin dies halfway. Writes docs/benchmarks/compare.json and, from it,
 * docs/benchmarks/compare.svg.
 *
 * With one N (`--peers 8`) it also prints that run's table per mode (what `swarmdrop compare`
 * printed before the comparison moved out of the CLI, issue 11).
 *
 * Usage: npm run bench -- compare [--size 32] [--peers 1,2,4,8,16] [--out docs/benchmarks/compare.json]
 */
import '../src/polyfill.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatReport, MiB, runComparison, type CompareReport } from './compare/index.js'
import { writeCompareSvg, type CompareBenchResult, type CompareRun } from './lib/compare-svg.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '32' },
    peers: { type: 'string', default: '1,2,4,8,16' },
    out: { type: 'string', default: 'docs/benchmarks/compare.json' }
  }
})
const sizeMiB = Number(values.size)
const peerCounts = values.peers.split(',').map(Number)
const jsonPath = resolve(root, values.out)
const svgPath = jsonPath.replace(/\.json$/, '.svg')
const args = process.argv.slice(2)
const command = `npm run bench -- compare${args.length > 0 ? ' ' + args.join(' ') : ''}`

const controller = new AbortController()
process.once('SIGINT', () => { controller.abort() })

const line = (text: string): void => { process.stdout.write(text + '\n') }
line(`compare: ${sizeMiB} MiB to N = ${peerCounts.join(', ')} fetchers, client-server (baseline) vs swarm, on 127.0.0.1`)
line('  N | origin bytes (× file) cs → swarm (ratio) | wall time cs → swarm (ratio) | origin dies: finished cs / swarm (file held by fetchers)')
const loadAtStart = loadavg()[0] ?? 0
const runs: CompareRun[] = []
const reports: CompareReport[] = []
const failures: Array<{ peers: number, error: string }> = []
for (const peers of peerCounts) {
  let r
  try {
    r = await runComparison({ peers, size: Math.round(sizeMiB * MiB), signal: controller.signal })
  } catch (err: any) {
    if (controller.signal.aborted) throw err
    // reported, not retried: a figure with a hole says more than a silent second try
    failures.push({ peers, error: `${String(err.name)}: ${String(err.message)}` })
    line(`${String(peers).padStart(3)} | FAILED: ${String(err.name)}: ${String(err.message)}`)
    continue
  }
  reports.push(r)
  const { clientServer: cs, swarm: sw } = r.modes
  runs.push({ peers, clientServer: cs, swarm: sw, ratios: r.ratios, totalMs: r.totalMs })
  line(`${String(peers).padStart(3)} | ${cs.originMultiple.toFixed(2)}× → ${sw.originMultiple.toFixed(2)}× (${r.ratios.originBytes.toFixed(2)}) | ` +
    `${(cs.wallMs / 1000).toFixed(2)} s → ${(sw.wallMs / 1000).toFixed(2)} s (${r.ratios.wallMs.toFixed(2)}×) | ` +
    `${cs.originDies.finished}/${peers} / ${sw.originDies.finished}/${peers} (${Math.round(sw.originDies.heldByFetchers * 100)}%)`)
}

if (peerCounts.length === 1 && reports[0] != null) {
  line('')
  line(`client-server vs swarm: one ${sizeMiB.toFixed(1)} MiB file to ${reports[0].peers} fetcher${reports[0].peers === 1 ? '' : 's'} on 127.0.0.1`)
  for (const l of formatReport(reports[0])) line(l)
}

const result: CompareBenchResult = {
  figure: 'compare',
  command,
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    platform: process.platform,
    // the machine is shared: 1-minute load average when the run started and ended
    load: [Math.round(loadAtStart * 10) / 10, Math.round((loadavg()[0] ?? 0) * 10) / 10]
  },
  size: Math.round(sizeMiB * MiB),
  runs,
  failures
}
await mkdir(dirname(jsonPath), { recursive: true })
await writeFile(jsonPath, JSON.stringify(result, null, 2) + '\n')
await writeCompareSvg(jsonPath, svgPath)
line(`wrote ${jsonPath} and ${svgPath}`)
const at8 = runs.find(r => r.peers === 8)
if (failures.length > 0) process.exitCode = 1
if (at8 != null) line(`goal at N = 8: swarm origin ≤ 2× the file: ${at8.swarm.originMultiple.toFixed(2)}× (${at8.swarm.originMultiple <= 2 ? 'met' : 'NOT met'}; client-server ${at8.clientServer.originMultiple.toFixed(2)}×)`)
