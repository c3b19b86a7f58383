/**
 * Memory of the test process itself, for the in-process attack tests (victim, attacker and
 * honest peer share the process, so a bound holds for all three together): the live bytes
 * after a full collection, sampled for a peak of what is held during an attack, and RSS sampled
 * often enough to catch a peak.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
/** A full collection, without starting the process with --expose-gc. */
const gc = runInNewContext('gc') as () => void

/** Heap and buffers still reachable after a full collection, in bytes. */
export function liveBytes (): number {
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

/** Samples `read()` every `ms` until stopped; `stop()` gives the highest seen, a last reading included. */
function peakOf (read: () => number, ms: number): { stop: () => number } {
  let peak = read()
  const timer = setInterval(() => { peak = Math.max(peak, read()) }, ms)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(peak, read())
    }
  }
}

/** Samples RSS every `ms` until stopped; `stop()` gives the highest seen. */
export function peakRss (ms = 10): { stop: () => number } {
  return peakOf(() => process.memoryUsage.rss(), ms)
}

/**
 * Samples the live bytes (after a full collection) every `ms` until stopped; `stop()` gives the
 * highest seen. Unlike RSS, this is what the process holds, not how lazily V8 gave garbage back,
 * which differs between Node versions and machines (a CI run saw RSS +173 MiB where live memory
 * peaked at a fraction of it).
 */
export function peakLive (ms = 200): { stop: () => number } {
  return peakOf(liveBytes, ms)
}
