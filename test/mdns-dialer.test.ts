/**
 * The dialing policy for peers found by mDNS (src/node/mdns-dialer.ts), against a fake network:
 * of two nodes that hear each other at once, the higher peer id leaves the first dial to the lower
 * one, also when they meet again after a disconnect.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { MdnsDialer } from '../src/node/mdns-dialer.js'
import { MDNS_YIELD_MS } from '../src/node/constants.js'
import { createLogger } from '../src/util/logger.js'

function fakeNetwork (self: string): { network: ConstructorParameters<typeof MdnsDialer>[0], dials: string[], connected: Set<string> } {
  const dials: string[] = []
  const connected = new Set<string>()
  return {
    dials,
    connected,
    network: {
      peerId: self,
      connections: () => [...connected].map(peer => ({ peer })) as any,
      dial: async (peer: string) => { dials.push(peer); connected.add(peer); return peer }
    }
  }
}

test('mDNS dialer: the higher peer id waits for the lower one to dial, at the first meeting and again after a disconnect', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  const lower = 'peer-a'
  const { network, dials, connected } = fakeNetwork('peer-z')
  const dialer = new MdnsDialer(network, () => true, createLogger('test:mdns'))

  // first heard: it yields
  await dialer.dial(lower)
  assert.deepEqual(dials, [])
  // the lower one dialled us: connected; heard again while connected
  connected.add(lower)
  t.mock.timers.tick(MDNS_YIELD_MS * 30)
  await dialer.dial(lower)
  assert.deepEqual(dials, [])

  // the network goes and comes back: heard again, a new meeting, so it yields again
  connected.delete(lower)
  await dialer.dial(lower)
  assert.deepEqual(dials, [], 'no dial at once on the second meeting: the lower peer id dials')
  // the lower one did not come: it steps in after MDNS_YIELD_MS
  t.mock.timers.tick(MDNS_YIELD_MS)
  await dialer.dial(lower)
  assert.deepEqual(dials, [lower])
})

test('mDNS dialer: the lower peer id dials at once', async () => {
  const { network, dials } = fakeNetwork('peer-a')
  const dialer = new MdnsDialer(network, () => true, createLogger('test:mdns'))
  await dialer.dial('peer-z')
  assert.deepEqual(dials, ['peer-z'])
})
