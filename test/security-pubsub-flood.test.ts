/**
 * Issue 13 part 1, the floods that per-peer-id limits did not bound, run against a victim in its own
 * process (test/fixtures/flood-node.ts, with the flood victims' capped heap) so that its memory is
 * its own: many signers on one connection, a catalog-answer flood, a subscription flood. Each
 * asserts the issue's acceptance: the victim's RSS stays under 2× its idle RSS during the flood
 * (peak sampled every 10 ms), what the attackers left is released once they leave (live heap and
 * buffers after a full GC), and an honest fetch from the victim started during the flood
 * completes with the right bytes. The limits themselves are unit-tested in test/pubsub-bounds.test.ts.
 */
import '../src/polyfill.js'
import { test, type TestContext } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_TOPICS_PER_PEER } from '../src/net/constants.js'
import {
  announcedFileBytes, batches, catalogRecordBytes, decodeWire, encodeWire, type AnnouncedFileInfo, type CatalogRecordInfo
} from '../src/pubsub/codec.js'
import { MAX_BATCH_BYTES, MAX_CATALOG_BYTES, MAX_CATALOG_PAIRS, MAX_FILES_PER_MESSAGE } from '../src/pubsub/constants.js'
import { swarmTopics, DEFAULT_SWARM } from '../src/pubsub/topics.js'
import { waitFor } from '../src/util/wait.js'
import { seededContent } from './fixtures/transfer-peers.js'
import { liveAfterLeaving, startNode, VICTIM_NODE_OPTIONS, type Memory, type NodeProcess, type RawPeer } from './helpers/flood-node.js'
import { cidOf, fakePeer, rawPeer } from './helpers/pubsub.js'

const MiB = 1024 * 1024
const topics = swarmTopics(DEFAULT_SWARM)
/** What the victim may still hold after a full GC once the attackers left: catalog entries until their TTL, gossipsub's seen-cache, scores. */
const MAX_LIVE_AFTER = 32 * MiB
/** The honest file fetched from the victim during each flood. */
const HONEST_BYTES = 4 * MiB

interface Setup {
  dir: string
  victim: NodeProcess
  honest: NodeProcess
  /** As rawPeer's target: the victim's address and peer id. */
  target: { getMultiaddrs: () => string[], peerId: string }
  idle: Memory
  /** Starts the honest fetch; its promise resolves to the fetched file's sha256. */
  fetch: () => Promise<string>
  expected: string
}

async function setUp (t: TestContext, name: string): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), `swarmdrop-${name}-`))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const victim = await startNode(t, { repo: join(dir, 'victim'), name: 'victim' }, VICTIM_NODE_OPTIONS)
  const { cid } = await victim.request('share', { seed: name, size: HONEST_BYTES })
  const honest = await startNode(t, { repo: join(dir, 'honest'), name: 'honest', bootstrap: [victim.addrs[0]!] })
  const expected = createHash('sha256').update(seededContent(name, HONEST_BYTES)).digest('hex')
  const idle: Memory = await victim.request('mark')
  const fetch = async (): Promise<string> => (await honest.request('fetch', { cid, timeout: 120_000 }, 150_000)).sha256
  return { dir, victim, honest, target: { getMultiaddrs: () => victim.addrs, peerId: victim.peerId }, idle, fetch, expected }
}

/** The acceptance of each flood: RSS under 2× idle during it, the honest fetch intact, memory released once the attackers left. */
async function checkAfterFlood (t: TestContext, s: Setup, fetching: Promise<string>, attackers: RawPeer[]): Promise<void> {
  assert.equal(await fetching, s.expected, 'the honest fetch started during the flood completed, intact')
  const during: { peak: number } = await s.victim.request('memory')
  const live = await liveAfterLeaving(s.victim, attackers, s.idle, MAX_LIVE_AFTER)
  t.diagnostic(`victim memory: idle RSS ${Math.round(s.idle.rss / MiB)} MiB, peak during the flood ${Math.round(during.peak / MiB)} MiB; after the attackers left, live after GC ${live >= 0 ? '+' : ''}${Math.round(live / MiB)} MiB`)
  assert.ok(during.peak < 2 * s.idle.rss, `victim RSS peaked at ${Math.round(during.peak / MiB)} MiB, 2× its idle ${Math.round(s.idle.rss / MiB)} MiB or more`)
  assert.ok(live < MAX_LIVE_AFTER, `the victim still holds ${Math.round(live / MiB)} MiB more after the attackers left (limit ${MAX_LIVE_AFTER / MiB} MiB)`)
}

/** Sum of the victim's counters of announce-topic messages taken in of `type`: handled, or ignored over a budget. */
function takenIn (protocol: any, type: string): number {
  const ignored = Object.entries(protocol.ignoredByLimit as Record<string, number>).filter(([k]) => k.startsWith('announce-bytes')).reduce((a, [, n]) => a + n, 0)
  return (protocol.receivedByType[type] ?? 0) + ignored
}

/**
 * Publishes `messages` in turn from `publishers` on the announce topic, at most `ahead` messages
 * ahead of what the victim took in (more only queues in the attackers' own buffers); `onQuarter`
 * runs once a quarter of them is out. `via` is the peer they reach the victim through (for a timeout's message).
 */
async function flood (s: Setup, publishers: RawPeer[], messages: Uint8Array[], type: string, onQuarter: () => void, via: RawPeer = publishers[0]!): Promise<any> {
  let stats: any = await s.victim.request('stats', { peer: via.peerId })
  let protocol: any = stats.protocol
  const base = takenIn(protocol, type)
  const taken = async (): Promise<number> => {
    stats = await s.victim.request('stats', { peer: via.peerId })
    protocol = stats.protocol
    return takenIn(protocol, type) - base
  }
  /** What a timeout reports: the victim's counters, and how it sees the peer the messages come through. */
  const state = (): string => `${JSON.stringify(protocol.receivedByType)} ${JSON.stringify(protocol.ignoredByLimit)} rejected ${String(protocol.rejected)}; the peer the messages come through connected ${String(stats.connected)}, score ${String(stats.score)}`
  const ahead = Math.max(4, Math.floor(MiB / MAX_BATCH_BYTES))
  for (const [i, m] of messages.entries()) {
    if (i === Math.floor(messages.length / 4)) onQuarter()
    await publishers[i % publishers.length]!.publish(topics.announce, m)
    if (i % 4 === 3) {
      await waitFor(async () => i + 1 - await taken() <= ahead, {
        timeout: 60_000, interval: 20, message: () => `the victim to take in message ${i + 1 - ahead} (${state()})`
      })
    }
  }
  await waitFor(async () => await taken() >= messages.length, {
    timeout: 60_000, interval: 50, message: () => `the victim to take in ${messages.length} messages (${state()})`
  })
  return protocol
}

async function fileMeta (i: number, prefix: string): Promise<AnnouncedFileInfo['meta']> {
  return { cid: await cidOf(`${prefix} ${i}`), name: `${prefix}-${i}.bin`, size: i, mediaType: 'application/octet-stream', encrypted: false }
}

test('many signers on one connection: 100,000 files announced by 16 throw-away keys behind one relay → the catalog within its budget, RSS under 2× idle, released after they leave, an honest fetch completes', async (t) => {
  const SIGNERS = 16
  const FILES = 100_000
  // built before any peer connects: building them keeps this process busy for seconds on a loaded
  // machine, and a connected peer that does not answer libp2p's pings meanwhile is disconnected
  const files: AnnouncedFileInfo[] = []
  for (let i = 0; i < FILES; i++) files.push({ meta: await fileMeta(i, 'signer file'), complete: true })
  const messages = batches(files, announcedFileBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE).map(batch => encodeWire({ type: 'announce', files: batch }))
  const s = await setUp(t, 'signers-flood')
  // the relay: a bare gossipsub peer connected to the victim; the signers reach the victim only through it
  const relay = await rawPeer(t, s.dir, s.target, [topics.announce], { subscribe: true })
  await waitFor(() => relay.getMeshPeers(topics.announce).includes(s.victim.peerId), { message: 'the relay in the victim\'s mesh' })
  const signers = await Promise.all(Array.from({ length: SIGNERS }, async () => await rawPeer(t, s.dir, { getMultiaddrs: () => relay.getMultiaddrs(), peerId: relay.peerId }, [topics.announce], { subscribe: true })))

  let fetching: Promise<string> | undefined
  const protocol = await flood(s, signers, messages, 'announce', () => { fetching = s.fetch() }, relay)
  t.diagnostic(`${messages.length} announcements of ${FILES} files from ${SIGNERS} signers through one relay: ${protocol.receivedByType.announce ?? 0} handled, ignored ${JSON.stringify(protocol.ignoredByLimit)}; catalog ${protocol.catalogPairs} pairs, ${protocol.catalogBytes} B`)
  assert.ok(protocol.catalogPairs <= MAX_CATALOG_PAIRS && protocol.catalogBytes <= MAX_CATALOG_BYTES, 'the catalog stays within its budget')
  assert.ok(protocol.catalogPairs < FILES, 'not every flooded file is listed')
  await checkAfterFlood(t, s, fetching!, [...signers, relay])
})

test('catalog-answer flood: 100,000 files "provided" by made-up peers in unsolicited answers → none listed, a catalog request answered within 10× its size, RSS under 2× idle, released, an honest fetch completes', async (t) => {
  const RECORDS = 100_000
  // built before any peer connects (see the many-signers test)
  const records: CatalogRecordInfo[] = []
  for (let i = 0; i < RECORDS; i++) records.push({ meta: await fileMeta(i, 'made-up'), providers: [{ peer: fakePeer(i), complete: true, ageMs: 0 }] })
  const messages = batches(records, catalogRecordBytes, MAX_BATCH_BYTES, MAX_FILES_PER_MESSAGE)
    .map(batch => encodeWire({ type: 'catalog-answer', requestId: randomBytes(8).toString('hex'), records: batch }))
  const s = await setUp(t, 'answers-flood')
  const requestId = randomBytes(8).toString('hex')
  const answerBytes: number[] = []
  const attacker = await rawPeer(t, s.dir, s.target, [topics.announce, topics.request], {
    subscribe: true,
    onMessage: (m) => {
      const r = decodeWire('announce', m.data)
      if (m.from === s.victim.peerId && r.ok && r.message.type === 'catalog-answer' && r.message.requestId === requestId) answerBytes.push(m.data.byteLength)
    }
  })
  const before = (await s.victim.request('stats', { peer: attacker.peerId })).catalog

  let fetching: Promise<string> | undefined
  const protocol = await flood(s, [attacker], messages, 'catalog-answer', () => { fetching = s.fetch() })
  const after = (await s.victim.request('stats', { peer: attacker.peerId })).catalog
  t.diagnostic(`${messages.length} unsolicited answers of ${RECORDS} records: ${protocol.receivedByType['catalog-answer'] ?? 0} handled, ignored ${JSON.stringify(protocol.ignoredByLimit)}; catalog ${before} → ${after} files`)
  assert.equal(after, before, 'no made-up provider was listed')

  // then one small catalog request naming the victim: the answer carries what the victim verified, and is never more than 10× the request
  const request = encodeWire({ type: 'catalog-request', requestId, responder: s.victim.peerId })
  await attacker.publish(topics.request, request)
  await waitFor(() => answerBytes.length >= 1, { timeout: 30_000, message: 'the victim\'s answer' })
  const amplification = answerBytes.reduce((a, b) => a + b, 0) / request.byteLength
  t.diagnostic(`request ${request.byteLength} B → answer ${answerBytes.join('+')} B (×${amplification.toFixed(1)})`)
  assert.ok(amplification <= 10, `the answer is at most 10× the request (×${amplification.toFixed(1)})`)
  await checkAfterFlood(t, s, fetching!, [attacker])
})

test('subscription flood: 20 identities each subscribe to more than MAX_TOPICS_PER_PEER topics → each disconnected, their topics released, RSS under 2× idle, an honest fetch completes', async (t) => {
  const s = await setUp(t, 'subscription-flood')
  const IDENTITIES = 20
  const attackers = await Promise.all(Array.from({ length: IDENTITIES }, async () => await rawPeer(t, s.dir, s.target, [topics.announce])))
  const stats = async (peer: string): Promise<any> => await s.victim.request('stats', { peer })
  const idleTopics: number = (await stats('')).topics
  let fetching: Promise<string> | undefined
  for (const [a, attacker] of attackers.entries()) {
    if (a === IDENTITIES / 4) fetching = s.fetch()
    for (let i = 0; i <= MAX_TOPICS_PER_PEER + 50; i++) attacker.subscribe(`/flood/${a}/${i}`)
    let last: any
    await waitFor(async () => (last = await stats(attacker.peerId)).connected === false, {
      timeout: 60_000, interval: 50, message: () => `attacker ${a} disconnected (the victim holds ${String(last?.topics)} topics)`
    })
  }
  let held = 0
  await waitFor(async () => (held = (await stats('')).topics) <= idleTopics, { timeout: 30_000, message: () => `the flood's topics released (${held} held, ${idleTopics} before)` })
  t.diagnostic(`${IDENTITIES} identities × ${MAX_TOPICS_PER_PEER + 51} topics: each disconnected, the victim's topic table back to ${held} entries`)
  await checkAfterFlood(t, s, fetching!, attackers)
})
