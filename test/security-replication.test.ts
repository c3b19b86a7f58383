/**
 * Issue 18, replication baits: a `--replicate` node fetching a DAG that fans out held RSS 99 →
 * 1,028 MB before a download tracked at most MAX_PENDING_BLOCKS missing blocks. Here the victim
 * (replicate: true) runs in its own process (test/fixtures/flood-node.ts, with the flood victims'
 * capped heap) so that its memory is its own. An attacker, a swarmdrop node in this process,
 * holds a hand-built DAG in its store and announces its root: a root dag-pb node linking
 * INTERMEDIATES dag-pb nodes of 1,024 links each to raw leaves that exist nowhere, so the
 * attacker serves the root and the intermediate nodes (~2.7 MB) and answers DONT_HAVE for every
 * leaf. The victim walks the DAG, tracks MAX_PENDING_BLOCKS leaves and keeps the rest as bare
 * CIDs, and waits until its idle timeout gives the download up. Meanwhile an honest node
 * announces a file, which the victim replicates.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { CHUNK_SIZE, DAG_PB_CODEC, MAX_CHILDREN_PER_NODE, RAW_CODEC, SHA2_256 } from '../src/content/constants.js'
import { createSwarmNode } from '../src/node/index.js'
import { MAX_PENDING_BLOCKS } from '../src/transfer/constants.js'
import { waitFor } from '../src/util/wait.js'
import { seededContent } from './fixtures/transfer-peers.js'
import { liveSettles, startNode, VICTIM_NODE_OPTIONS, type Memory } from './helpers/flood-node.js'

const MiB = 1024 * 1024

/**
 * Intermediate nodes under the hostile root, each linking MAX_CHILDREN_PER_NODE leaves: 64 make
 * 65,536 leaves, of which the victim tracks MAX_PENDING_BLOCKS (16,384) and keeps the rest as
 * bare CIDs. When the cap was 65,536 (all of them tracked) the victim's RSS peaked at 198-201 MiB
 * over an idle 93-97: over the 2× bound; the cap was lowered for it.
 */
const INTERMEDIATES = 64
const LEAVES = INTERMEDIATES * MAX_CHILDREN_PER_NODE

/**
 * The victim's idle timeout (the default is 30 s): no block arrives once the attacker has sent its
 * dag-pb nodes, so the download is given up this long after, while the attacker stays connected.
 * Long enough for the honest file to be replicated while the bait is still being fetched.
 */
const VICTIM_TIMEOUT = 15_000

/**
 * What the victim may hold after a full GC, over its idle figure, while it tracks the bait: each
 * tracked block is a record (CID, key, provider sets) of a few hundred bytes, each waiting one a
 * bare CID and its key.
 */
const MAX_LIVE_DURING = 64 * MiB

/** What it may still hold once the bait was given up: the download's state is gone, a catalog entry and a partial record stay. */
const MAX_LIVE_AFTER = 8 * MiB

const HONEST_BYTES = 4 * MiB

test('replication bait: a DAG fanning out to 65,536 leaves nobody has → the victim tracks MAX_PENDING_BLOCKS of them, RSS under 2× idle, an honest file replicated meanwhile, memory released when the bait is given up', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-replication-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const victim = await startNode(t, { repo: join(dir, 'victim'), name: 'victim', replicate: true, timeout: VICTIM_TIMEOUT }, VICTIM_NODE_OPTIONS)

  // the attacker's store holds the root and the intermediate nodes; the leaves are random CIDs
  const attacker = await createSwarmNode({
    repo: join(dir, 'attacker'),
    name: 'attacker',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    peerExchange: false,
    bootstrap: [victim.addrs[0]!]
  })
  t.after(async () => { await attacker.stop() })
  const put = async (node: dagPb.PBNode): Promise<CID> => {
    const bytes = dagPb.encode(node)
    const cid = CID.createV1(DAG_PB_CODEC, await sha256.digest(bytes))
    await attacker.store.putBlock(cid.toString(), bytes)
    return cid
  }
  const fileNode = (links: CID[], childBytes: number): dagPb.PBNode => {
    const unixfs = new UnixFS({ type: 'file', blockSizes: links.map(() => BigInt(childBytes)) })
    // the CID class of @ipld/dag-pb's multiformats: the same at run time
    return { Data: unixfs.marshal(), Links: links.map(cid => ({ Hash: cid as any, Tsize: childBytes })) }
  }
  const intermediates: CID[] = []
  let served = 0
  for (let i = 0; i < INTERMEDIATES; i++) {
    const leaves = Array.from({ length: MAX_CHILDREN_PER_NODE }, () => CID.createV1(RAW_CODEC, Digest.create(SHA2_256, randomBytes(32))))
    const node = fileNode(leaves, CHUNK_SIZE)
    served += dagPb.encode(node).byteLength
    intermediates.push(await put(node))
  }
  const root = (await put(fileNode(intermediates, MAX_CHILDREN_PER_NODE * CHUNK_SIZE))).toString()
  await attacker.store.track(root, { name: 'bait.bin' })

  const honest = await startNode(t, { repo: join(dir, 'honest'), name: 'honest', bootstrap: [victim.addrs[0]!] })
  await waitFor(async () => (await victim.request('stats', { peer: attacker.peerId })).connected === true, { timeout: 30_000, message: 'the attacker connected to the victim' })
  const idle: Memory = await victim.request('mark')

  // the bait: the victim walks it until it tracks MAX_PENDING_BLOCKS leaves, the rest waiting
  await attacker.protocol.announce({ cid: root, name: 'bait.bin', size: 1024, mediaType: 'application/octet-stream' })
  let replication: any
  const bait = (): { cid: string, tracked: number, waiting: number } | undefined => replication.downloads.find((d: any) => d.cid === root)
  await waitFor(async () => {
    replication = await victim.request('replication')
    const d = bait()
    return d != null && d.tracked + d.waiting === LEAVES
  }, { timeout: 60_000, message: () => `the victim walking the bait (${JSON.stringify(replication?.downloads)})` })
  assert.deepEqual(bait(), { cid: root, tracked: MAX_PENDING_BLOCKS, waiting: LEAVES - MAX_PENDING_BLOCKS })
  const tracking: Memory & { peak: number } = await victim.request('memory')

  // an honest file announced meanwhile is replicated, verified, while the bait is still fetched
  const { cid: honestCid } = await honest.request('share', { seed: 'honest', size: HONEST_BYTES })
  await waitFor(async () => {
    replication = await victim.request('replication')
    return replication.done.some((d: any) => d.cid === honestCid) || replication.failed.length > 0
  }, { timeout: 60_000, message: () => `the honest file replicated (${JSON.stringify(replication)})` })
  assert.deepEqual(replication.failed, [], 'nothing failed before the honest file was replicated')
  assert.deepEqual(bait(), { cid: root, tracked: MAX_PENDING_BLOCKS, waiting: LEAVES - MAX_PENDING_BLOCKS }, 'the bait was still being fetched')
  const expected = createHash('sha256').update(seededContent('honest', HONEST_BYTES)).digest('hex')
  assert.equal((await victim.request('hash', { cid: honestCid })).sha256, expected, 'the replicated file has the right bytes')
  const during: Memory & { peak: number } = await victim.request('memory')

  // the bait is given up at the idle timeout, the attacker still connected: its state is released
  await waitFor(async () => {
    replication = await victim.request('replication')
    return replication.failed.some((f: any) => f.cid === root)
  }, { timeout: VICTIM_TIMEOUT + 45_000, message: () => `the bait given up (${JSON.stringify(replication)})` })
  assert.equal(bait(), undefined, 'no download of the bait runs')
  const after = await liveSettles(async () => {
    const now: Memory = await victim.request('memory')
    return now.heapUsed + now.external - idle.heapUsed - idle.external
  }, MAX_LIVE_AFTER)

  const liveTracking = tracking.heapUsed + tracking.external - idle.heapUsed - idle.external
  const liveDuring = during.heapUsed + during.external - idle.heapUsed - idle.external
  t.diagnostic(`bait: ${LEAVES} leaves under ${INTERMEDIATES + 1} dag-pb nodes (${Math.round(served / 1024)} KiB served); ${JSON.stringify(replication.failed)}`)
  t.diagnostic(`victim memory: idle RSS ${Math.round(idle.rss / MiB)} MiB, peak ${Math.round(during.peak / MiB)} MiB; live after GC while tracking +${Math.round(liveTracking / MiB)} MiB, ` +
    `with the honest file replicated +${Math.round(liveDuring / MiB)} MiB, after the bait was given up ${after >= 0 ? '+' : ''}${Math.round(after / MiB)} MiB`)
  assert.ok(during.peak < 2 * idle.rss, `victim RSS peaked at ${Math.round(during.peak / MiB)} MiB, 2× its idle ${Math.round(idle.rss / MiB)} MiB or more`)
  assert.ok(liveTracking < MAX_LIVE_DURING, `the victim holds ${Math.round(liveTracking / MiB)} MiB more after a full GC while tracking the bait (limit ${MAX_LIVE_DURING / MiB} MiB)`)
  assert.ok(liveDuring < MAX_LIVE_DURING, `the victim holds ${Math.round(liveDuring / MiB)} MiB more after a full GC with the honest file replicated (limit ${MAX_LIVE_DURING / MiB} MiB)`)
  assert.ok(after < MAX_LIVE_AFTER, `the victim still holds ${Math.round(after / MiB)} MiB more after the bait was given up (limit ${MAX_LIVE_AFTER / MiB} MiB)`)
})
