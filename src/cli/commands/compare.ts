/**
 * `swarmdrop compare`: client-server vs swarm, the same file to N peers both
 * ways in one run on 127.0.0.1 (src/cli/compare does the work). Prints a table
 * per mode, a bar chart on a terminal, or the report as JSON.
 */
import type { CommandFn } from '../context.js'
import { UsageError } from '../errors.js'
import { formatBytes } from '../format.js'
import type { ProgressBar } from '../output.js'

const MiB = 1024 * 1024

export const compare: CommandFn<'compare'> = async (ctx) => {
  const { out, signal } = ctx
  const { runComparison, formatChart, formatReport, DEFAULT_IDLE_TIMEOUT, DEFAULT_PEERS, MAX_PEERS, MAX_SIZE } = await import('../compare/index.js')
  const peers = ctx.flags.peers ?? DEFAULT_PEERS
  const mib = ctx.flags.size ?? 16
  if (!Number.isInteger(peers) || peers < 1 || peers > MAX_PEERS) throw new UsageError(`--peers must be a whole number from 1 to ${MAX_PEERS}`, 'compare')
  if (!(mib > 0 && mib * MiB <= MAX_SIZE)) throw new UsageError(`--size must be more than 0 and at most ${MAX_SIZE / MiB} (MiB)`, 'compare')
  const size = Math.max(1, Math.round(mib * MiB))

  out.note(`compare: one ${formatBytes(size)} file to ${peers} fetcher${peers === 1 ? '' : 's'}, client-server then swarm, on 127.0.0.1`)
  let bar: ProgressBar | undefined
  let report
  try {
    report = await runComparison({
      peers,
      size,
      signal,
      onProgress: (evt) => {
        if (evt.type === 'compare:phase') {
          const { mode, phase, message } = evt.detail
          if (phase === 'fetch' || phase === 'origin-dies') {
            bar?.finish()
            bar = out.progress(`${mode}${phase === 'origin-dies' ? ' (origin dies)' : ''}`.padEnd(26), peers * size)
          } else if (phase === 'killed') {
            bar?.finish('origin stopped')
            bar = undefined
          }
          out.note(`${mode}: ${message}`)
        } else {
          bar?.update(evt.detail.bytes)
        }
      }
    })
  } finally {
    bar?.finish()
  }

  out.data(report)
  if (out.json) return
  out.print()
  out.print(out.style('bold', `client-server vs swarm: one ${formatBytes(size)} file to ${peers} fetcher${peers === 1 ? '' : 's'} on 127.0.0.1`))
  for (const line of formatReport(report)) out.print(line)
  if (out.tty) {
    out.print()
    for (const line of formatChart(report, { paint: (mode, b) => out.style(mode === 'swarm' ? 'green' : 'yellow', b) })) out.print(line)
  }
  out.print()
  const { clientServer: cs, swarm: sw } = report.modes
  out.print(`origin: the HTTP server, or the swarm's sharer. The swarm's fetchers sent ${formatBytes(sw.peerBytes)} to each other.`)
  out.print(`origin dies halfway: it was stopped once the fetchers together held half of N × the file (client-server ${Math.round(cs.originDies.diedAt * 100)}%,`)
  out.print(`swarm ${Math.round(sw.originDies.diedAt * 100)}%). A swarm fetcher can finish only if every block had reached some fetcher; if not, the`)
  out.print(`others are stopped once the last blocks in flight landed, else a fetcher gives up after ${DEFAULT_IDLE_TIMEOUT / 1000} s without a block.`)
  const why = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${v} ${k}`).join(', ')
  if (cs.originDies.failed + sw.originDies.failed > 0) out.print(`failures: client-server ${why(cs.originDies.reasons) || 'none'}; swarm ${why(sw.originDies.reasons) || 'none'}.`)
}
