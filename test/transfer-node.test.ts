/**
 * Issue 5's acceptance tests on whole nodes: createLocalSwarm in this process, and child
 * processes (test/fixtures/transfer-node.ts) where a node must die by SIGKILL.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createLocalSwarm } from '../src/testing/index.js'
import type { FetchProgress } from '../src/transfer/index.js'
import { waitFor } from '../src/util/wait.js'
import { lyingTransfer, seededContent } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024
const CHILD = fileURLToPath(new URL('./fixtures/transfer-node.js', import.meta.url))

interface TestContext { after: (fn: () => Promise<void> | void) => void }

async function tempDir (t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-transfer-node-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

function digest (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

type Msg = Record<string, any>

/** A node in a child process; messages are JSON lines. */
class Child {
  readonly proc: ChildProcessByStdio<Writable, Readable, null>
  readonly messages: Msg[] = []
  readonly exited: Promise<number | null>
  private readonly listeners = new Set<() => void>()

  constructor (t: TestContext, init: Msg) {
    this.proc = spawn(process.execPath, [CHILD, JSON.stringify(init)], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.exited = new Promise(resolve => this.proc.once('exit', (code) => { resolve(code) }))
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.messages.push(JSON.parse(line))
      for (const l of this.listeners) l()
    })
    t.after(async () => {
      if (this.proc.exitCode == null && this.proc.signalCode == null) this.proc.kill('SIGKILL')
      await this.exited
    })
  }

  /** The first message of `type` (already received or next). */
  async next (type: string, timeout = 20_000): Promise<Msg> {
    const find = (): Msg | undefined => this.messages.find(m => m.type === type || m.type === 'error')
    const found = find()
    if (found != null) return check(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(on)
        reject(new Error(`child sent no "${type}" within ${timeout} ms (got ${this.messages.map(m => m.type).join(', ')})`))
      }, timeout)
      const on = (): void => {
        const m = find()
        if (m == null) return
        clearTimeout(timer)
        this.listeners.delete(on)
        try {
          resolve(check(m))
        } catch (err) {
          reject(err)
        }
      }
      this.listeners.add(on)
    })
    function check (m: Msg): Msg {
      if (m.type === 'error' && type !== 'error') throw new Error(`child failed: ${String(m.name)}: ${String(m.message)}`)
      return m
    }
  }

  async stop (): Promise<void> {
    this.proc.stdin.write('stop\n')
    await this.exited
  }
}

test('1. two nodes: a 32 MiB file is fetched byte-identical, progress reaches 100%, the fetcher then provides it', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const dir = await tempDir(t)
  const [sharer, fetcher] = swarm.nodes
  assert.ok(sharer != null && fetcher != null)
  const content = new Uint8Array(randomBytes(32 * MiB))
  const record = await sharer.share(content, { name: 'big.bin' })
  assert.equal(record.size, content.byteLength)
  // the announcement reaches the fetcher's catalog
  await waitFor(() => fetcher.protocol.providers(record.cid).includes(sharer.peerId), { message: 'the announcement' })
  let last: FetchProgress | undefined
  let events = 0
  const result = await fetcher.fetch(record.cid, {
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:block') {
        events++
        last = evt.detail
      }
    }
  })
  assert.equal(result.size, content.byteLength)
  assert.equal(events, 33)
  assert.equal(last?.bytes, content.byteLength)
  assert.equal(last?.total, content.byteLength)
  assert.equal((last?.bytes ?? 0) / (last?.total ?? 1), 1)
  const out = join(dir, 'out.bin')
  await fetcher.store.export(record.cid, out)
  assert.equal(digest(await readFile(out)), digest(content))
  const fetched = await fetcher.store.get(record.cid)
  assert.equal(fetched?.complete, true)
  assert.equal(fetched?.name, 'big.bin')
  // after fetching, the fetcher is a provider too
  await waitFor(() => sharer.protocol.providers(record.cid).includes(fetcher.peerId), { message: 'the fetcher\'s announcement' })
})

test('2. four providers + one fetcher: every provider serves more than 10% of the blocks', async (t) => {
  const swarm = await createLocalSwarm(5, t)
  const providers = swarm.nodes.slice(0, 4)
  const fetcher = swarm.nodes[4]
  assert.ok(fetcher != null)
  const content = new Uint8Array(randomBytes(24 * MiB))
  const records = await Promise.all(providers.map(async p => p.share(content, { name: 'shared.bin' })))
  const cid = records[0]?.cid ?? ''
  await waitFor(() => providers.every(p => fetcher.protocol.providers(cid).includes(p.peerId)), { message: 'four providers in the catalog' })
  const result = await fetcher.fetch(cid)
  assert.equal(result.blocks, 25)
  for (const p of providers) {
    const served = p.transfer.stats().served.byPeer[fetcher.peerId]?.blocks ?? 0
    assert.ok(served > 0.1 * result.blocks, `${p.name} served ${served} of ${result.blocks} blocks`)
  }
})

test('3. the sharer is SIGKILLed midway through a fetch from it and two replicas: the fetch completes from the replicas', async (t) => {
  const swarm = await createLocalSwarm(3, t)
  const dir = await tempDir(t)
  const [r1, r2, fetcher] = swarm.nodes
  assert.ok(r1 != null && r2 != null && fetcher != null)
  const size = 24 * MiB
  const sharer = new Child(t, { repo: join(dir, 'sharer'), bootstrap: swarm.nodes.map(n => n.getMultiaddrs()[0]), share: { seed: 'test-3', size } })
  const { peerId: sharerId } = await sharer.next('ready')
  const { cid } = await sharer.next('shared')
  const content = seededContent('test-3', size)
  await r1.share(content, { name: 'replica.bin' })
  await r2.share(content, { name: 'replica.bin' })
  await waitFor(() => [sharerId, r1.peerId, r2.peerId].every(p => fetcher.protocol.providers(cid).includes(p)), { message: 'three providers in the catalog' })
  let killedAt = -1
  let landedFromSharer = 0
  const events: string[] = []
  const result = await fetcher.fetch(cid, {
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:provider') events.push(`${evt.detail.peer.slice(-6)} ${evt.detail.status} ${evt.detail.reason ?? ''}`)
      // a block of the sharer's that landed (one it sent that a replica's copy beat is received, not landed)
      if (evt.type === 'transfer:fetch:block' && evt.detail.peer === sharerId) landedFromSharer++
      // at a quarter: more is missing than the sharer can have in flight, so the replicas must serve the rest
      if (evt.type === 'transfer:fetch:block' && killedAt === -1 && evt.detail.bytes >= size / 4 && landedFromSharer > 0) {
        killedAt = evt.detail.bytes
        sharer.proc.kill('SIGKILL')
      }
    }
  })
  assert.ok(killedAt > 0, 'the sharer was killed during the fetch')
  const fromSharer = result.providers[sharerId]?.blocks ?? 0
  assert.ok(fromSharer > 0 && fromSharer < result.blocks, `the sharer served ${fromSharer} of ${result.blocks} blocks before it died (killed at ${killedAt}; ${events.join('; ')})`)
  const fromReplicas = (result.providers[r1.peerId]?.blocks ?? 0) + (result.providers[r2.peerId]?.blocks ?? 0)
  assert.equal(fromSharer + fromReplicas, result.blocks)
  const out = join(dir, 'out.bin')
  await fetcher.store.export(cid, out)
  assert.equal(digest(await readFile(out)), digest(content))
})

test('4. a lying provider among the sharers: its wrong blocks are rejected and refetched, it is penalized and not used again', async (t) => {
  const swarm = await createLocalSwarm(3, t)
  const [liar, honest, fetcher] = swarm.nodes
  assert.ok(liar != null && honest != null && fetcher != null)
  const content = new Uint8Array(randomBytes(16 * MiB))
  const { cid } = await liar.share(content, { name: 'lies.bin' })
  await honest.share(content, { name: 'truth.bin' })
  // the liar's node now answers the block protocol with a test double: honest twice, then random bytes
  const lies: string[] = []
  await liar.transfer.stop()
  const double = lyingTransfer(liar.network, liar.store, { honestBlocks: 2, lies })
  await double.start()
  t.after(async () => { await double.stop().catch(() => {}) })
  await waitFor(() => [liar.peerId, honest.peerId].every(p => fetcher.protocol.providers(cid).includes(p)), { message: 'two providers in the catalog' })
  let banned = false
  const result = await fetcher.fetch(cid, {
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:provider' && evt.detail.status === 'banned' && evt.detail.peer === liar.peerId) banned = true
    }
  })
  assert.ok(banned, 'the liar was dropped')
  assert.ok(lies.length > 0 && result.invalid >= 1 && result.invalid <= lies.length)
  assert.deepEqual(result.banned, [liar.peerId])
  // kept from the liar: at most the root and its two honest leaves; its stream closed at the first lie, so it was asked nothing more
  assert.ok((result.providers[liar.peerId]?.blocks ?? 0) <= 3)
  assert.equal(result.blocks, 17)
  // gossipsub refreshes scores on its heartbeat
  await waitFor(() => fetcher.network.score(liar.peerId) < fetcher.network.score(honest.peerId), { message: 'the liar\'s score to go down' })
  const dir = await tempDir(t)
  await fetcher.store.export(cid, join(dir, 'out.bin'))
  assert.equal(digest(await readFile(join(dir, 'out.bin'))), digest(content))
})

test('5. the fetching process is SIGKILLed at ~50%; restarted, it resumes and receives at most ~60% of the file', async (t) => {
  const swarm = await createLocalSwarm(1, t)
  const dir = await tempDir(t)
  const sharer = swarm.nodes[0]
  assert.ok(sharer != null)
  const size = 32 * MiB
  const content = new Uint8Array(randomBytes(size))
  const { cid } = await sharer.share(content, { name: 'resume.bin' })
  const repo = join(dir, 'fetcher')
  const bootstrap = [sharer.getMultiaddrs()[0]]

  const first = new Child(t, { repo, bootstrap, fetch: { cid, freezeAt: 0.5 } })
  const { peerId } = await first.next('ready')
  const frozen = await first.next('frozen')
  first.proc.kill('SIGKILL')
  await first.exited
  assert.ok(frozen.bytes >= size / 2 && frozen.bytes < size, `frozen at ${frozen.bytes} of ${size}`)
  const servedFirst = sharer.transfer.stats().served.byPeer[peerId]?.bytes ?? 0

  const output = join(dir, 'out.bin')
  const second = new Child(t, { repo, bootstrap, fetch: { cid, output } })
  const done = await second.next('fetched', 60_000)
  await second.stop()
  assert.equal(done.sha256, digest(content))
  const received = done.result.bytesReceived as number
  assert.ok(received <= 0.6 * size, `the second run received ${received} bytes (${(100 * received / size).toFixed(0)}% of the file)`)
  const servedSecond = (sharer.transfer.stats().served.byPeer[peerId]?.bytes ?? 0) - servedFirst
  assert.ok(servedSecond <= 0.6 * size, `the sharer sent ${servedSecond} bytes in the second run`)
  assert.ok(servedSecond > 0)
})

test('6. a CID nobody has: named error after the timeout, no record and nothing under the output name', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const dir = await tempDir(t)
  const [, fetcher] = swarm.nodes
  assert.ok(fetcher != null)
  const bytes = new Uint8Array(randomBytes(1000))
  const cid = CID.create(1, raw.code, await sha256.digest(bytes)).toString()
  const output = join(dir, 'nobody.bin')
  const started = Date.now()
  await assert.rejects(async () => {
    await fetcher.fetch(cid, { timeout: 1000 })
    await fetcher.store.export(cid, output)
  }, { name: 'NotFoundInSwarmError' })
  assert.ok(Date.now() - started >= 990, 'waited for the timeout')
  assert.equal(await fetcher.store.get(cid), undefined, 'no record left')
  await assert.rejects(access(output), { code: 'ENOENT' })
  assert.equal(fetcher.transfer.stats().fetches, 0)
})

test('7. the sharer stops mid-fetch: ProviderLeftError naming it by its nickname, and the record counts the blocks kept (listed and announced as a partial copy)', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const [sharer, fetcher] = swarm.nodes
  assert.ok(sharer != null && fetcher != null)
  const size = 16 * MiB
  const record = await sharer.share(seededContent('test-7', size), { name: 'left.bin' })
  await waitFor(() => fetcher.protocol.providers(record.cid).includes(sharer.peerId) && fetcher.peerName(sharer.peerId) === sharer.name, { message: 'the announcement and the sharer\'s Hello' })
  let stopping: Promise<void> | undefined
  await assert.rejects(fetcher.fetch(record.cid, {
    onProgress: (evt) => {
      if (evt.type === 'transfer:fetch:block' && stopping == null && evt.detail.bytes >= 3 * MiB) stopping = sharer.stop()
    }
  }), {
    name: 'ProviderLeftError',
    // "node-0 (12D3Ko…ZB8D) (the only provider) left the swarm …", not the bare peer id
    message: new RegExp(`^${sharer.name} \\(${sharer.peerId.slice(0, 6)}…${sharer.peerId.slice(-6)}\\) \\(the only provider\\) left the swarm`)
  })
  await stopping
  // the record as the fetch left it (missing() below walks the store, and would update it)
  const kept = await fetcher.store.get(record.cid)
  assert.ok(kept != null && kept.complete !== true)
  assert.ok(kept.blocks.present >= 3, `blocks present: ${kept.blocks.present}`)
  const missing = await fetcher.store.missing(record.cid)
  assert.equal(kept.blocks.present + missing.length, kept.blocks.total, 'the record counted what the store holds')
})
