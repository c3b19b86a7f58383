/**
 * V8's heap growth, tuned for a process that moves bulk data: the `swarmdrop` command calls
 * tuneHeapForTransfers() first thing, the benchmarks' peer processes do the same, and a script
 * may call it too (the library never does it by itself: it is a setting of the whole process).
 *
 * Why: a transfer allocates little that lives, but at a high rate (every received frame, every
 * block read), and V8 sizes the old generation from what survived the last full collection, ~25
 * MB here. With its default growth factor (1.1× to 4×, from how fast the collector and the
 * program are) it then marks the whole heap every 70–100 ms during a fetch: 13–18 full
 * collections while 256 MiB arrive, their marking on V8's helper threads. A growth factor of 3
 * (HEAP_GROWING_PERCENT) lets the old generation grow to 3× the live heap before the next one:
 * 5 collections for the same fetch; the requester's CPU per MiB 6.1–6.5 → 5.0 ms, and 64 MiB to
 * 8 fetchers on 2 cores 6.6 s → 5.2–5.4 s (docs/BENCHMARKS.md, "V8's heap growth"). The cost:
 * peak RSS of such a process +10 to +15 MiB.
 *
 * `v8.setFlagsFromString` after start-up is allowed for this flag: V8 reads it each time it
 * sets the next collection's limit (heap/memory-controller.cc), nothing was built from it.
 * Set SWARMDROP_HEAP_TUNING=0 to keep V8's defaults; a `--heap-growing-percent` given to node
 * itself is kept as well.
 */
import { setFlagsFromString } from 'node:v8'

/** The old generation may grow to (1 + this / 100) × what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 200

let tuned = false

/** Sets V8's heap growth for bulk transfers (once per process); false when left alone. */
export function tuneHeapForTransfers (env: NodeJS.ProcessEnv = process.env): boolean {
  if (tuned) return true
  if (env.SWARMDROP_HEAP_TUNING === '0') return false
  if (process.execArgv.some(a => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'))) return false
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  tuned = true
  return true
}
