/** Shapes shared by the two modes of the comparison (bench/compare) and its report. */
import type { CustomProgressEvent } from 'progress-events'

export type ModeName = 'client-server' | 'swarm'

/** One fetcher (HTTP client or swarm node) in one run. */
export interface PeerOutcome {
  ok: boolean
  /** From the common start to its last byte (or to its failure), ms. */
  ms: number
  /** File bytes it holds at the end. */
  bytes: number
  /** Why it failed (error name and message). */
  error?: string
}

/** One distribution of the file to N fetchers. */
export interface RunResult {
  /** From the common start until every fetcher finished or failed, ms. */
  wallMs: number
  /** Bytes the origin (server or sharer) sent. */
  originBytes: number
  /** Bytes the fetchers sent to each other (0 for HTTP clients). */
  peerBytes: number
  /** CPU time of this process (user + system) over the same span, ms: every peer runs in it. */
  cpuMs: number
  peers: PeerOutcome[]
}

/** The same distribution with the origin stopped halfway. */
export interface OriginDiesResult extends RunResult {
  /** Fraction of the file (0..1) that at least one fetcher held when the origin died. */
  heldByFetchers: number
  /** Sum of the fetchers' bytes when the origin died, as a fraction of N × the file. */
  diedAt: number
  /** When the origin died, ms after the common start. */
  diedMs: number
}

export interface RunOptions {
  /** Working folder (removed by the caller). */
  dir: string
  /** The file to distribute. */
  path: string
  name: string
  size: number
  /** Fetchers. */
  peers: number
  signal?: AbortSignal
  onProgress?: (evt: CompareProgressEvents) => void
}

export interface DiesOptions extends RunOptions {
  /** Stop the origin when the fetchers together hold this fraction of N × the file (default 0.5). */
  dieAt?: number
  /** After the origin died, a fetcher that receives nothing for this long fails, ms. */
  idleTimeout: number
}

export interface PhaseDetail {
  mode: ModeName
  /** `setup`, `fetch`, `origin-dies`, `killed`, `done`. */
  phase: string
  message: string
}

export interface BytesDetail {
  mode: ModeName
  run: 'full' | 'origin-dies'
  /** Bytes the fetchers hold together. */
  bytes: number
  /** N × file size. */
  total: number
}

export type CompareProgressEvents =
  | CustomProgressEvent<PhaseDetail, 'compare:phase'>
  | CustomProgressEvent<BytesDetail, 'compare:bytes'>
