/**
 * Client-server vs swarm: the same generated file distributed to N fetchers
 * two ways in one run, on 127.0.0.1 only, and measured:
 *
 *   - client-server: a central HTTP file server (upload, list, download,
 *     streaming from disk) and N HTTP clients downloading at once;
 *   - swarm: one sharer and N swarmdrop nodes fetching at once, from the
 *     sharer and from each other.
 *
 * Each mode runs twice: a full distribution (wall time, bytes sent by the
 * origin, per-peer times) and one where the origin is stopped once half the
 * bytes are delivered (how many fetchers still finish). Every server, node and
 * temporary folder is gone when runComparison() settles, failed or not.
 *
 * A benchmark, not part of the package: it lives in bench/ (run by
 * `npm run bench -- compare`, tested by test/compare.test.ts) and uses the
 * package's public surface only (createSwarmNode from src/index.ts); the
 * HTTP server is its own.
 *
 * @example
 * ```ts
 * const report = await runComparison({ peers: 4, size: 16 * 1024 * 1024 })
 * console.log(report.modes.swarm.originMultiple, 'x the file vs', report.modes.clientServer.originMultiple)
 * ```
 */
import { randomBytes } from 'node:crypto'
import { setMaxListeners } from 'node:events'
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { runClientServer, runClientServerOriginDies } from './client-server.js'
import { InvalidCompareOptionError } from './errors.js'
import { modeReport, ratios, type CompareReport } from './report.js'
import { runSwarm, runSwarmOriginDies } from './swarm.js'
import type { CompareProgressEvents } from './types.js'

export const MiB = 1024 * 1024
export const DEFAULT_PEERS = 8
export const MAX_PEERS = 16
export const DEFAULT_SIZE = 16 * MiB
export const MAX_SIZE = 256 * MiB
/**
 * After the origin died, a swarm fetcher that receives no block for this long gives up (ms):
 * the same patience as in the full run. (When blocks are known to be lost with the origin, the
 * remaining fetches are stopped at once: see BlocksLostError.)
 */
export const DEFAULT_IDLE_TIMEOUT = 60_000

export interface CompareOptions {
  /** Fetchers in each mode (default 8, 1 to 16). */
  peers?: number
  /** File size in bytes (default 16 MiB, at most 256 MiB). */
  size?: number
  /** Parent of the temporary folder (default the OS temp folder). */
  dir?: string
  /** The origin dies when the fetchers together hold this fraction of N × the file (default 0.5). */
  dieAt?: number
  /** After the origin died, a swarm fetcher idle this long fails, ms (default 60 s). */
  idleTimeout?: number
  signal?: AbortSignal
  onProgress?: (evt: CompareProgressEvents) => void
}

async function writeRandomFile (path: string, size: number, signal?: AbortSignal): Promise<void> {
  const fh = await open(path, 'w', 0o600)
  try {
    for (let left = size; left > 0; left -= MiB) {
      signal?.throwIfAborted()
      await fh.write(randomBytes(Math.min(MiB, left)))
    }
  } finally {
    await fh.close()
  }
}

/** Runs both modes (full and origin-dies each) and returns the report. */
export async function runComparison (options: CompareOptions = {}): Promise<CompareReport> {
  options.signal?.throwIfAborted()
  const peers = options.peers ?? DEFAULT_PEERS
  const size = options.size ?? DEFAULT_SIZE
  if (!Number.isInteger(peers) || peers < 1 || peers > MAX_PEERS) throw new InvalidCompareOptionError(`peers must be a whole number from 1 to ${MAX_PEERS}, got ${peers}`)
  if (!Number.isInteger(size) || size < 1 || size > MAX_SIZE) throw new InvalidCompareOptionError(`size must be from 1 byte to ${MAX_SIZE / MiB} MiB, got ${size} bytes`)
  const dieAt = options.dieAt ?? 0.5
  if (!(dieAt > 0 && dieAt < 1)) throw new InvalidCompareOptionError(`dieAt must be between 0 and 1, got ${dieAt}`)
  const idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT

  // every fetch, server request and wait listens on the caller's signal
  if (options.signal != null) setMaxListeners(4 * peers + 16, options.signal)
  const started = performance.now()
  const dir = await mkdtemp(join(options.dir ?? tmpdir(), 'swarmdrop-compare-'))
  try {
    const name = 'compare.bin'
    const path = join(dir, name)
    await writeRandomFile(path, size, options.signal)
    const base = { path, name, size, peers, signal: options.signal, onProgress: options.onProgress }
    // each run in its own folder, removed as soon as it is done (bounded disk use)
    const inFolder = async <T>(sub: string, fn: (dir: string) => Promise<T>): Promise<T> => {
      const d = join(dir, sub)
      await mkdir(d)
      try {
        return await fn(d)
      } finally {
        await rm(d, { recursive: true, force: true })
      }
    }
    const csFull = await inFolder('cs-full', async d => runClientServer({ ...base, dir: d }))
    const csDies = await inFolder('cs-dies', async d => runClientServerOriginDies({ ...base, dir: d, dieAt, idleTimeout }))
    const swFull = await inFolder('swarm-full', async d => runSwarm({ ...base, dir: d }))
    const swDies = await inFolder('swarm-dies', async d => runSwarmOriginDies({ ...base, dir: d, dieAt, idleTimeout }))
    const clientServer = modeReport('client-server', size, csFull, csDies)
    const swarm = modeReport('swarm', size, swFull, swDies)
    return {
      peers,
      size,
      host: '127.0.0.1',
      modes: { clientServer, swarm },
      ratios: ratios(clientServer, swarm),
      totalMs: Math.round(performance.now() - started),
      machine: { node: process.version, cpus: cpus().length, platform: process.platform }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export { formatChart, formatReport, median, type CompareReport, type ModeReport, type OriginDiesReport, type ChartOptions } from './report.js'
export { createFileServer, type FileServer, type FileServerStats, type StoredFile } from './http-server.js'
export { downloadFile, listFiles, uploadFile } from './http-client.js'
export { InvalidCompareOptionError, HttpStatusError, IncompleteDownloadError, BlocksLostError } from './errors.js'
export type { CompareProgressEvents, ModeName, PhaseDetail, BytesDetail, RunResult, OriginDiesResult, PeerOutcome } from './types.js'
