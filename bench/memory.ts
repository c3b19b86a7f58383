/**
 * Memory benchmark (issue 2): resident memory per node with --nodes (default 50)
 * nodes in one process via createLocalSwarm, against a baseline of the same
 * process with one node, measured in the same run.
 * Usage: npm run bench -- memory [--nodes 50]   (run node with --expose-gc for steadier numbers)
 */
import '../src/polyfill.js'
import { parseArgs } from 'node:util'
import { createLocalSwarm } from '../src/testing/index.js'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '50' } } })
const n = Number(values.nodes)
const gc = (globalThis as { gc?: () => void }).gc

function rssMB (): number {
  gc?.()
  return process.memoryUsage().rss / 2 ** 20
}

const one = await createLocalSwarm({ size: 1 })
const base = rssMB()
const swarm = await createLocalSwarm({ size: n - 1, degree: 6, timeout: 120_000 })
// the swarm settles: one mesh heartbeat round after meshing
await swarm.waitForMesh()
const after = rssMB()
const perNode = (after - base) / (n - 1)
await swarm.stop()
await one.stop()
process.stdout.write(`memory: ${n} nodes in one process: ${perNode.toFixed(1)} MB RSS per added node (goal <= 30 MB; ratio to goal ${(perNode / 30).toFixed(2)}); 1-node process baseline ${base.toFixed(0)} MB, ${n} nodes ${after.toFixed(0)} MB${gc == null ? ' (no --expose-gc)' : ''}\n`)
process.stdout.write(JSON.stringify({ nodes: n, baselineMB: +base.toFixed(1), totalMB: +after.toFixed(1), perNodeMB: +perNode.toFixed(2) }) + '\n')
