/**
 * V8 settings for a process that moves bulk data: the `swarmdrop` command calls
 * tuneV8ForTransfers() first thing; the benchmarks' peer processes run the same way; a script
 * may call it too (the library never does it by itself: these are settings of the whole process).
 *
 * 1. Heap growth (HEAP_GROWING_PERCENT). A transfer allocates little that lives, at a high rate
 *    (every received frame, every block read), and V8 sizes the old generation from what
 *    survived the last full collection, ~25 MB here. With its default growth factor (1.1× to
 *    4×, from how fast the collector and the program run) it then marked the whole heap every
 *    70–100 ms during a fetch: 13–18 full collections while 256 MiB arrived. With a factor of 3:
 *    5. The requester's CPU per MiB 6.1–6.5 → 5.0 ms; peak RSS +10 to +15 MiB.
 * 2. Optimizing later (OPTIMIZE_LATER). A fresh process compiles the functions of the data path
 *    with TurboFan as they get warm: during a 64 MiB swarm fetch each of 9 processes compiled
 *    ~130 functions, 38% of all their CPU in V8's helper threads. When a function must do 16×
 *    V8's default work first, only what stays hot is compiled: 64 MiB to 8 fetchers on 2 cores
 *    5.5–5.6 s → 4.0–4.2 s (Node 20), 4.8 → 4.1 s (Node 22), 5.2 → 4.8 s (Node 24, whose
 *    Maglev tier compiles the rest cheaply). The price, a long steady transfer: 3–5% more CPU
 *    per MiB (less optimized code).
 *
 * Measured in docs/BENCHMARKS.md ("V8 settings of the process"). `v8.setFlagsFromString` after
 * start-up is sound for these two: V8 reads the first each time it sets the next collection's
 * limit (heap/memory-controller.cc) and the second each time it gives a function a new budget;
 * set at run time, both measured as when given on node's command line.
 * SWARMDROP_V8_TUNING=0 keeps V8's defaults; a flag given to node itself is kept as well.
 */
import { setFlagsFromString } from 'node:v8'

/** The old generation may grow to (1 + this / 100) × what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 200

/** How many times V8's default work a function does before TurboFan optimizes it. */
export const OPTIMIZE_LATER = 16

/**
 * The flag that says it, by V8 version, or undefined where neither is known to exist: V8 11.3
 * (Node 20) counts bytecode run between two checks (`--interrupt-budget`, default 66 KiB); V8 12
 * and later (Node 22, 24) count calls (`--invocation-count-for-turbofan`, default 3,000) and
 * refuse the older flag. An unknown flag is not an error for setFlagsFromString but prints one on
 * stderr, hence no guess for the V8 11 releases in between (Node 21).
 */
export function optimizeLaterFlag (v8Version = process.versions.v8): string | undefined {
  const [major = 0, minor = 0] = v8Version.split('.').map(Number)
  if (major < 11 || (major === 11 && minor <= 3)) return `--interrupt-budget=${66 * 1024 * OPTIMIZE_LATER}`
  if (major >= 12) return `--invocation-count-for-turbofan=${3000 * OPTIMIZE_LATER}`
  return undefined
}

export interface V8Tuning {
  /** Set the heap growth (default true). */
  heap?: boolean
  /** Set the optimization budget (default true). */
  jit?: boolean
}

const applied = { heap: false, jit: false }

/** `flag` (a name such as `heap-growing-percent`) is on node's own command line, in either spelling. */
const givenToNode = (flag: string): boolean => {
  const names = [`--${flag}`, `--${flag.replaceAll('-', '_')}`]
  return process.execArgv.some(a => names.some(n => a === n || a.startsWith(`${n}=`)))
}

/** Sets what `options` asks for (each once per process); returns what is set now. */
export function tuneV8ForTransfers (options: V8Tuning = {}, env: NodeJS.ProcessEnv = process.env): { heap: boolean, jit: boolean } {
  if (env.SWARMDROP_V8_TUNING === '0') return { ...applied }
  if (options.heap !== false && !applied.heap && !givenToNode('heap-growing-percent')) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
    applied.heap = true
  }
  const jitFlag = optimizeLaterFlag()
  if (jitFlag != null && options.jit !== false && !applied.jit && !givenToNode(jitFlag.slice(2, jitFlag.indexOf('=')))) {
    setFlagsFromString(jitFlag)
    applied.jit = true
  }
  return { ...applied }
}
