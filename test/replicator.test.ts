/**
 * Issue 18, replication: one peer announcing many files nobody serves (each waits out the fetch
 * timeout) must not hold back another peer's file. The replica's queue is fair by announcer and
 * runs REPLICATE_CONCURRENCY fetches at once: the honest file starts within one round of turns.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { Replicator, REPLICATE_CONCURRENCY } from '../src/node/replicator.js'
import { StoreLimitError } from '../src/node/errors.js'
import { waitFor } from '../src/util/wait.js'

/**
 * A swarm protocol whose `file:announced` events the test sends itself; its catalog holds what
 * was announced, with the announcers as providers. `connect` plays a peer connecting.
 */
function announcer (): { protocol: any, announce: (peer: string, cid: string) => void, onPeerConnect: (fn: (peer: string) => void) => () => void, connect: (peer: string) => void } {
  const listeners: Array<(evt: any) => void> = []
  const providers = new Map<string, Set<string>>()
  const connectListeners = new Set<(peer: string) => void>()
  return {
    protocol: {
      addEventListener: (_type: string, fn: (evt: any) => void) => { listeners.push(fn) },
      removeEventListener: () => {},
      catalog: () => [],
      entry: (cid: string) => providers.has(cid) ? { cid, name: cid, providers: [...providers.get(cid) ?? []].map(peer => ({ peer })) } : undefined
    },
    announce: (peer, cid) => {
      providers.set(cid, new Set([...providers.get(cid) ?? [], peer]))
      for (const fn of listeners) fn({ detail: { peer, entry: { cid, name: cid } } })
    },
    onPeerConnect: (fn) => { connectListeners.add(fn); return () => { connectListeners.delete(fn) } },
    connect: (peer) => { for (const fn of connectListeners) fn(peer) }
  }
}

const quietLog = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as any

test('100 baits from one peer, then one file from another: it is fetched within one round of turns, not after 100 baits', async () => {
  const swarm = announcer()
  const started: string[] = []
  const pending = new Map<string, { resolve: () => void, reject: (err: Error) => void }>()
  const replicator = new Replicator({
    peerId: () => 'me',
    store: () => ({ get: async () => undefined, pin: async () => {}, stat: async () => ({ bytes: 0, refBytes: 0 }) }) as any,
    protocol: swarm.protocol,
    fetch: async (cid, { signal }) => {
      started.push(cid)
      return new Promise((resolve, reject) => {
        pending.set(cid, { resolve: () => { resolve({ size: 1, elapsed: 1 } as any) }, reject })
        signal.addEventListener('abort', () => { reject(new Error('stopped')) }, { once: true })
      })
    },
    emit: () => {},
    log: quietLog,
    onPeerConnect: swarm.onPeerConnect
  })
  replicator.start()
  const announce = swarm.announce
  for (let i = 0; i < 100; i++) announce('baiter', `bait-${i}`)
  announce('honest', 'holiday')
  await waitFor(() => started.length === REPLICATE_CONCURRENCY, { message: () => `${REPLICATE_CONCURRENCY} fetches at once (${started.join(', ')})` })
  assert.deepEqual(started, Array.from({ length: REPLICATE_CONCURRENCY }, (_, i) => `bait-${i}`))
  // baits time out one after the other: peers take turns, so the honest file is fetched within
  // one round (here: the second slot that frees), not after the 97 baits queued before it
  pending.get('bait-0')!.reject(new Error('no provider answered'))
  pending.get('bait-1')!.reject(new Error('no provider answered'))
  await waitFor(() => started.length === REPLICATE_CONCURRENCY + 2, { message: () => `two more fetches (${started.join(', ')})` })
  assert.deepEqual(started.slice(REPLICATE_CONCURRENCY), ['bait-3', 'holiday'])
  pending.get('holiday')!.resolve()
  await replicator.stop()
})

test('a replicated file leaves the dedup set once it is stored: announced again, it is found in the store, pinned and not fetched again', async () => {
  const swarm = announcer()
  const fetched: string[] = []
  const done: string[] = []
  const complete = new Set<string>()
  const pinned: string[] = []
  const replicator = new Replicator({
    peerId: () => 'me',
    store: () => ({
      get: async (cid: string) => complete.has(cid) ? { complete: true, pinned: false, size: 1 } : undefined,
      pin: async (cid: string) => { pinned.push(cid) },
      stat: async () => ({ bytes: 0, refBytes: 0 })
    }) as any,
    protocol: swarm.protocol,
    fetch: async (cid) => {
      fetched.push(cid)
      complete.add(cid)
      return { size: 1, elapsed: 1, bytesReceived: 1 } as any
    },
    emit: (type, detail: any) => { if (type === 'replicate:done') done.push(detail.cid) },
    log: quietLog,
    onPeerConnect: swarm.onPeerConnect
  })
  replicator.start()
  const announce = (cid: string): void => { swarm.announce('sharer', cid) }
  for (let i = 0; i < 50; i++) announce(`file-${i}`)
  await waitFor(() => done.length === 50, { message: () => `50 files replicated (${done.length})` })
  assert.equal((replicator as any).seen.size, 0, 'what is stored is not remembered a second time')
  pinned.length = 0
  announce('file-7')
  await waitFor(() => pinned.includes('file-7'), { message: 'the file announced again to be pinned from the store' })
  assert.equal(fetched.length, 50, 'nothing fetched twice')
  assert.equal((replicator as any).seen.size, 0)
  await replicator.stop()
})

test('a file that failed for want of its provider is retried when a provider of it connects, not when another peer does; a full store waits for an announcement', async () => {
  const swarm = announcer()
  const fetched: string[] = []
  const events: string[] = []
  let sharerAway = true
  const replicator = new Replicator({
    peerId: () => 'me',
    store: () => ({ get: async () => undefined, pin: async () => {}, stat: async () => ({ bytes: 0, refBytes: 0 }) }) as any,
    protocol: swarm.protocol,
    fetch: async (cid) => {
      fetched.push(cid)
      if (cid === 'big') throw new StoreLimitError('big', 'big', 10, 0, 1)
      if (sharerAway) throw new Error('the only provider left the swarm')
      return { size: 1, elapsed: 1, bytesReceived: 1 } as any
    },
    emit: (type, detail: any) => { events.push(`${type} ${String(detail.cid)}`) },
    log: quietLog,
    onPeerConnect: swarm.onPeerConnect
  })
  replicator.start()
  swarm.announce('sharer', 'album')
  swarm.announce('sharer', 'big')
  await waitFor(() => events.includes('replicate:failed album') && events.includes('replicate:failed big'), { message: () => `both failed (${events.join('; ')})` })
  // another peer connects: it provides neither, nothing is retried
  swarm.connect('stranger')
  assert.deepEqual(fetched, ['album', 'big'])
  // the sharer is back: its file is fetched again; the one the store has no room for is not
  sharerAway = false
  swarm.connect('sharer')
  await waitFor(() => events.includes('replicate:done album'), { message: () => `album replicated (${events.join('; ')})` })
  assert.deepEqual(fetched, ['album', 'big', 'album'])
  // done: a later connect of the sharer retries nothing
  swarm.connect('sharer')
  assert.deepEqual(fetched, ['album', 'big', 'album'])
  await replicator.stop()
})
