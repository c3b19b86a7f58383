/**
 * The report of the comparison (bench/compare): figures per mode from the runs (pure
 * functions), a table, and a small bar chart for terminals. No I/O here.
 */
import { formatBytes, formatDuration, formatTable } from '../../src/cli/format.js'
import type { ModeName, OriginDiesResult, RunResult } from './types.js'

export interface OriginDiesReport {
  /** Fetchers in the run where the origin died halfway. */
  fetchers: number
  /** Fetchers that still got the whole file. */
  finished: number
  /** Fetchers that did not (client-server: cut off; swarm: blocks nobody else had). */
  failed: number
  /** Of the finished ones, those that already had the whole file when the origin died. */
  finishedBefore: number
  /** Why the others failed: error name → fetchers (e.g. IncompleteDownloadError, BlocksLostError). */
  reasons: Record<string, number>
  /**
   * Fraction of the file (0..1, rounded down) that had reached at least one fetcher when the
   * origin was gone (blocks in flight included). Below 1, the rest existed only at the origin.
   */
  heldByFetchers: number
  /** How far the distribution was when the origin died: fetchers' bytes / (N × file). */
  diedAt: number
  /** When it died, ms after the common start. */
  diedMs: number
  /** Bytes the origin sent before it died. */
  originBytes: number
}

export interface ModeReport {
  mode: ModeName
  /** From the common start until all N have the file, ms. */
  wallMs: number
  /** Bytes the origin sent (the server's file bytes, the sharer's block bytes). */
  originBytes: number
  /** originBytes / file size. */
  originMultiple: number
  /** Bytes the fetchers sent to each other. */
  peerBytes: number
  /** Median and slowest time of one fetcher, from the common start, ms. */
  medianMs: number
  slowestMs: number
  /**
   * CPU time the process spent during the wall time, ms (every peer runs in this one process:
   * more than the wall time means both cores were busy; near it, one core was the limit).
   */
  cpuMs: number
  originDies: OriginDiesReport
}

export interface CompareReport {
  /** Fetchers. */
  peers: number
  /** File size in bytes. */
  size: number
  host: '127.0.0.1'
  modes: {
    clientServer: ModeReport
    swarm: ModeReport
  }
  /** swarm / client-server. */
  ratios: { originBytes: number, wallMs: number }
  /** Run of the whole comparison (setup included), ms. */
  totalMs: number
  machine: { node: string, cpus: number, platform: string }
}

export function median (values: readonly number[]): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const round2 = (n: number): number => Math.round(n * 100) / 100
/** Rounded down, so that 1 means all of it. */
const floor2 = (n: number): number => Math.floor(n * 100) / 100

function reasonsOf (run: RunResult): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of run.peers) {
    if (p.ok) continue
    const name = /^([A-Za-z]+):/.exec(p.error ?? '')?.[1] ?? 'Error'
    out[name] = (out[name] ?? 0) + 1
  }
  return out
}

/** Figures of one mode from its full run and its origin-dies run. */
export function modeReport (mode: ModeName, size: number, full: RunResult, dies: OriginDiesResult): ModeReport {
  const times = full.peers.map(p => p.ms)
  const finished = dies.peers.filter(p => p.ok).length
  return {
    mode,
    wallMs: Math.round(full.wallMs),
    originBytes: full.originBytes,
    originMultiple: round2(full.originBytes / size),
    peerBytes: full.peerBytes,
    medianMs: Math.round(median(times)),
    slowestMs: Math.round(Math.max(0, ...times)),
    cpuMs: Math.round(full.cpuMs),
    originDies: {
      fetchers: dies.peers.length,
      finished,
      failed: dies.peers.length - finished,
      finishedBefore: dies.peers.filter(p => p.ok && p.ms <= dies.diedMs).length,
      reasons: reasonsOf(dies),
      heldByFetchers: floor2(dies.heldByFetchers),
      diedAt: round2(dies.diedAt),
      diedMs: Math.round(dies.diedMs),
      originBytes: dies.originBytes
    }
  }
}

export function ratios (clientServer: ModeReport, swarm: ModeReport): CompareReport['ratios'] {
  return {
    originBytes: round2(swarm.originBytes / Math.max(1, clientServer.originBytes)),
    wallMs: round2(swarm.wallMs / Math.max(1, clientServer.wallMs))
  }
}

function diesLine (d: OriginDiesReport, mode: ModeName): string {
  const after = d.finished - d.finishedBefore
  const before = d.finishedBefore > 0 ? `${d.finishedBefore} done before + ` : ''
  return `${before}${after}${d.finishedBefore > 0 ? '' : ` of ${d.fetchers}`} finished${mode === 'swarm' && after > 0 ? ' from peers' : ''}, ${d.failed} failed`
}

/** The table: one column per mode. */
export function formatReport (r: CompareReport): string[] {
  const cs = r.modes.clientServer
  const sw = r.modes.swarm
  const rows = [
    ['', 'CLIENT-SERVER', 'SWARM'],
    [`wall time (all ${r.peers} have it)`, formatDuration(cs.wallMs), formatDuration(sw.wallMs)],
    ['sent by the origin', `${formatBytes(cs.originBytes)} = ${cs.originMultiple.toFixed(2)}×`, `${formatBytes(sw.originBytes)} = ${sw.originMultiple.toFixed(2)}×`],
    ['sent peer to peer', formatBytes(cs.peerBytes), formatBytes(sw.peerBytes)],
    ['median per peer', formatDuration(cs.medianMs), formatDuration(sw.medianMs)],
    ['slowest peer', formatDuration(cs.slowestMs), formatDuration(sw.slowestMs)],
    ['CPU time (all peers)', formatDuration(cs.cpuMs), formatDuration(sw.cpuMs)],
    ['origin dies halfway', diesLine(cs.originDies, cs.mode), diesLine(sw.originDies, sw.mode)],
    ['  file that had left the origin', `${Math.floor(cs.originDies.heldByFetchers * 100)}%`, `${Math.floor(sw.originDies.heldByFetchers * 100)}%`]
  ]
  return formatTable(rows, { align: ['left', 'right', 'right'] })
}

export interface ChartOptions {
  /** Width of the longest bar in characters (default 32). */
  width?: number
  /** Colours the bars (e.g. Output.style). */
  paint?: (mode: ModeName, bar: string) => string
}

/** Two small horizontal bar charts: origin bytes (× file) and wall time. */
export function formatChart (r: CompareReport, options: ChartOptions = {}): string[] {
  const width = options.width ?? 32
  const paint = options.paint ?? ((_m: ModeName, bar: string) => bar)
  const modes = [r.modes.clientServer, r.modes.swarm]
  const chart = (title: string, value: (m: ModeReport) => number, label: (m: ModeReport) => string): string[] => {
    const max = Math.max(...modes.map(value), Number.MIN_VALUE)
    const lines = [title]
    for (const m of modes) {
      const n = Math.max(value(m) > 0 ? 1 : 0, Math.round(value(m) / max * width))
      lines.push(`  ${m.mode.padEnd(13)} ${paint(m.mode, '█'.repeat(n))}${' '.repeat(width - n)} ${label(m)}`)
    }
    return lines
  }
  return [
    ...chart(`bytes sent by the origin (× the file, ${r.peers} fetcher${r.peers === 1 ? '' : 's'})`, m => m.originMultiple, m => `${m.originMultiple.toFixed(2)}×`),
    '',
    ...chart('wall time until all have it', m => m.wallMs, m => formatDuration(m.wallMs))
  ]
}
