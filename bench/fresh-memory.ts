/**
 * What a page of fresh memory costs this machine: N MiB of anonymous memory the process has not
 * touched yet (a new large typed array: the allocator maps it, the kernel gives each page at its
 * first touch), written one byte per 4 KiB page, against the same pages written again. The
 * difference over the page faults counted (`/proc/self/stat`, minor faults) is the cost of one
 * fault and of zeroing its page: what every process pays for memory it allocates anew, and, on a
 * virtual machine whose hypervisor handles the guest's faults, many times what bare metal pays.
 *
 * Usage: npm run bench -- fresh-memory [--mib 256] [--rounds 5] [--json]
 * Prints the median of the rounds (and the range). Linux only (it reads /proc).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const PAGE = 4096
const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false }
  }
})
const mib = Math.max(1, Number(values.mib))
const rounds = Math.max(1, Number(values.rounds))

/** Minor page faults of this process so far: field 10 of /proc/self/stat, after the command name. */
function minorFaults (): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
}

function touch (bytes: Uint8Array, value: number): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < bytes.byteLength; i += PAGE) bytes[i] = value
  return Number(process.hrtime.bigint() - start) / 1e6
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN
const perFault: number[] = []
const perMiB: number[] = []
for (let r = 0; r < rounds; r++) {
  const faultsBefore = minorFaults()
  const bytes = new Uint8Array(mib * 1024 * 1024)
  const first = touch(bytes, 1)
  const faults = minorFaults() - faultsBefore
  const again = touch(bytes, 2)
  perFault.push((first - again) * 1000 / Math.max(1, faults))
  perMiB.push((first - again) / mib)
}
const result = {
  bench: 'fresh-memory',
  mib,
  rounds,
  usPerFault: Number(median(perFault).toFixed(2)),
  msPerMiB: Number(median(perMiB).toFixed(3)),
  range: { usPerFault: [Math.min(...perFault), Math.max(...perFault)].map(x => Number(x.toFixed(2))) }
}
if (values.json === true) {
  process.stdout.write(JSON.stringify(result) + '\n')
} else {
  process.stdout.write(`fresh memory: ${result.usPerFault} µs per page fault (${result.range.usPerFault.join('–')}), ${result.msPerMiB} ms per MiB first touched (median of ${rounds} rounds of ${mib} MiB)\n`)
}
