/**
 * util/thread-clock: the time a thread spent blocked (asleep in the kernel), which the store uses
 * to tell a slow disk from a busy CPU (storage-sync.test.ts has the store's side).
 */
import * as assert from 'node:assert/strict'
import { platform } from 'node:os'
import { test } from 'node:test'
import { blockedClock, threadBlockedMs } from '../src/util/thread-clock.js'

const linux = platform() === 'linux'

/** Runs on this thread until it has had `ms` of CPU (not of wall time: a loaded machine may preempt it). */
function spin (ms: number): void {
  const start = process.cpuUsage()
  for (;;) {
    const used = process.cpuUsage(start)
    if ((used.user + used.system) / 1000 >= ms) return
  }
}

test('the blocked clock advances while the thread sleeps, not while it computes', { skip: !linux && 'Linux only (/proc/thread-self/schedstat)' }, () => {
  const made = blockedClock()
  assert.ok(made != null, 'Linux gives the statistics')
  const clock = (): number => {
    const ms = made()
    assert.ok(ms != null, 'the statistics read')
    return ms
  }
  const b0 = clock()
  // asleep 200 ms: Atomics.wait blocks the thread in the kernel
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
  const b1 = clock()
  assert.ok(b1 - b0 >= 150, `asleep 200 ms: ${(b1 - b0).toFixed(1)} ms counted as blocked`)
  // 200 ms of CPU: running, or waiting for a core if the machine is busy; never blocked
  spin(200)
  const b2 = clock()
  assert.ok(b2 - b1 < 50, `200 ms of CPU: ${(b2 - b1).toFixed(1)} ms counted as blocked`)
  // the shared clock is the same kind of clock
  assert.equal(typeof threadBlockedMs(), 'number')
})

test('elsewhere there is no clock, and callers time calls by elapsed time', { skip: linux && 'on Linux the clock exists (test above)' }, () => {
  assert.equal(blockedClock(), undefined)
  assert.equal(threadBlockedMs(), undefined)
})
