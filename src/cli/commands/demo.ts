/**
 * `swarmdrop demo`: a swarm of N nodes in this process on 127.0.0.1
 * (temporary repositories, the nodes dial each other, no mDNS: safe on any network).
 * The first node shares a generated file, the others fetch it at once; a
 * table shows discovery time, announcement latency, transfer rates and how
 * much the sharer uploaded. Everything is removed at the end.
 */
import { randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { CommandFn } from '../context.js'
import { UsageError } from '../errors.js'
import type { FilesNode } from '../files.js'
import { averageRate, formatBytes, formatDuration, formatRate, formatTable } from '../format.js'

const MiB = 1024 * 1024

export interface DemoReport {
  nodes: number
  size: number
  cid: string
  /** Start of N nodes until every one is connected and meshed, ms. */
  discoveryMs: number
  /** Import and announcement on the sharer, ms. */
  shareMs: number
  fetchers: Array<{ name: string, peerId: string, announcementMs: number, elapsedMs: number, rate: number, providers: number }>
  /** Block bytes the sharer sent. */
  uploadedBySharer: number
  /** uploadedBySharer / size. */
  uploadedRatio: number
  totalMs: number
}

async function writeRandomFile (path: string, size: number): Promise<void> {
  const fh = await open(path, 'w', 0o600)
  try {
    for (let left = size; left > 0; left -= MiB) await fh.write(randomBytes(Math.min(MiB, left)))
  } finally {
    await fh.close()
  }
}

export const demo: CommandFn<'demo'> = async (ctx) => {
  const { out, signal } = ctx
  const n = ctx.flags.nodes ?? 3
  const mib = ctx.flags.size ?? 16
  if (!Number.isInteger(n) || n < 2 || n > 16) throw new UsageError('--nodes must be a whole number from 2 to 16', 'demo')
  if (!(mib > 0 && mib <= 1024)) throw new UsageError('--size must be more than 0 and at most 1024 (MiB)', 'demo')
  const size = Math.round(mib * MiB)
  const { startLocalSwarm, progressOf } = await import('../../node/index.js')

  out.note(`starting ${n} nodes on 127.0.0.1 (temporary repositories, no mDNS)…`)
  const t0 = performance.now()
  const swarm = await startLocalSwarm({ size: n })
  try {
    const discoveryMs = performance.now() - t0
    signal.throwIfAborted()
    const nodes = swarm.nodes
    const [sharer, ...fetchers] = nodes as [FilesNode, ...FilesNode[]]
    out.note(`swarm formed in ${formatDuration(discoveryMs)}: every node connected and meshed`)

    const path = join(swarm.dir, 'demo.bin')
    await writeRandomFile(path, size)

    // when each fetcher hears of the file
    const heard = fetchers.map(f => new Promise<number>(resolve => {
      f.protocol.addEventListener('file:announced', () => { resolve(performance.now()) })
    }))
    const tShare = performance.now()
    const shared = await sharer.share(path, { name: 'demo.bin', signal })
    const shareMs = performance.now() - tShare
    const cid = shared.cid
    out.note(`${sharer.name} shared demo.bin (${formatBytes(size)}) in ${formatDuration(shareMs)}`)
    out.note(`  as ${cid}`)
    const heardAt = await Promise.all(heard.map(async p => Promise.race([p, new Promise<number>((resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
    })])))

    const results = await Promise.all(fetchers.map(async (f) => {
      const bar = out.progress(f.name, size)
      const started = performance.now()
      try {
        const res = await f.fetch(cid, {
          signal,
          onProgress: (evt) => {
            const info = progressOf(evt)
            if (info != null) bar.update(info.bytes, { providers: info.providers })
          }
        })
        const elapsed = performance.now() - started
        // the rate of the table below
        bar.finish('done', { rate: averageRate(res.size, elapsed) })
        return { res, elapsed }
      } catch (err) {
        bar.finish(signal.aborted ? 'cancelled' : 'failed')
        throw err
      }
    }))

    const uploaded = sharer.transfer.stats().served.bytes
    const report: DemoReport = {
      nodes: n,
      size,
      cid,
      discoveryMs: Math.round(discoveryMs),
      shareMs: Math.round(shareMs),
      fetchers: fetchers.map((f, i) => {
        const { res, elapsed } = results[i]!
        return {
          name: f.name,
          peerId: f.peerId,
          announcementMs: Math.max(0, Math.round(heardAt[i]! - tShare - shareMs)),
          elapsedMs: Math.round(elapsed),
          rate: Math.round(averageRate(res.size, elapsed)),
          providers: Object.keys(res.providers).length
        }
      }),
      uploadedBySharer: uploaded,
      uploadedRatio: Number((uploaded / size).toFixed(2)),
      totalMs: Math.round(performance.now() - t0)
    }
    out.data(report)
    if (!out.json) {
      out.print()
      out.print(out.style('bold', `swarmdrop demo: ${n} nodes, one ${formatBytes(size)} file`))
      const rows = [
        ['NODE', 'ROLE', 'HEARD OF FILE', 'FETCHED IN', 'RATE', 'FROM PEERS'],
        [sharer.name, 'sharer', '-', '-', '-', '-'],
        ...report.fetchers.map(f => [f.name, 'fetcher', `+${formatDuration(f.announcementMs)}`, formatDuration(f.elapsedMs), formatRate(f.rate), String(f.providers)])
      ]
      for (const line of formatTable(rows, { align: ['left', 'left', 'right', 'right', 'right', 'right'] })) out.print(line)
      out.print()
      out.print(`discovery      ${formatDuration(discoveryMs)} to start ${n} nodes, connect and mesh them`)
      out.print(`announcement   ${formatDuration(Math.max(...report.fetchers.map(f => f.announcementMs)))} until every node heard of the file (import: ${formatDuration(shareMs)})`)
      out.print(`transfer       ${formatRate(report.fetchers.reduce((s, f) => s + f.rate, 0) / report.fetchers.length)} per fetcher on average`)
      out.print(`sharer upload  ${formatBytes(uploaded)} = ${report.uploadedRatio} × the file; the fetchers sent each other the rest`)
    }
  } finally {
    await swarm.stop()
    out.note('stopped every node and removed the temporary repositories')
  }
}
