import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createSwarmNode, type SwarmNode } from '../src/node/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import type { CatalogEntry } from '../src/pubsub/index.js'
import { once } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { decodeWire, type WireMessage } from '../src/pubsub/codec.js'
import type { TopicMessage } from '../src/net/network.js'
import { cidOf, countEvents, fileOf } from './helpers/pubsub.js'
import { userTopic } from '../src/pubsub/topics.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']

function providersOf (entry: CatalogEntry | undefined): string[] {
  return entry?.providers.map(p => p.peer) ?? []
}

/** Resolves when `node` fires `type` for `cid` (and `peer`, when given). Set up before the action. */
async function eventFor (node: SwarmNode, type: 'file:announced' | 'file:withdrawn' | 'provider:removed', cid: string, peer?: string): Promise<void> {
  await once(node, type, {
    filter: (d: any) => (d.cid ?? d.entry?.cid) === cid && (peer == null || d.peer === peer),
    signal: AbortSignal.timeout(10_000)
  })
}

test('acceptance 1: a file announced by node 0 reaches the catalog of every node of a 6-node swarm, with node 0 as provider', async (t) => {
  const swarm = await createLocalSwarm({ size: 6 }, t)
  const [n0, ...others] = swarm.nodes as [SwarmNode, ...SwarmNode[]]
  const file = await fileOf('acceptance-1', { mediaType: 'image/jpeg', encrypted: true })
  const heard = others.map(async n => { await eventFor(n, 'file:announced', file.cid, n0.peerId) })

  await n0.protocol.announce(file)
  await Promise.all(heard)

  for (const n of others) {
    const entry = n.protocol.entry(file.cid)
    assert.ok(entry != null, `node ${n.name} has the entry`)
    assert.deepEqual({ ...entry, providers: providersOf(entry) }, {
      cid: file.cid, name: file.name, size: file.size, mediaType: 'image/jpeg', encrypted: true, providers: [n0.peerId]
    })
    assert.deepEqual(n.protocol.providers(file.cid), [n0.peerId])
    assert.equal(n.protocol.stats().rejected, 0)
  }
  // the announcer lists itself, but providers() means remote peers
  assert.deepEqual(providersOf(n0.protocol.entry(file.cid)), [n0.peerId])
  assert.deepEqual(n0.protocol.providers(file.cid), [])
})

test('acceptance 2: a 7th node joining after 20 announcements gets all 20, for a bounded number of messages', async (t) => {
  // no periodic re-announce during the test: every message counted is due to the newcomer
  const pubsub = { reannounceInterval: 60_000, providerTtl: 300_000 }
  const swarm = await createLocalSwarm({ size: 6, node: { pubsub } }, t)
  const files = await Promise.all(Array.from({ length: 20 }, async (_, i) => await fileOf(`late-joiner-${i}`)))
  for (const [i, f] of files.entries()) await swarm.nodes[i % 6]!.protocol.announce(f)
  await waitFor(() => swarm.nodes.every(n => n.protocol.catalog().length === 20), { timeout: 10_000, message: 'every node to hear the 20 announcements' })
  const settled = (nodes: SwarmNode[]): boolean => nodes.every(n => n.protocol.stats().pendingAnswers === 0 && n.protocol.stats().pendingRequests === 0)
  await waitFor(() => settled(swarm.nodes), { message: 'the swarm to settle' })

  // Count on the wire what the newcomer causes: its own messages, as a passive observer (node 5) receives
  // them, and the catalog answers to its requests, as the newcomer receives them. (Messages of the swarm's
  // own start-up may still trickle in: gossip can deliver a request late, and its answer follows.)
  const observer = swarm.nodes[5]!
  const late = await createSwarmNode({ repo: join(swarm.dir, 'late'), name: 'late', listen: LOCAL, mdns: false, pubsub })
  t.after(async () => { await late.stop() })
  const fromLate: string[] = []
  const lateRequests = new Set<string>()
  const answers: string[] = []
  const decode = (m: TopicMessage): WireMessage | undefined => {
    const r = decodeWire(m.topic === late.topics.request ? 'request' : 'announce', m.data)
    return r.ok ? r.message : undefined
  }
  const onObserver = (evt: CustomEvent<TopicMessage>): void => {
    if (evt.detail.from !== late.peerId) return
    const msg = decode(evt.detail)
    fromLate.push(msg?.type ?? 'invalid')
    if (msg?.type === 'catalog-request') lateRequests.add(msg.requestId)
  }
  const onLate = (evt: CustomEvent<TopicMessage>): void => {
    const msg = decode(evt.detail)
    if (msg?.type === 'catalog-answer') answers.push(msg.requestId)
  }
  observer.network.addEventListener('message', onObserver)
  late.network.addEventListener('message', onLate)
  t.after(() => { observer.network.removeEventListener('message', onObserver); late.network.removeEventListener('message', onLate) })

  await Promise.all(swarm.nodes.map(async n => await late.dial(n.getMultiaddrs()[0]!)))
  // a generous deadline that only catches a hang (the catalog request has no timer-driven fallback
  // beyond its retries): how fast is bench/late-joiner.ts's business, not a test's
  await waitFor(() => late.protocol.catalog().length === 20, { timeout: 30_000, message: () => `20 entries at the late joiner (has ${late.protocol.catalog().length})` })
  for (const f of files) assert.equal(late.protocol.entry(f.cid)?.name, f.name)

  // every answer timer has fired (sent or suppressed), the observer has every message of the newcomer,
  // and nothing more arrives at the newcomer
  const all = [...swarm.nodes, late]
  let last = { count: -1, at: Date.now() }
  const quiet = (): boolean => {
    if (answers.length !== last.count) last = { count: answers.length, at: Date.now() }
    return Date.now() - last.at >= 300
  }
  await waitFor(() => fromLate.length > 0 && fromLate.length === late.protocol.stats().published && settled(all) && quiet(), {
    message: () => `the newcomer's ${late.protocol.stats().published} messages at the observer (${fromLate.length}) and its answers settled`
  })
  // (the newcomer may even have its catalog before it asks: gossipsub re-sends the last second's messages to new
  // peers, so answers to the swarm's own start-up requests can reach it; it asks anyway and is answered)
  // one Hello and one catalog request; a second Hello only if a peer's subscription reached the newcomer
  // after its first Hello went out (presence.ts: at most one a second), which a loaded machine can cause
  assert.deepEqual(fromLate.filter(m => m !== 'hello'), ['catalog-request'])
  const hellos = fromLate.filter(m => m === 'hello').length
  assert.ok(hellos >= 1 && hellos <= 2, `${hellos} hellos`)
  const answered = answers.filter(id => lateRequests.has(id)).length
  assert.ok(answered >= 1, 'its catalog request was answered')
  const messages = fromLate.length + answered
  const naive = 6 * files.length
  t.diagnostic(`late joiner: ${messages} messages on the wire (naive peers x files = ${naive})`)
  assert.ok(messages <= 9, `${messages} messages: hello, catalog request and a few answers`)
  assert.ok(messages * 10 <= naive)
})

test('acceptance 3a: a withdraw removes the provider everywhere', async (t) => {
  const swarm = await createLocalSwarm({ size: 4 }, t)
  const [n0, n1, ...others] = swarm.nodes as [SwarmNode, SwarmNode, ...SwarmNode[]]
  const file = await fileOf('withdraw-me')
  await Promise.all([n1, ...others].map(async n => { await eventFor(n, 'file:announced', file.cid) }).concat(n0.protocol.announce(file)))
  // a second provider keeps the entry alive: only node 0 must go
  await Promise.all([n0, ...others].map(async n => { await eventFor(n, 'file:announced', file.cid, n1.peerId) }).concat(n1.protocol.announce(file)))

  const withdrawn = [n1, ...others].map(async n => { await eventFor(n, 'file:withdrawn', file.cid, n0.peerId) })
  await n0.protocol.withdraw(file.cid)
  await Promise.all(withdrawn)
  for (const n of [n1, ...others]) assert.deepEqual(providersOf(n.protocol.entry(file.cid)), [n1.peerId])

  // the last provider withdraws: the file leaves every catalog
  const gone = [n0, ...others].map(async n => { await eventFor(n, 'provider:removed', file.cid, n1.peerId) })
  await n1.protocol.withdraw(file.cid)
  await Promise.all(gone)
  for (const n of swarm.nodes) assert.equal(n.protocol.entry(file.cid), undefined)
})

test('acceptance 3b: a provider that shuts down leaves every catalog after the TTL, not before', async (t) => {
  // node 1 re-announces every ~300 ms: it stays listed even if a loaded machine delays a re-announce by 2 s
  const ttl = 3_000
  const pubsub = { providerTtl: ttl, reannounceInterval: 300 }
  const swarm = await createLocalSwarm({ size: 4, node: { pubsub } }, t)
  const [n0, n1, ...others] = swarm.nodes as [SwarmNode, SwarmNode, ...SwarmNode[]]
  const file = await fileOf('shutdown')
  await n0.protocol.announce(file)
  await n1.protocol.announce(file)
  await waitFor(() => [n1, ...others].every(n => n.protocol.entry(file.cid)?.providers.length === 2), { message: 'both providers everywhere' })

  // when each node last heard node 0, as its catalog says (a lower bound of the last time it will)
  const lastHeard = new Map([n1, ...others].map(n => [n, n.protocol.entry(file.cid)?.providers.find(p => p.peer === n0.peerId)?.lastSeen ?? NaN]))
  const removed = [n1, ...others].map(async n => {
    await eventFor(n, 'provider:removed', file.cid, n0.peerId)
    return { n, at: Date.now() }
  })
  await n0.stop()
  for (const { n, at } of await Promise.all(removed)) {
    // expiry, not anything else, removed it: no earlier than one TTL after it was last heard (a fact of
    // the catalog's clock, not a speed: a busy machine only makes it later)
    assert.ok(at - lastHeard.get(n)! >= ttl, `${n.name} removed node 0 ${at - lastHeard.get(n)!} ms after last hearing it`)
  }
  // node 1 keeps re-announcing, so it stays
  for (const n of [n1, ...others]) assert.deepEqual(providersOf(n.protocol.entry(file.cid)), [n1.peerId])
})

test('a node left alone (its network gone, then back) joins again: a catalog request when the first peer returns, and the files that expired meanwhile listed again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-rejoin-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const pubsub = { providerTtl: 2_000, reannounceInterval: 1_500 }
  const a = await createSwarmNode({ repo: join(dir, 'a'), name: 'a', listen: LOCAL, mdns: false, pubsub })
  t.after(async () => { await a.stop() })
  const b = await createSwarmNode({ repo: join(dir, 'b'), name: 'b', listen: LOCAL, mdns: false, pubsub })
  t.after(async () => { await b.stop() })
  const addrA = a.getMultiaddrs()[0]!
  await b.dial(addrA)
  const file = await fileOf('rejoin')
  await a.protocol.announce(file)
  await waitFor(() => b.protocol.entry(file.cid) != null, { message: 'b lists a\'s file' })

  // b's network goes: no connection, a's entry expires from b's catalog, and b has seen itself alone
  assert.equal(b.protocol.stats().rejoins, 0)
  await b.forget(a.peerId)
  await waitFor(() => b.protocol.entry(file.cid) == null && b.protocol.stats().rejoins >= 1, { message: 'b alone, a\'s file expired from its catalog' })

  const requests: string[] = []
  const onMessage = (evt: CustomEvent<TopicMessage>): void => {
    if (evt.detail.from !== b.peerId || evt.detail.topic !== a.topics.request) return
    const r = decodeWire('request', evt.detail.data)
    if (r.ok && r.message.type === 'catalog-request') requests.push(r.message.requestId)
  }
  a.network.addEventListener('message', onMessage)
  t.after(() => { a.network.removeEventListener('message', onMessage) })
  // back: b meets the swarm as at start
  await b.dial(addrA)
  await waitFor(() => requests.length > 0 && b.protocol.entry(file.cid) != null, {
    message: () => `b's catalog request after the return (${requests.length}) and a's file in its catalog again (${String(b.protocol.entry(file.cid) != null)})`
  })
})

test('acceptance 5: two swarms on the same connected nodes never see each other\'s files', async (t) => {
  const alpha = await createLocalSwarm({ size: 3, swarm: 'alpha' }, t)
  const beta = await createLocalSwarm({ size: 3, swarm: 'beta' }, t)
  // one network: every alpha node connects to every beta node
  await Promise.all(alpha.nodes.flatMap(a => beta.nodes.map(async b => await a.dial(b.getMultiaddrs()[0]!))))
  const fa = await fileOf('alpha-file')
  const fb = await fileOf('beta-file')
  const betaTopics = new Set(Object.values(beta.nodes[0]!.topics))
  const leaks = alpha.nodes.map(n => countEvents<{ topic: string }>(n.network as unknown as EventTarget, 'message', m => betaTopics.has(m.topic)))

  await alpha.nodes[0]!.protocol.announce(fa)
  await beta.nodes[0]!.protocol.announce(fb)
  await waitFor(() => alpha.nodes.slice(1).every(n => n.protocol.entry(fa.cid) != null) && beta.nodes.slice(1).every(n => n.protocol.entry(fb.cid) != null), { message: 'each swarm to hear its own file' })
  // a beta node asking for alpha's file gets no answer
  assert.deepEqual(await beta.nodes[1]!.protocol.want(fa.cid, { timeout: 300 }), [])

  for (const n of alpha.nodes) assert.equal(n.protocol.entry(fb.cid), undefined)
  for (const n of beta.nodes) assert.equal(n.protocol.entry(fa.cid), undefined)
  for (const l of leaks) assert.equal(l.count, 0)
  assert.notEqual(alpha.nodes[0]!.topics.announce, beta.nodes[0]!.topics.announce)
})

test('want: resolves the providers of a CID missing from the catalog, and [] after its timeout when nobody has it', async (t) => {
  const swarm = await createLocalSwarm({ size: 3 }, t)
  const [n0, n1, n2] = swarm.nodes as [SwarmNode, SwarmNode, SwarmNode]
  // node 1 holds a CID without announcing metadata (a partial download); the others know it from have,
  // so make a fresh node that never heard it
  const cid = await cidOf('wanted')
  await n1.protocol.have(cid, true)
  await waitFor(() => n0.protocol.providers(cid).length === 1 && n2.protocol.providers(cid).length === 1)
  assert.deepEqual(await n0.protocol.want(cid), [n1.peerId], 'known providers are returned at once')
  assert.equal(n0.protocol.entry(cid), undefined, 'a have carries no metadata')

  const late = await swarm.addNode()
  assert.deepEqual(late.protocol.providers(cid), [])
  const wantsBefore = n1.protocol.stats().receivedByType.want ?? 0
  assert.deepEqual(await late.protocol.want(cid, { timeout: 5_000 }), [n1.peerId])
  assert.equal(n1.protocol.stats().receivedByType.want, wantsBefore + 1)

  const missing = await cidOf('nobody has this')
  const started = Date.now()
  assert.deepEqual(await late.protocol.want(missing, { timeout: 200 }), [])
  assert.ok(Date.now() - started >= 190)

  const controller = new AbortController()
  const aborted = late.protocol.want(missing, { signal: controller.signal })
  controller.abort(new Error('changed my mind'))
  await assert.rejects(aborted, /changed my mind/)
  await assert.rejects(late.protocol.want('not a cid'), { name: 'InvalidFileError' })
})

test('the node: events forwarded, bad files refused, user topics untouched by the validators', async (t) => {
  const swarm = await createLocalSwarm({ size: 2 }, t)
  const [a, b] = swarm.nodes as [SwarmNode, SwarmNode]
  await assert.rejects(a.protocol.announce({ cid: 'bafy-not-a-cid', name: 'x', size: 1, mediaType: 'text/plain' }), { name: 'InvalidFileError' })
  await assert.rejects(a.protocol.announce({ ...(await fileOf('x')), name: 'n'.repeat(256) }), { name: 'InvalidFileError' })
  await assert.rejects(a.protocol.announce({ ...(await fileOf('x')), size: -1 }), { name: 'InvalidFileError' })
  await assert.rejects(a.protocol.announce({ ...(await fileOf('x')), mediaType: 'not a type' }), { name: 'InvalidFileError' })

  // an empty media type becomes application/octet-stream
  const file = await fileOf('forwarded', { mediaType: '' })
  const added = once(b, 'provider:added', { filter: d => d.cid === file.cid, signal: AbortSignal.timeout(5_000) })
  const announced = once(b, 'file:announced', { filter: d => d.entry.cid === file.cid, signal: AbortSignal.timeout(5_000) })
  await a.protocol.announce(file)
  assert.equal((await announced).entry.mediaType, 'application/octet-stream')
  assert.equal((await added).peer, a.peerId)

  // bytes that are no swarmdrop message pass on a user topic
  const got = new Promise<Uint8Array>((resolve) => { b.subscribe('chat', (m) => { resolve(m.data) }) })
  await waitFor(() => a.network.getSubscribers(userTopic(a.swarm, 'chat')).includes(b.peerId))
  await a.publish('chat', new Uint8Array([0xff, 0x00, 0x13]))
  assert.deepEqual([...await got], [0xff, 0x00, 0x13])
  assert.equal(b.protocol.stats().rejected, 0)
})

test('a stopped node\'s protocol refuses calls and leaves no timer behind', async (t) => {
  const swarm = await createLocalSwarm({ size: 2 }, t)
  const n = swarm.nodes[1]!
  await n.stop()
  assert.equal(n.protocol.isStarted(), false)
  await assert.rejects(n.protocol.announce(await fileOf('late')), { name: 'ProtocolNotStartedError' })
  await assert.rejects(n.protocol.want(await cidOf('late')), { name: 'ProtocolNotStartedError' })
})

test('user topics are scoped to the swarm: a message of swarm "team" never reaches swarm "other"; global topics reach both', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-topics-'))
  const nodes: SwarmNode[] = []
  t.after(async () => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  })
  for (const [i, swarm] of ['team', 'other', 'team'].entries()) {
    nodes.push(await createSwarmNode({ repo: join(dir, String(i)), swarm, listen: LOCAL, mdns: false, peerExchange: false }))
  }
  const [a, b, c] = nodes as [SwarmNode, SwarmNode, SwarmNode]
  await c.dial(a.getMultiaddrs()[0]!)
  await c.dial(b.getMultiaddrs()[0]!)
  const heard = { a: [] as string[], b: [] as string[] }
  const decoder = new TextDecoder()
  a.subscribe('chat', (m) => { assert.equal(m.topic, 'chat'); heard.a.push(decoder.decode(m.data)) })
  b.subscribe('chat', (m) => { heard.b.push(decoder.decode(m.data)) })
  a.subscribe('lobby', (m) => { heard.a.push(decoder.decode(m.data)) }, { global: true })
  b.subscribe('lobby', (m) => { heard.b.push(decoder.decode(m.data)) }, { global: true })
  assert.equal(userTopic('team', 'chat'), '/swarmdrop-topic/1/team/chat')
  await waitFor(() => c.network.getSubscribers(userTopic('team', 'chat')).includes(a.peerId) &&
    c.network.getSubscribers(userTopic('other', 'chat')).includes(b.peerId) &&
    c.network.getSubscribers('lobby').length === 2, { timeout: 10_000, message: 'subscriptions seen by c' })
  // c (team) publishes on its "chat": sent to a only, though b subscribes to a topic called "chat" too
  assert.equal(await c.publish('chat', new TextEncoder().encode('team only')), 1)
  assert.equal(await c.publish('lobby', new TextEncoder().encode('everyone'), { global: true }), 2)
  await waitFor(() => heard.a.length === 2 && heard.b.length === 1, { timeout: 10_000, message: () => JSON.stringify(heard) })
  assert.deepEqual(heard.a.sort(), ['everyone', 'team only'])
  assert.deepEqual(heard.b, ['everyone'])
})
