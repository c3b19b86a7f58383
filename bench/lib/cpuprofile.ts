/**
 * Where the CPU time of a `node --cpu-prof` profile goes, in ms per MiB moved: self time summed
 * by function and by part of the stack (the package or src/ folder the function lives in).
 *
 * Usage: node dist/bench/lib/cpuprofile.js FILE.cpuprofile --mib 256 [--top 25]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
  children?: number[]
}
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }

/** The part of the code a frame belongs to: an npm package, a src/ folder, node internals, or a VM category. */
export function partOf (url: string, name: string): string {
  if (url === '') return name === '' ? '(anonymous)' : `(${name.replace(/[()]/g, '')})`
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (pkg != null) return pkg[1] ?? url
  const own = url.match(/dist\/(src\/[^/]+|bench)/)
  if (own != null) return own[1] ?? url
  if (url.startsWith('node:')) return url
  return url
}

/**
 * What a sample was doing, from its stack (innermost first): the first rule that matches a
 * frame of the stack names it. Coarse on purpose: the rows of docs/BENCHMARKS.md.
 */
const STAGES: Array<[string, (name: string, url: string) => boolean]> = [
  ['idle', (n) => n === '(idle)'],
  ['garbage collection', (n) => n === '(garbage collector)'],
  ['copy of a block out of its frame chunks', (n, u) => n === 'decodeFrame' && u.includes('transfer/messages')],
  ['sha2-256 of blocks (verify)', (n) => n === 'verifyBytes'],
  ['block store (files, fsync)', (_, u) => u.includes('dist/src/storage') || u.includes('util/atomic-write')],
  ['Noise (ChaCha20-Poly1305, framing)', (_, u) => u.includes('libp2p-noise') || u.includes('chacha20poly1305')],
  ['socket writes', (n) => n === 'Socket._writeGeneric'],
  ['socket reads', (n) => n === 'onStreamRead'],
  ['yamux', (_, u) => u.includes('libp2p-yamux')],
  ['transfer (frames, scheduling, serving)', (_, u) => u.includes('dist/src/transfer')],
  ['profiler', (_, u) => u.includes('bench/lib/cpuprofile')]
]

export async function summarize (file: string, mib: number, top = 25): Promise<string> {
  const p = JSON.parse(await readFile(file, 'utf8')) as Profile
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const stageOf = (id: number): string => {
    for (let at: number | undefined = id; at != null; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame
      if (f == null) break
      for (const [stage, match] of STAGES) if (match(f.functionName, f.url)) return stage
    }
    return 'other (libp2p plumbing, promises, timers)'
  }
  const stages = new Map<string, number>()
  const self = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i] ?? 0
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000)
  }
  const fns = new Map<string, number>()
  const parts = new Map<string, number>()
  let total = 0
  for (const [id, ms] of self) {
    const n = byId.get(id)
    if (n == null) continue
    const { functionName, url, lineNumber } = n.callFrame
    const short = url.replace(/^.*node_modules\//, '').replace(/^.*dist\//, '')
    const key = `${functionName === '' ? '(anonymous)' : functionName} ${short}${short !== '' ? `:${lineNumber + 1}` : ''}`
    fns.set(key, (fns.get(key) ?? 0) + ms)
    const stage = stageOf(id)
    stages.set(stage, (stages.get(stage) ?? 0) + ms)
    const part = partOf(url, functionName)
    parts.set(part, (parts.get(part) ?? 0) + ms)
    total += ms
  }
  const wall = (p.endTime - p.startTime) / 1000
  const idle = parts.get('(idle)') ?? 0
  const lines = [`${file}: wall ${wall.toFixed(0)} ms, sampled ${total.toFixed(0)} ms, busy ${(total - idle).toFixed(0)} ms = ${((total - idle) / mib).toFixed(2)} ms/MiB over ${mib} MiB`, '', 'by stage (ms/MiB):']
  for (const [k, v] of [...stages].sort((a, b) => b[1] - a[1])) lines.push(`  ${(v / mib).toFixed(2).padStart(7)}  ${k}`)
  lines.push('', 'by part (ms/MiB):')
  for (const [k, v] of [...parts].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${(v / mib).toFixed(2).padStart(7)}  ${k}`)
  lines.push('', 'by function (ms/MiB):')
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${(v / mib).toFixed(2).padStart(7)}  ${k}`)
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { mib: { type: 'string', default: '256' }, top: { type: 'string', default: '25' } } })
  for (const f of positionals) process.stdout.write(`${await summarize(f, Number(values.mib), Number(values.top))}\n\n`)
}

/** A CPU profile of this process from start() to stop(FILE) (the inspector's sampling profiler). */
export class Profiler {
  private constructor (private readonly session: Session) {}

  static async start (): Promise<Profiler> {
    const session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 500 })
    await session.post('Profiler.start')
    return new Profiler(session)
  }

  async stop (file: string): Promise<void> {
    const { profile } = await this.session.post('Profiler.stop')
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify(profile))
    this.session.disconnect()
  }
}
