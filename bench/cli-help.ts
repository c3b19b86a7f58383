/**
 * `swarmdrop --help` wall time (issue 6 goal: ≤ 300 ms). The help path must
 * not load libp2p; heavy modules load only when a command needs them.
 * Figures, medians of --runs process spawns in this run:
 *   - `swarmdrop --help`, as a ratio to the baseline: Node running one tiny ES module (dist/src/polyfill.js);
 *   - `swarmdrop start --help` (a command's help), same ratio;
 *   - for scale: importing the node module (libp2p), the cost the lazy loading avoids.
 * Usage: npm run bench -- cli-help [--runs 15]
 */
import '../src/polyfill.js'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } })
const runs = Number(values.runs)
const BIN = fileURLToPath(new URL('../../bin/swarmdrop.js', import.meta.url))
const NODE_MODULE = new URL('../src/node/index.js', import.meta.url).href

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function time (args: string[]): number {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    samples.push(performance.now() - t0)
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${String(r.stderr)}`)
  }
  return median(samples)
}

const baseline = time([fileURLToPath(new URL('../src/polyfill.js', import.meta.url))])
const help = time([BIN, '--help'])
const commandHelp = time([BIN, 'start', '--help'])
const libp2p = time(['-e', `await import(${JSON.stringify(NODE_MODULE)})`, '--input-type=module'])
const row = (name: string, ms: number): string => `${name.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / baseline).toFixed(2)} × baseline`
process.stdout.write([
  `cli-help: median of ${runs} runs, Node ${process.version}`,
  row('node polyfill.js (baseline)', baseline),
  row('swarmdrop --help', help),
  row('swarmdrop start --help', commandHelp),
  row('import src/node (libp2p), for scale', libp2p),
  `goal: swarmdrop --help ≤ 300 ms: ${help <= 300 ? 'met' : 'NOT met'} (${help.toFixed(0)} ms)`,
  ''
].join('\n'))
