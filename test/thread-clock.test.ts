/**
 * util/thread-clock: the time a thread spent waiting for a core, which the store leaves out when
 * it times its inline calls (storage-sync.test.ts has the store's side).
 */
import * as assert from 'node:assert/strict'
import { test } from 'node:test'
import { threadWaitMs, waitClock } from '../src/util/thread-clock.js'

const clock = waitClock()

test('the wait clock does not count the time the thread sleeps, and never goes back', { skip: clock == null && 'no per-thread scheduler statistics here (Linux /proc/thread-self/schedstat)' }, () => {
  const read = (): number => {
    const ms = clock?.()
    assert.ok(ms != null, 'the statistics read')
    return ms
  }
  const w0 = read()
  // asleep 300 ms (Atomics.wait blocks the thread in the kernel): not waiting for a core, except
  // for the moment between its wake-up and its core, a few ms even with both cores busy
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300)
  const w1 = read()
  assert.ok(w1 >= w0, 'never goes back')
  assert.ok(w1 - w0 < 150, `asleep 300 ms: ${(w1 - w0).toFixed(1)} ms counted as waiting for a core`)
  assert.equal(typeof threadWaitMs(), 'number', 'the shared clock of this thread reads too')
})

test('where the system keeps no such statistics there is no clock, and the store uses elapsed time', { skip: clock != null && 'this system has the statistics (test above)' }, () => {
  assert.equal(threadWaitMs(), undefined)
})
