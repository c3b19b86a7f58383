/**
 * What a node that runs for days must not accumulate (soak trial): the page's throttle clocks of
 * finished downloads, and Node's listener warning for many downloads at once on one node.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { LiveFeed, type Transfer } from '../src/web/live.js'
import type { WebNode } from '../src/web/adapter.js'
import { TypedEventEmitter } from '../src/util/events.js'

test('the page keeps no throttle clock for a finished download', () => {
  const node = { traffic: () => ({ up: 0, down: 0 }), onChange: () => () => {} } as unknown as WebNode
  const live = new LiveFeed(node)
  try {
    for (let i = 0; i < 500; i++) {
      const t: Transfer = { cid: `cid-${i}`, name: `f${i}`, to: 'node', state: 'running', bytes: 0, rate: 0, providers: 1 }
      live.update(t)
      live.update({ ...t, state: i % 2 === 0 ? 'done' : 'failed', bytes: 10 })
    }
    assert.ok(live.transfers.size <= 50, 'finished transfers are capped')
    assert.equal((live as any).lastSent.size, 0, 'no throttle clock outlives its transfer')
  } finally {
    live.close()
  }
})

test('twelve downloads listening to one emitter at once draw no MaxListenersExceededWarning', async () => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(w.name) }
  process.on('warning', onWarning)
  try {
    const emitter = new TypedEventEmitter<{ 'peer:disconnect': string }>()
    const listeners = Array.from({ length: 12 }, () => () => {})
    for (const l of listeners) emitter.addEventListener('peer:disconnect', l)
    // Node emits the warning on the next tick
    await new Promise(resolve => setImmediate(resolve))
    for (const l of listeners) emitter.removeEventListener('peer:disconnect', l)
    assert.deepEqual(warnings.filter(w => w === 'MaxListenersExceededWarning'), [])
  } finally {
    process.off('warning', onWarning)
  }
})
