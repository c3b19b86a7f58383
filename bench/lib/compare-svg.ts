/**
 * docs/benchmarks/compare.svg from docs/benchmarks/compare.json (written by
 * bench/compare.ts): origin bytes (× the file) and wall time against N, swarm
 * vs client-server. bench/compare.ts calls it after a run; it also runs alone:
 *
 *   node dist/bench/lib/compare-svg.js [docs/benchmarks/compare.json] [docs/benchmarks/compare.svg]
 */
import '../../src/polyfill.js'
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ModeReport } from '../compare/index.js'
import { lineChart, svgDocument } from './svg.js'

export interface CompareRun {
  peers: number
  clientServer: ModeReport
  swarm: ModeReport
  ratios: { originBytes: number, wallMs: number }
  totalMs: number
}

export interface CompareBenchResult {
  figure: 'compare'
  command: string
  date: string
  machine: { node: string, cpus: number, cpuModel: string, platform: string, load?: [number, number] }
  size: number
  runs: CompareRun[]
  /** Values of N whose run failed (no point on the chart), with why. */
  failures?: Array<{ peers: number, error: string }>
}

const COLOURS = { clientServer: '#d9822b', swarm: '#2b8a3e', goal: '#888' }

export function renderCompareSvg (result: CompareBenchResult): string {
  const runs = [...result.runs].sort((a, b) => a.peers - b.peers)
  const x = runs.map(r => r.peers)
  const mib = result.size / (1024 * 1024)
  const width = 940
  const height = 360
  const charts = [
    lineChart({
      title: 'Bytes sent by the origin (× the file size)',
      xLabel: 'fetchers N (log scale)',
      yLabel: '× file size',
      x,
      logX: true,
      series: [
        { name: 'client-server (HTTP server)', colour: COLOURS.clientServer, values: runs.map(r => r.clientServer.originMultiple) },
        { name: 'swarm (sharer)', colour: COLOURS.swarm, values: runs.map(r => r.swarm.originMultiple) },
        { name: 'swarm goal: 2×', colour: COLOURS.goal, values: runs.map(() => 2), dashed: true }
      ]
    }, { x: 0, y: 0, width: width / 2, height: height - 24 }),
    lineChart({
      title: 'Wall time until all N have the file',
      xLabel: 'fetchers N (log scale)',
      yLabel: 'seconds',
      x,
      logX: true,
      formatY: v => String(Math.round(v * 10) / 10),
      series: [
        { name: 'client-server', colour: COLOURS.clientServer, values: runs.map(r => r.clientServer.wallMs / 1000) },
        { name: 'swarm', colour: COLOURS.swarm, values: runs.map(r => r.swarm.wallMs / 1000) }
      ]
    }, { x: width / 2, y: 0, width: width / 2, height: height - 24 })
  ]
  const failed = result.failures?.map(f => f.peers) ?? []
  const load = result.machine.load != null ? ` (load ${result.machine.load[0]} → ${result.machine.load[1]})` : ''
  const note = `${mib} MiB file, every peer on 127.0.0.1 in one process; ${result.machine.cpus} CPUs${load}, Node ${result.machine.node}; ${result.command}` +
    (failed.length > 0 ? `; no point for N = ${failed.join(', ')} (the run failed, see compare.json)` : '')
  return svgDocument(width, height, charts, { title: `swarmdrop compare: client-server vs swarm, ${mib} MiB to N fetchers`, note })
}

/** Reads the JSON and writes the SVG. */
export async function writeCompareSvg (jsonPath: string, svgPath: string): Promise<void> {
  const result = JSON.parse(await readFile(jsonPath, 'utf8')) as CompareBenchResult
  await writeFile(svgPath, renderCompareSvg(result))
}

const here = fileURLToPath(import.meta.url)
if (process.argv[1] != null && pathToFileURL(resolve(process.argv[1])).href === pathToFileURL(here).href) {
  const root = fileURLToPath(new URL('../../../', import.meta.url))
  const json = process.argv[2] ?? resolve(root, 'docs/benchmarks/compare.json')
  const svg = process.argv[3] ?? resolve(root, 'docs/benchmarks/compare.svg')
  await writeCompareSvg(json, svg)
  process.stdout.write(`wrote ${svg}\n`)
}
