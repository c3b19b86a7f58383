/**
 * A caller's own AbortSignal shared by many downloads at once: the node must not add a listener
 * per download to it (Node warns past ten: MaxListenersExceededWarning), nor leave any behind.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { randomBytes } from 'node:crypto'
import { createLocalSwarm } from '../src/testing/index.js'
import type { SwarmNode } from '../src/index.js'
import { waitFor } from '../src/util/wait.js'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

test('twenty downloads under one caller signal draw no listener warning and leave no listener on it', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`) }
  process.on('warning', onWarning)
  t.after(() => { process.off('warning', onWarning) })
  const swarm = await createLocalSwarm({ size: 2, memory: true }, t)
  const [a, b] = swarm.nodes as [SwarmNode, SwarmNode]
  const files = await Promise.all(Array.from({ length: 20 }, async (_, i) => a.share(randomBytes(300_000), { name: `f${i}.bin` })))
  const controller = new AbortController()
  const seen: number[] = []
  const results = await Promise.all(files.map(async f => b.fetch(f.cid, {
    signal: controller.signal,
    onProgress: () => { seen.push(getEventListeners(controller.signal, 'abort').length) }
  })))
  assert.equal(results.length, 20)
  assert.ok(seen.length > 0, 'progress was reported')
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no listener is left on the caller\'s signal')
  assert.ok(Math.max(...seen) <= 2, `listeners on the caller's signal while twenty downloads ran: at most ${Math.max(...seen)}`)
  // Node emits the warning on the next tick
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(warnings.filter(w => w.startsWith('MaxListenersExceededWarning')), [])
})

test('aborting a signal shared by twelve running downloads stops each of them with the caller\'s reason', async (t) => {
  const swarm = await createLocalSwarm({ size: 2, memory: true }, t)
  const b = swarm.nodes[1] as SwarmNode
  // files nobody holds: every fetch runs (asking the swarm) until the abort
  const cids = await Promise.all(Array.from({ length: 12 }, async () => CID.createV1(raw.code, await sha256.digest(randomBytes(32))).toString()))
  const controller = new AbortController()
  const fetches = cids.map(async cid => b.fetch(cid, { signal: controller.signal, timeout: 120_000 }).then(() => 'done', (err: unknown) => err))
  await waitFor(() => b.transfer.stats().fetches === 12, { timeout: 10_000, message: 'twelve running fetches' })
  assert.ok(getEventListeners(controller.signal, 'abort').length <= 1)
  const reason = new Error('the user cancelled')
  controller.abort(reason)
  const outcomes = await Promise.all(fetches)
  assert.deepEqual(outcomes.map(o => o === reason ? 'the caller\'s reason' : String(o)), cids.map(() => 'the caller\'s reason'))
  await waitFor(() => b.transfer.stats().fetches === 0, { timeout: 10_000, message: 'no running fetch' })
})
