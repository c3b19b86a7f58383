/**
 * Chaos trial (h-chaos) reproductions: a connection that drops after a long blip, while the
 * peer itself is still there, must not end the download.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { waitFor } from '../src/util/wait.js'
import type { TransferFetchEvents } from '../src/transfer/index.js'
import { MemoryNet, startMemoryPeers, type MemoryPeer } from './fixtures/transfer-memnet.js'
import { randomContent, readFile } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024
const SMALL_WINDOW = { initialWindow: 4, minWindow: 2, maxWindow: 4 }

/** A sharer holding 24 MiB and a fetcher on one in-memory net, with a small window (most of the file unsent when the link fails). */
async function sharerAndFetcher (t: { after: (fn: () => Promise<void>) => void }, stallTimeout: number): Promise<{ net: MemoryNet, sharer: MemoryPeer, fetcher: MemoryPeer, content: Uint8Array, cid: string }> {
  const net = new MemoryNet()
  const [sharer, fetcher] = await startMemoryPeers(t, 2, { stallTimeout, ...SMALL_WINDOW }, net)
  if (sharer == null || fetcher == null) throw new Error('2 peers')
  const content = randomContent(24 * MiB)
  return { net, sharer, fetcher, content, cid: await sharer.store.add(content) }
}

/** 'completed', the error's name and message, or 'hang' when the fetch has not settled within 30 s. */
async function outcomeOf (fetching: Promise<unknown>): Promise<string> {
  const ac = new AbortController()
  try {
    return await Promise.race([fetching.then(() => 'completed', (err: any) => `${err?.name}: ${err?.message}`), delay(30_000, 'hang', { signal: ac.signal })])
  } finally {
    ac.abort()
  }
}

test('after a long blip the connection is dropped (ping monitor) while the provider is reachable again: the fetch heals, no ProviderLeftError', async (t) => {
  const { net, sharer, fetcher, content, cid } = await sharerAndFetcher(t, 500)
  let blocks = 0
  const statuses: string[] = []
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 60_000,
    onProgress: (evt: TransferFetchEvents) => {
      if (evt.type === 'transfer:fetch:block' && ++blocks === 4) net.freeze(sharer.id, fetcher.id)
      if (evt.type === 'transfer:fetch:provider') statuses.push(`${evt.detail.status}:${evt.detail.reason ?? ''}`)
    }
  })
  fetching.catch(() => {})
  await waitFor(() => blocks >= 4, { timeout: 30_000, message: '4 blocks' })
  // the laptop's Wi-Fi is off for a while: stalls and hanging re-opens pile up failures, until the
  // backoff (500 ms doubling from the second failure: 4 s at the fifth) outlasts the 2 s left-grace
  await waitFor(() => statuses.filter(s => s.startsWith('failed:')).length >= 5, { timeout: 30_000, message: 'five failed attempts during the outage' })
  // it comes back; the old connection is found dead by the ping monitor and closed on both sides
  // (what libp2p's connection monitor does 20-30 s into an outage), the peer is reachable again
  net.freeze(sharer.id, fetcher.id, false)
  for (const s of [...fetcher.network.streams].filter(s => s.remotePeer === sharer.id)) s.abort(new Error('connection aborted: ping failure'))
  fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id })
  const outcome = await outcomeOf(fetching)
  assert.equal(outcome, 'completed', `statuses: ${statuses.join(' | ')}`)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

test('this node loses its own network (dials fail with ENETUNREACH) for longer than the left-grace: the fetch waits and heals; past the idle timeout it says this node is offline', async (t) => {
  const { sharer, fetcher, content, cid } = await sharerAndFetcher(t, 500)
  const realOpen = fetcher.network.openStream.bind(fetcher.network)
  let offline = false
  fetcher.network.openStream = async (peer, protocol, options) => {
    if (offline) throw Object.assign(new Error('connection error 10.98.0.1:4001: connect ENETUNREACH 10.98.0.1:4001 - Local (0.0.0.0:0)'), { code: 'ENETUNREACH' })
    return await realOpen(peer, protocol, options)
  }
  const goOffline = (): void => {
    offline = true
    for (const s of [...fetcher.network.streams]) s.abort(new Error('connection aborted: ping failure'))
    fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id })
  }
  // 1. offline for 6 s (3 times the left grace), then back: the same fetch completes
  let blocks = 0
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 20_000,
    onProgress: (evt: TransferFetchEvents) => { if (evt.type === 'transfer:fetch:block' && ++blocks === 4) goOffline() }
  })
  fetching.catch(() => {})
  await waitFor(() => blocks >= 4, { timeout: 30_000, message: '4 blocks' })
  await delay(6_000)
  offline = false
  const outcome = await outcomeOf(fetching)
  assert.equal(outcome, 'completed')
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  // 2. offline for good: the idle timeout ends it, saying this node is offline (not that the sharer left)
  const cid2 = await sharer.store.add(randomContent(24 * MiB))
  let blocks2 = 0
  const err: any = await fetcher.transfer.fetch(cid2, {
    providers: [sharer.id],
    timeout: 5_000,
    onProgress: (evt: TransferFetchEvents) => { if (evt.type === 'transfer:fetch:block' && ++blocks2 === 4) goOffline() }
  }).then(() => undefined, (e: unknown) => e)
  assert.equal(err?.name, 'ProviderStalledError', String(err))
  assert.match(err.message, /this node lost its network connection/)
})

test('the sharer\'s host stops answering (its Wi-Fi dropped): the connection is dropped, redials fail with EHOSTUNREACH after a while; the fetch waits and heals when it is back', async (t) => {
  const { net, sharer, fetcher, content, cid } = await sharerAndFetcher(t, 1000)
  const realOpen = fetcher.network.openStream.bind(fetcher.network)
  let away = false
  fetcher.network.openStream = async (peer, protocol, options) => {
    if (away) {
      // ARP finds nobody: the kernel says so after ~3 s
      await delay(3000, undefined, options?.signal != null ? { signal: options.signal } : {})
      throw Object.assign(new Error('connection error 10.98.0.1:4001: connect EHOSTUNREACH 10.98.0.1:4001'), { code: 'EHOSTUNREACH' })
    }
    return await realOpen(peer, protocol, options)
  }
  let blocks = 0
  const statuses: string[] = []
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 20_000,
    onProgress: (evt: TransferFetchEvents) => {
      if (evt.type === 'transfer:fetch:block' && ++blocks === 4) {
        away = true
        net.freeze(sharer.id, fetcher.id)
        // the ping monitor drops the connection a while later
        setTimeout(() => {
          for (const s of [...fetcher.network.streams]) s.abort(new Error('connection aborted: ping failure'))
          fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id })
        }, 1500)
      }
      if (evt.type === 'transfer:fetch:provider') statuses.push(`${evt.detail.status}:${evt.detail.reason ?? ''}`)
    }
  })
  fetching.catch(() => {})
  await waitFor(() => blocks >= 4, { timeout: 30_000, message: '4 blocks' })
  await delay(9_000)
  away = false
  net.freeze(sharer.id, fetcher.id, false)
  const outcome = await outcomeOf(fetching)
  assert.equal(outcome, 'completed', statuses.join(' | '))
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

test('the process is suspended (a laptop lid closed, SIGSTOP) for longer than the idle timeout: on waking, the fetch goes on instead of failing at once', async (t) => {
  const { net, sharer, fetcher, content, cid } = await sharerAndFetcher(t, 1000)
  let blocks = 0
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 3_000,
    onProgress: (evt: TransferFetchEvents) => {
      // the whole process stops (every peer here shares the event loop, as when the lid closes)
      // nothing in flight (the link frozen), then the process sleeps 5 s: longer than the idle timeout
      if (evt.type === 'transfer:fetch:block' && ++blocks === 4) {
        net.freeze(sharer.id, fetcher.id)
        setTimeout(() => {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5_000)
          // awake: the link works again from the next timer on (the overdue ones fire first, as on a real wake-up)
          setTimeout(() => { net.freeze(sharer.id, fetcher.id, false) }, 1)
        }, 200)
      }
    }
  })
  const outcome = await outcomeOf(fetching)
  assert.equal(outcome, 'completed')
  assert.deepEqual(await readFile(fetcher.store, cid), content)
})

test('a redial whose own connection is reported (peer:connect) while it completes is not dropped: the provider comes back after a disconnect', async (t) => {
  const { sharer, fetcher, cid } = await sharerAndFetcher(t, 1000)
  const realOpen = fetcher.network.openStream.bind(fetcher.network)
  let connected = true
  fetcher.network.openStream = async (peer, protocol, options) => {
    const stream = await realOpen(peer, protocol, options)
    if (!connected) {
      // as libp2p does: a dial that makes a new connection reports peer:connect before it returns,
      // and a dial whose signal is aborted then closes the connection it made
      connected = true
      fetcher.network.safeDispatchEvent('peer:connect', { peer })
      if (options?.signal?.aborted === true) {
        stream.abort(new Error('aborted'))
        connected = false
        fetcher.network.safeDispatchEvent('peer:disconnect', { peer })
        throw Object.assign(new Error('unexpected end of input'), { name: 'UnexpectedEOFError' })
      }
    }
    return stream
  }
  let blocks = 0
  const fetching = fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 20_000,
    onProgress: (evt: TransferFetchEvents) => {
      if (evt.type === 'transfer:fetch:block' && ++blocks === 4) {
        // the connection drops (the other side closed it while this node slept); the peer is there
        connected = false
        for (const s of [...fetcher.network.streams]) s.abort(new Error('connection closed'))
        fetcher.network.safeDispatchEvent('peer:disconnect', { peer: sharer.id })
      }
    }
  })
  const outcome = await outcomeOf(fetching)
  assert.equal(outcome, 'completed', `opens: ${fetcher.network.dials.get(sharer.id) ?? 0}`)
  assert.ok((fetcher.network.dials.get(sharer.id) ?? 0) < 10, `opens: ${fetcher.network.dials.get(sharer.id) ?? 0}`)
})
