/**
 * Issue 13 part 1, "CPU flood of valid messages": 30 s of valid 1,000-CID Withdraws from rotating
 * signers cost 120 % of a core, and an honest `get` started meanwhile failed.
 *
 * The victim runs in its own process (test/fixtures/flood-node.ts) so that its CPU time is its own.
 * Four attacker networks (each its own key, each its own connection) publish, in turn, valid
 * Withdraws of MAX_FILES_PER_MESSAGE CIDs each, as fast as the victim takes them in (at most
 * MAX_AHEAD ahead), a bounded number of them; an honest node fetches a file from the victim
 * meanwhile. What is asserted is what happened, not how fast: the fetch completes with the right
 * bytes; the victim decoded no more announce-topic bytes than its byte budget
 * (ANNOUNCE_BYTES_PER_PEER_S, ANNOUNCE_BYTES_TOTAL_S) allows over the time the flood took, and
 * ignored the rest; its CPU time is bounded by what it accepted.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { encodeWire } from '../src/pubsub/codec.js'
import {
  ANNOUNCE_BURST_BYTES_PER_PEER, ANNOUNCE_BURST_BYTES_TOTAL, ANNOUNCE_BYTES_PER_PEER_S, ANNOUNCE_BYTES_TOTAL_S, MAX_FILES_PER_MESSAGE
} from '../src/pubsub/constants.js'
import { swarmTopics, DEFAULT_SWARM } from '../src/pubsub/topics.js'
import { waitFor } from '../src/util/wait.js'
import { seededContent } from './fixtures/transfer-peers.js'
import { liveAfterLeaving, startNode, startRawPeer, VICTIM_NODE_OPTIONS, type Memory, type NodeProcess, type RawPeer } from './helpers/flood-node.js'

const MiB = 1024 * 1024
const topics = swarmTopics(DEFAULT_SWARM)

/** Withdraws the attackers publish in all, and how many signers (connections) they rotate through. */
const MESSAGES = 1_200
const SIGNERS = 4
/** The attackers stay at most this many messages ahead of what the victim has taken in (accepted or ignored). */
const MAX_AHEAD = 40

/**
 * The victim's CPU time during the flood may be at most this much per Withdraw it accepted (decoded
 * and handled: 1,024 CIDs each) plus this much per message it took in (signature check, the budget),
 * plus a fixed allowance for serving the honest fetch and the node's own timers. Measured at load
 * averages 8-13: 16-18 ms per accepted Withdraw. A bound on CPU time, not on wall-clock time.
 */
const CPU_MS_PER_ACCEPTED = 100
const CPU_MS_PER_MESSAGE = 5
const CPU_MS_FIXED = 5_000
/** What the victim may still hold after a full GC once the signers left (issue 13: memory released after the attacker leaves). */
const MAX_LIVE_AFTER = 16 * MiB

interface TestContext {
  after: (fn: () => Promise<void> | void) => void
  diagnostic: (message: string) => void
}

/** One signer: a raw peer with its own key, dialled to the victim, seeing its announce subscription. */
async function startSigner (t: TestContext, dir: string, target: NodeProcess): Promise<RawPeer> {
  return await startRawPeer(t, dir, target, [topics.announce])
}

function cpuMs (before: { user: number, system: number }, after: { user: number, system: number }): number {
  return (after.user - before.user + after.system - before.system) / 1000
}

test('CPU flood: 1,200 valid 1,024-CID Withdraws from 4 rotating signers → decoded within the announce byte budget, the rest ignored, CPU bounded per accepted message, an honest fetch completes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cpuflood-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const victim = await startNode(t, { repo: join(dir, 'victim'), name: 'victim' }, VICTIM_NODE_OPTIONS)
  const size = 4 * MiB
  const content = seededContent('cpuflood', size)
  const { cid } = await victim.request('share', { seed: 'cpuflood', size })
  const signers: RawPeer[] = []
  for (let i = 0; i < SIGNERS; i++) signers.push(await startSigner(t, dir, victim))
  const honest = await startNode(t, { repo: join(dir, 'honest'), name: 'honest', bootstrap: [victim.addrs[0]!] })

  // 8 distinct Withdraws of as many CIDs as the protocol allows (gossipsub tells messages apart by signer and seqno)
  const withdraws: Uint8Array[] = []
  for (let m = 0; m < 8; m++) {
    const cids: string[] = []
    for (let i = 0; i < MAX_FILES_PER_MESSAGE; i++) cids.push(CID.createV1(0x55, await sha256.digest(randomBytes(16))).toString())
    withdraws.push(encodeWire({ type: 'withdraw', cids, issued: Date.now() }))
  }
  const messageBytes = Math.max(...withdraws.map(w => w.byteLength))

  let stats: any
  const refresh = async (): Promise<void> => { stats = (await victim.request('stats', { peer: signers[0]!.peerId })).protocol }
  const accepted = (): number => stats.receivedByType.withdraw ?? 0
  const ignoredBytes = (): number => (stats.ignoredByLimit['announce-bytes peer'] ?? 0) + (stats.ignoredByLimit['announce-bytes total'] ?? 0)
  /** Withdraws the victim has taken in: handled, or ignored over its byte budget. */
  const taken = async (): Promise<number> => {
    await refresh()
    return accepted() + ignoredBytes()
  }
  await refresh()
  assert.equal(accepted(), 0)
  assert.equal(ignoredBytes(), 0)

  const idle: Memory = await victim.request('mark')
  const cpuBefore = await victim.request('cpu')
  const started = Date.now()
  // the honest fetch runs during the flood
  const fetching = honest.request('fetch', { cid, timeout: 120_000 }, 150_000)
  for (let i = 0; i < MESSAGES; i++) {
    await signers[i % SIGNERS]!.publish(topics.announce, withdraws[i % withdraws.length]!)
    if (i % 10 === 9) {
      const published = i + 1
      await waitFor(async () => published - await taken() <= MAX_AHEAD, {
        timeout: 60_000, interval: 20, message: () => `the victim to take in ${published - MAX_AHEAD} Withdraws (${JSON.stringify(stats)})`
      })
    }
  }
  await waitFor(async () => await taken() >= MESSAGES, {
    timeout: 60_000, interval: 50, message: () => `the victim to take in ${MESSAGES} Withdraws (${JSON.stringify(stats)})`
  })
  const elapsedS = (Date.now() - started) / 1000
  const cpuFlood = cpuMs(cpuBefore, await victim.request('cpu'))
  const fetched = await fetching
  const during: { peak: number } = await victim.request('memory')
  // the signers leave: what the flood left behind is released
  const live = await liveAfterLeaving(victim, signers, idle, MAX_LIVE_AFTER)
  t.diagnostic(`victim memory: idle RSS ${Math.round(idle.rss / MiB)} MiB, peak during the flood ${Math.round(during.peak / MiB)} MiB; after the signers left, live after GC ${live >= 0 ? '+' : ''}${Math.round(live / MiB)} MiB`)
  assert.ok(during.peak < 2 * idle.rss, `victim RSS peaked at ${Math.round(during.peak / MiB)} MiB, 2× its idle ${Math.round(idle.rss / MiB)} MiB or more`)
  assert.ok(live < MAX_LIVE_AFTER, `the victim still holds ${Math.round(live / MiB)} MiB more after the signers left (limit ${MAX_LIVE_AFTER / MiB} MiB)`)
  assert.equal(fetched.sha256, createHash('sha256').update(content).digest('hex'), 'the honest peer got the file, intact')

  t.diagnostic(`${MESSAGES} Withdraws of ${MAX_FILES_PER_MESSAGE} CIDs (${messageBytes} B each, ${(MESSAGES * messageBytes / MiB).toFixed(1)} MiB) from ${SIGNERS} signers taken in after ${elapsedS.toFixed(1)} s: ` +
    `${accepted()} accepted, ignored ${JSON.stringify(stats.ignoredByLimit)}, rejected ${stats.rejected}; victim CPU ${Math.round(cpuFlood)} ms ` +
    `(${(cpuFlood / Math.max(1, accepted())).toFixed(1)} ms per accepted); honest fetch of ${size / MiB} MiB in ${Math.round(fetched.ms)} ms`)

  // every message was valid: none rejected, each either decoded and handled or ignored by the byte budget
  assert.equal(stats.rejected, 0, 'nothing was rejected')
  assert.equal(accepted() + ignoredBytes(), MESSAGES)
  // the budget held: the node-wide bucket's burst plus its refill over the flood, and per signer its own
  const allowedTotal = Math.floor((ANNOUNCE_BURST_BYTES_TOTAL + ANNOUNCE_BYTES_TOTAL_S * elapsedS) / messageBytes) + 1
  const allowedPeers = SIGNERS * (Math.floor((ANNOUNCE_BURST_BYTES_PER_PEER + ANNOUNCE_BYTES_PER_PEER_S * elapsedS) / messageBytes) + 1)
  assert.ok(accepted() <= Math.min(allowedTotal, allowedPeers), `${accepted()} accepted (at most ${Math.min(allowedTotal, allowedPeers)} in ${elapsedS.toFixed(1)} s)`)
  assert.ok(accepted() >= Math.floor(ANNOUNCE_BURST_BYTES_PER_PEER / messageBytes), `at least one signer's burst was accepted (${accepted()})`)
  assert.ok(ignoredBytes() > 0, 'the flood went over the budget')
  // and the CPU it cost follows what was accepted, not what was sent
  const cpuBound = CPU_MS_FIXED + CPU_MS_PER_ACCEPTED * accepted() + CPU_MS_PER_MESSAGE * MESSAGES
  assert.ok(cpuFlood <= cpuBound, `victim CPU ${Math.round(cpuFlood)} ms (bound ${cpuBound} ms for ${accepted()} accepted of ${MESSAGES})`)
})
