/**
 * Swarm mode: one sharer and N fetchers, swarmdrop nodes in this process on
 * 127.0.0.1 (temporary repositories, explicit dials to every other node, no
 * mDNS). The sharer shares the file; once every fetcher heard the
 * announcement, all of them fetch it at once with node.fetch(), finding each
 * other as providers through the swarm's `have` messages and serving each
 * other what they already hold. The origin is the sharer; its bytes are the
 * block bytes its transfer served.
 */
import { mkdir } from 'node:fs/promises'
import { CustomProgressEvent } from 'progress-events'
import type { FetchResult, SwarmNode, TransferFetchEvents } from '../../src/index.js'
import { BlocksLostError } from './errors.js'
import { startBenchSwarm, until } from './local-swarm.js'
import type { BytesDetail, DiesOptions, OriginDiesResult, PeerOutcome, RunOptions, RunResult } from './types.js'

const MODE = 'swarm'

/**
 * Idle timeout of a fetch in the full run: no block for this long fails it, ms. Twice the
 * transfer's default (30 s): with 17 nodes sharing one process on a busy 2-core machine, a
 * fetcher was seen to wait more than 30 s for its first leaf while the others progressed; the
 * comparison reports such a straggler in slowestMs rather than failing the whole run.
 */
const FETCH_TIMEOUT_MS = 60_000
/** After the sharer stopped, no block anywhere for this long means its last sends have landed, ms. */
const SETTLE_MS = 3_000
/** Bound on start-up (nodes connected and meshed), and on every fetcher hearing the announcement, ms. */
const SETUP_TIMEOUT_MS = 30_000

/** A signal aborted when either is. */
function anySignal (a: AbortSignal, b: AbortSignal): AbortSignal {
  const controller = new AbortController()
  const abort = (s: AbortSignal): void => { controller.abort(s.reason) }
  for (const s of [a, b]) {
    if (s.aborted) abort(s)
    else s.addEventListener('abort', () => { abort(s) }, { once: true })
  }
  return controller.signal
}

function describe (err: any): string {
  return `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
}

interface Death { heldByFetchers: number, diedAt: number, diedMs: number, originBytes: number }

export interface SwarmRunOptions extends RunOptions {
  /** Idle timeout of each fetch, ms (default 30 s). */
  timeout?: number
}

async function distribute (options: SwarmRunOptions, dies?: { dieAt: number }): Promise<RunResult & { death?: Death }> {
  const { signal, peers, size } = options
  const emit = options.onProgress
  const run: BytesDetail['run'] = dies == null ? 'full' : 'origin-dies'
  emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: 'setup', message: `starting ${peers + 1} nodes on 127.0.0.1 (temporary repositories, no mDNS)` }))
  await mkdir(options.dir, { recursive: true })
  // every node dials every earlier one: all connected, as on one LAN
  const swarm = await startBenchSwarm({ size: peers + 1, dir: options.dir, timeout: SETUP_TIMEOUT_MS, signal })
  try {
    signal?.throwIfAborted()
    const [sharer, ...fetchers] = swarm.nodes as [SwarmNode, ...SwarmNode[]]

    // like HTTP clients listing the server, fetchers start once they know of the file
    const heard = fetchers.map(() => new Set<string>())
    fetchers.forEach((f, i) => {
      f.protocol.addEventListener('file:announced', (evt) => { heard[i]!.add(evt.detail.entry.cid) })
    })
    const shared = await sharer.share(options.path, { name: options.name, signal })
    const cid = shared.cid
    emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: 'setup', message: `the sharer announced ${cid}` }))
    await until(() => heard.every(s => s.has(cid)), {
      timeout: SETUP_TIMEOUT_MS,
      signal,
      message: () => `the announcement to reach every fetcher (${heard.filter(s => s.has(cid)).length} of ${fetchers.length})`
    })

    let t0 = performance.now()
    const held = new Array<number>(peers).fill(0)
    const total = peers * size
    const blocks = new Set<string>()
    let totalBlocks = 0
    let death: Death | undefined
    let killing: Promise<void> | undefined
    // aborts the fetches that cannot finish: the origin is gone with blocks nobody else got
    const lost = new AbortController()
    const fetchSignal = signal == null ? lost.signal : anySignal(signal, lost.signal)
    let lastBlockAt = performance.now()
    let watch: ReturnType<typeof setInterval> | undefined
    let settled = false
    const onProgress = (i: number, evt: TransferFetchEvents): void => {
      if (evt.type === 'transfer:fetch:provider') return
      const d = evt.detail
      if (d.totalBlocks != null) totalBlocks = Math.max(totalBlocks, d.totalBlocks)
      if (evt.type === 'transfer:fetch:block') {
        blocks.add(evt.detail.block)
        lastBlockAt = performance.now()
      }
      if (d.bytes <= held[i]!) return
      held[i] = d.bytes
      const sum = held.reduce((a, b) => a + b, 0)
      emit?.(new CustomProgressEvent('compare:bytes', { mode: MODE, run, bytes: sum, total }))
      if (dies != null && killing == null && sum >= dies.dieAt * total) {
        const diedAt = sum / total
        const diedMs = performance.now() - t0
        // blocks already on their way still land: what the fetchers hold is counted once the sharer is gone
        killing = sharer.stop().then(() => {
          death = {
            heldByFetchers: totalBlocks > 0 ? blocks.size / totalBlocks : 0,
            diedAt,
            diedMs,
            originBytes: sharer.transfer.stats().served.bytes
          }
          emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: 'killed', message: `sharer stopped with ${Math.round(diedAt * 100)}% of the bytes delivered; ${Math.round(death.heldByFetchers * 100)}% of the file's blocks were on some fetcher` }))
          if (settled) return
          watch = setInterval(() => {
            if (totalBlocks > 0 && blocks.size < totalBlocks && performance.now() - lastBlockAt > SETTLE_MS) {
              clearInterval(watch)
              lost.abort(new BlocksLostError(totalBlocks - blocks.size, totalBlocks))
            }
          }, 250)
        })
      }
    }

    emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: dies == null ? 'fetch' : 'origin-dies', message: `${peers} node${peers === 1 ? '' : 's'} fetching at once` }))
    t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const outcomes = await Promise.all(fetchers.map(async (f, i): Promise<PeerOutcome> => {
      try {
        const result: FetchResult = await f.fetch(cid, { signal: fetchSignal, timeout: options.timeout ?? FETCH_TIMEOUT_MS, onProgress: (evt) => { onProgress(i, evt) } })
        return { ok: true, ms: performance.now() - t0, bytes: result.size }
      } catch (err) {
        signal?.throwIfAborted()
        if (dies == null) throw err
        return { ok: false, ms: performance.now() - t0, bytes: held[i] ?? 0, error: describe(lost.signal.aborted ? lost.signal.reason : err) }
      }
    })).finally(() => {
      settled = true
      clearInterval(watch)
    })
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const cpuMs = (cpu.user + cpu.system) / 1000
    await killing
    const result: RunResult & { death?: Death } = {
      wallMs,
      originBytes: death?.originBytes ?? sharer.transfer.stats().served.bytes,
      peerBytes: fetchers.reduce((s, f) => s + f.transfer.stats().served.bytes, 0),
      cpuMs,
      peers: outcomes
    }
    if (death != null) {
      // blocks received from the sharer's last sends before its connections closed count as held
      death.heldByFetchers = totalBlocks > 0 ? blocks.size / totalBlocks : 0
      result.death = death
    }
    return result
  } finally {
    await swarm.stop()
  }
}

/** N nodes fetch the file from the sharer, and from each other, at once. */
export async function runSwarm (options: SwarmRunOptions): Promise<RunResult> {
  const { death: _, ...result } = await distribute(options)
  return result
}

/** The same, with the sharer stopped once the fetchers together hold `dieAt` of N × the file. */
export async function runSwarmOriginDies (options: DiesOptions): Promise<OriginDiesResult> {
  const { death, ...result } = await distribute({ ...options, timeout: options.idleTimeout }, { dieAt: options.dieAt ?? 0.5 })
  return { ...result, heldByFetchers: death?.heldByFetchers ?? 1, diedAt: death?.diedAt ?? 1, diedMs: death?.diedMs ?? result.wallMs }
}
