/**
 * Client-server mode: the sharer uploads the file to a central HTTP server,
 * then N clients list the server's files and download it at once, each to
 * its own file on disk. The origin is the server; its bytes are the file
 * bytes it streams to clients.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CustomProgressEvent } from 'progress-events'
import { downloadFile, listFiles, uploadFile } from './http-client.js'
import { createFileServer } from './http-server.js'
import type { BytesDetail, DiesOptions, OriginDiesResult, PeerOutcome, RunOptions, RunResult } from './types.js'

const MODE = 'client-server'

function describe (err: any): string {
  return `${String(err?.name ?? 'Error')}: ${String(err?.message ?? err)}`
}

interface Death { heldByFetchers: number, diedAt: number, diedMs: number }

async function distribute (options: RunOptions, dies?: { dieAt: number }): Promise<RunResult & { death?: Death }> {
  const { signal, peers, size } = options
  const emit = options.onProgress
  const run: BytesDetail['run'] = dies == null ? 'full' : 'origin-dies'
  const serverDir = join(options.dir, 'server')
  await mkdir(serverDir, { recursive: true })
  const server = await createFileServer({ dir: serverDir })
  try {
    emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: 'setup', message: `HTTP server on ${server.url}; uploading the file` }))
    await uploadFile(server.url, options.path, options.name, { signal })

    let t0 = performance.now()
    const held = new Array<number>(peers).fill(0)
    const total = peers * size
    let death: Death | undefined
    let killing: Promise<void> | undefined
    const onBytes = (i: number, bytes: number): void => {
      held[i] = bytes
      const sum = held.reduce((a, b) => a + b, 0)
      emit?.(new CustomProgressEvent('compare:bytes', { mode: MODE, run, bytes: sum, total }))
      if (dies != null && killing == null && sum >= dies.dieAt * total) {
        // HTTP clients read from offset 0 up: what some client holds is the longest prefix
        death = { heldByFetchers: Math.max(...held) / size, diedAt: sum / total, diedMs: performance.now() - t0 }
        emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: 'killed', message: `server killed with ${Math.round(death.diedAt * 100)}% of the bytes delivered` }))
        killing = server.kill()
      }
    }

    emit?.(new CustomProgressEvent('compare:phase', { mode: MODE, phase: dies == null ? 'fetch' : 'origin-dies', message: `${peers} client${peers === 1 ? '' : 's'} downloading at once` }))
    t0 = performance.now()
    const cpu0 = process.cpuUsage()
    const outcomes = await Promise.all(Array.from({ length: peers }, async (_, i): Promise<PeerOutcome> => {
      const dir = join(options.dir, `client-${i}`)
      await mkdir(dir, { recursive: true })
      try {
        const files = await listFiles(server.url, { signal })
        const file = files.find(f => f.name === options.name)
        if (file == null) throw new Error(`the server does not list ${options.name}`)
        const bytes = await downloadFile(server.url, file.id, join(dir, 'file.bin'), { signal, onBytes: (b) => { onBytes(i, b) } })
        return { ok: true, ms: performance.now() - t0, bytes }
      } catch (err) {
        signal?.throwIfAborted()
        if (dies == null) throw err
        return { ok: false, ms: performance.now() - t0, bytes: held[i] ?? 0, error: describe(err) }
      }
    }))
    const wallMs = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    const cpuMs = (cpu.user + cpu.system) / 1000
    await killing
    const result: RunResult & { death?: Death } = { wallMs, originBytes: server.stats().bytesSent, peerBytes: 0, cpuMs, peers: outcomes }
    if (death != null) {
      // bytes already in flight when the server died still landed: count them
      death.heldByFetchers = Math.max(...held) / size
      result.death = death
    }
    return result
  } finally {
    await server.close()
  }
}

/** N HTTP clients download the file from the server at once. */
export async function runClientServer (options: RunOptions): Promise<RunResult> {
  const { death: _, ...result } = await distribute(options)
  return result
}

/** The same, with the server killed once the clients together hold `dieAt` of N × the file. */
export async function runClientServerOriginDies (options: DiesOptions): Promise<OriginDiesResult> {
  const { death, ...result } = await distribute(options, { dieAt: options.dieAt ?? 0.5 })
  // every client finished before the threshold was reached: nothing to kill (only with tiny files)
  return { ...result, heldByFetchers: death?.heldByFetchers ?? 1, diedAt: death?.diedAt ?? 1, diedMs: death?.diedMs ?? result.wallMs }
}
