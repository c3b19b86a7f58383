/**
 * Issue 11, acceptance 4: the library does what the CLI does, without the CLI. Imports only
 * the public entries (`swarmdrop`, `swarmdrop/testing`) and no polyfill: on Node 20 the
 * node itself must make libp2p work.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import * as swarmdrop from '../src/index.js'
import { createComponentLogger, createStore, createSwarmNode, type SwarmNode, type SwarmNodeEvents } from '../src/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import { userTopic } from '../src/pubsub/topics.js'

type After = { after: (fn: () => Promise<void>) => void }

async function tempDir (t: After): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-library-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** The first `type` event whose detail matches; listening starts now (before the action). */
async function nextEvent<K extends keyof SwarmNodeEvents> (node: SwarmNode, type: K, match: (d: SwarmNodeEvents[K]) => boolean, timeout = 30_000): Promise<SwarmNodeEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { node.removeEventListener(type, listener); reject(new Error(`no ${type} event in ${timeout} ms`)) }, timeout)
    const listener = (evt: CustomEvent<SwarmNodeEvents[K]>): void => {
      if (!match(evt.detail)) return
      clearTimeout(timer)
      node.removeEventListener(type, listener)
      resolve(evt.detail)
    }
    node.addEventListener(type, listener)
  })
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('the public API is listed by name, hides the internals, and importing it patches no global', async () => {
  const source = await readFile(join(ROOT, 'src', 'index.ts'), 'utf8')
  assert.doesNotMatch(source, /export \*/)
  assert.doesNotMatch(source, /polyfill/)
  for (const internal of ['createLogger', 'createNetwork', 'createSwarmProtocol', 'createTransfer', 'createMemoryBlockStore', 'installPromiseWithResolvers']) {
    assert.equal(internal in swarmdrop, false, `${internal} is not public`)
  }
  for (const name of ['createSwarmNode', 'startLocalSwarm', 'createStore', 'parseLink', 'NoPeersError', 'VERSION']) {
    assert.ok(name in swarmdrop, `${name} is public`)
  }
  // each of the node's errors carries its own name (code matches on it)
  const errors = [
    new swarmdrop.NoPeersError(1, 0, 1000), new swarmdrop.PathNotFoundError('x', 'no such file'), new swarmdrop.EncryptInputError(),
    new swarmdrop.ReservedTopicError('/swarmdrop/x'), new swarmdrop.RepoLockedError('/r', 1)
  ]
  for (const err of errors) {
    assert.equal(err.name, err.constructor.name)
    assert.equal((err.constructor as { name: string }).name, err.name)
  }
  assert.deepEqual(errors.map(e => e.name), ['NoPeersError', 'PathNotFoundError', 'EncryptInputError', 'ReservedTopicError', 'RepoLockedError'])
  // a fresh process: what Promise.withResolvers is before and after `import 'swarmdrop'`
  const script = `const before = Promise.withResolvers; await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'index.js'))}); console.log(JSON.stringify({ same: Promise.withResolvers === before }))`
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { same: true })
})

test('an encrypted share is fetched and decrypted by its link; the bare CID gives the ciphertext', async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)
  const plaintext = new TextEncoder().encode('the plans, in full\n'.repeat(5000))
  const path = join(dir, 'plans.txt')
  await writeFile(path, plaintext)

  const shared = await alice!.share(path, { encrypt: true })
  assert.equal(shared.name, 'plans.txt')
  assert.equal(shared.size, plaintext.byteLength)
  assert.ok(shared.link?.startsWith(`swarmdrop:${shared.cid}#`))
  assert.equal(shared.record.name, 'encrypted', 'the store (and the swarm) sees only a placeholder name')
  assert.equal(shared.record.encrypted, true)

  // into a folder that does not exist: the same named error as for a plain file, and no file
  await assert.rejects(bob!.get(shared.link!, { output: join(dir, 'missing') + '/' }), { name: 'OutputFolderError' })
  await assert.rejects(stat(join(dir, 'missing')), { code: 'ENOENT' })

  await mkdir(join(dir, 'out'))
  const got = await bob!.get(shared.link!, { output: join(dir, 'out') + '/' })
  assert.deepEqual({ name: got.name, size: got.size, encrypted: got.encrypted, decrypted: got.decrypted, path: got.path },
    { name: 'plans.txt', size: plaintext.byteLength, encrypted: true, decrypted: true, path: join(dir, 'out', 'plans.txt') })
  assert.deepEqual(new Uint8Array(await readFile(got.path)), plaintext)

  const raw = await bob!.get(shared.cid, { output: join(dir, 'raw.bin') })
  assert.deepEqual({ encrypted: raw.encrypted, decrypted: raw.decrypted, received: raw.received }, { encrypted: true, decrypted: false, received: 0 })
  const ciphertext = await readFile(raw.path)
  assert.ok(ciphertext.byteLength > plaintext.byteLength)
  assert.equal(ciphertext.includes(Buffer.from('the plans')), false)

  // a link with another key decrypts nothing and writes nothing
  const wrong = swarmdrop.formatLink(shared.cid, swarmdrop.generateContentKey())
  await assert.rejects(bob!.get(wrong, { output: join(dir, 'wrong.txt') }), { name: 'DecryptionError' })
  await assert.rejects(stat(join(dir, 'wrong.txt')), { code: 'ENOENT' })
  // a stream of unknown length cannot be encrypted
  await assert.rejects(alice!.share((async function * () { yield plaintext })(), { encrypt: true }), { name: 'EncryptInputError' })
})

test('get to a path that exists: OutputExistsError advises in the library\'s terms (the CLI prints its flags instead)', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const [alice, bob] = swarm.nodes as [SwarmNode, SwarmNode]
  const dir = await tempDir(t)
  const shared = await alice.share(new TextEncoder().encode('exists'), { name: 'exists.txt' })
  const output = join(dir, 'exists.txt')
  await writeFile(output, 'already here')
  const err: any = await bob.get(shared.cid, { output }).then(() => undefined, (e: unknown) => e)
  assert.equal(err?.name, 'OutputExistsError')
  assert.match(err.message, /force option.*output option/)
  assert.doesNotMatch(err.message, /--force|-o PATH/)
  assert.match(err.cliMessage, /--force.*-o PATH/)
  assert.equal(await readFile(output, 'utf8'), 'already here')
})

test('waitForMesh names the node that is not meshed and why', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  // a third node started without dialling anyone: connected to nobody
  const loner = await swarm.addNode({ name: 'loner', start: false })
  await loner.start()
  const err: any = await swarm.waitForMesh({ timeout: 300 }).then(() => undefined, (e: unknown) => e)
  assert.equal(err?.name, 'WaitTimeoutError')
  assert.match(err.message, /2 of 3 nodes meshed; loner: no connection\)/)
  assert.doesNotMatch(err.message, /node-0|node-1/, 'the meshed nodes are not named')
})

test('a local swarm heals by itself when a node restarts, whether it dialled its neighbours or they dialled it', async (t) => {
  const swarm = await createLocalSwarm(3, t)
  const [first, , last] = swarm.nodes as [SwarmNode, SwarmNode, SwarmNode]
  const content = new TextEncoder().encode('fetched after the restarts')
  const { cid } = await first.share(content, { name: 'after.txt' })
  // node-2 dialled the two others; node-0 dialled nobody, they dialled it
  for (const node of [last, first]) {
    const peersBefore = new Set(node.network.connections().map(c => c.peer))
    assert.equal(peersBefore.size, 2)
    const others = swarm.nodes.filter(n => n !== node)
    const noticed = others.map(async n => { await waitFor(() => !n.network.connections().some(c => c.peer === node.peerId), { timeout: 20_000, message: `${n.name} saw ${node.name} leave` }) })
    await node.stop()
    // its neighbours saw it go, so the links must be made anew
    await Promise.all(noticed)
    await node.start()
    await swarm.waitForMesh()
    assert.deepEqual(new Set(node.network.connections().map(c => c.peer)), peersBefore, `${node.name} is connected to the same peers again`)
  }
  const got = await last.fetch(cid)
  assert.deepEqual([got.size, got.bytesReceived], [content.byteLength, content.byteLength], 'fetched from node-0 over the healed links')
  // a node added while another is stopped is linked to it once it is back
  await last.stop()
  const late = await swarm.addNode()
  await last.start()
  await swarm.waitForMesh()
  assert.ok(late.network.connections().some(c => c.peer === last.peerId), 'the late node is connected to the one that was stopped when it joined')
})

test('addNode after as many nodes as the degree were added and stopped: the new node joins the running ones', async (t) => {
  const swarm = await createLocalSwarm({ size: 2, degree: 2 }, t)
  for (let i = 0; i < 2; i++) await (await swarm.addNode()).stop()
  // the two nearest earlier nodes are both stopped: joined only to them, it would reach nobody
  const late = await swarm.addNode({ name: 'late' })
  const running = swarm.nodes.filter(n => n.isStarted() && n !== late).map(n => n.peerId)
  assert.deepEqual(new Set(late.network.connections().map(c => c.peer)), new Set(running), 'connected to both running nodes')
})

test('replicate: a file whose only sharer stopped mid-replication is fetched once the sharer is back, without a new announcement', async (t) => {
  const swarm = await createLocalSwarm({ size: 2, nodes: { 1: { replicate: true } } }, t)
  const [alice, keeper] = swarm.nodes as [SwarmNode, SwarmNode]
  const content = new Uint8Array(32 * 1024 * 1024).map((_, i) => (i * 7919) % 251)
  // alice stops once 4 MiB have reached the keeper
  let stopping: Promise<void> | undefined
  const onProgress = (evt: CustomEvent<SwarmNodeEvents['replicate:progress']>): void => { if (evt.detail.bytes >= 4 * 1024 * 1024) stopping ??= alice.stop() }
  keeper.addEventListener('replicate:progress', onProgress)
  const failed = nextEvent(keeper, 'replicate:failed', () => true)
  const { cid } = await alice.share(content, { name: 'away.bin' })
  const failure = await failed
  keeper.removeEventListener('replicate:progress', onProgress)
  await stopping
  assert.equal(failure.cid, cid)
  assert.equal(failure.error.name, 'ProviderLeftError')
  const kept = (await keeper.store.get(cid))?.blocks.present ?? 0
  // back: its catalog entry outlived the outage, so nothing is announced anew; the keeper retries when it connects
  const done = nextEvent(keeper, 'replicate:done', d => d.cid === cid, 60_000)
  await alice.start()
  const result = await done
  assert.equal(result.size, content.byteLength)
  assert.ok(result.received <= content.byteLength - kept * 1024 * 1024 + 1024 * 1024, `resumed: ${result.received} bytes received, ${kept} blocks were kept`)
  assert.deepEqual({ complete: (await keeper.store.get(cid))?.complete, pinned: (await keeper.store.get(cid))?.pinned }, { complete: true, pinned: true })
})

test('a node stopped during its own fetch: the fetch says so (not that the store closed), and after start() a fetch resumes', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const [alice, bob] = swarm.nodes as [SwarmNode, SwarmNode]
  const content = new Uint8Array(32 * 1024 * 1024).map((_, i) => (i * 131) % 251)
  const { cid } = await alice.share(content, { name: 'interrupted.bin' })
  let stopping: Promise<void> | undefined
  const err: any = await bob.fetch(cid, {
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:block' && evt.detail.bytes >= 4 * 1024 * 1024) stopping ??= bob.stop() }
  }).then(() => undefined, (e: unknown) => e)
  await stopping
  assert.equal(err?.name, 'TransferNotStartedError', String(err))
  assert.equal(err.stopped, true)
  assert.match(err.message, /the node stopped during the fetch; the blocks received so far are kept/)
  await bob.start()
  const kept = (await bob.store.get(cid))?.blocks.present ?? 0
  assert.ok(kept >= 4, `${kept} blocks kept`)
  await swarm.waitForMesh()
  const again = await bob.fetch(cid)
  assert.equal(again.blocksReceived, again.blocks - kept, 'only the missing blocks came again')
})

test('a fetch begun before the announcement reached the fetcher: the file takes the announced name, and no catalog gets the CID as another name', async (t) => {
  const swarm = await createLocalSwarm(3, t)
  const [alice, bob, carol] = swarm.nodes as [SwarmNode, SwarmNode, SwarmNode]
  const { cid } = await alice.share(new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 253), { name: 'big.bin' })
  // no await in between: the announcement is still on its way to bob (in-process, a socket away)
  await bob.fetch(cid)
  assert.equal((await bob.store.get(cid))?.name, 'big.bin', 'named by the announcement that came during the fetch')
  // once carol knows bob as a complete provider, she has heard whatever bob said of the file
  await waitFor(() => carol.protocol.entry(cid)?.providers.some(p => p.peer === bob.peerId && p.complete) === true, { timeout: 20_000, message: 'bob a complete provider at carol' })
  for (const node of [alice, bob, carol]) {
    const listed = (await node.ls()).find(f => f.cid === cid)
    assert.deepEqual({ name: listed?.name, otherNames: listed?.otherNames }, { name: 'big.bin', otherNames: undefined }, `${node.name}'s listing`)
  }
})

test('the only sharer stops as the fetch begins, before any HAVE or block: ProviderLeftError (the swarm said it has the file), not a "not found" at the idle timeout', async (t) => {
  const swarm = await createLocalSwarm(2, t)
  const [alice, bob] = swarm.nodes as [SwarmNode, SwarmNode]
  const { cid } = await alice.share(new Uint8Array(32 * 1024 * 1024).map((_, i) => i % 249), { name: 'gone-early.bin' })
  await waitFor(() => bob.protocol.providers(cid).includes(alice.peerId) || bob.protocol.entry(cid) != null, { timeout: 20_000, message: 'bob knows alice has it' })
  let stopping: Promise<void> | undefined
  const err: any = await bob.fetch(cid, {
    // the download's first event, once its local walk is done and before any provider answered
    onProgress: (evt) => { if (evt.type === 'transfer:fetch:root') stopping ??= alice.stop() }
  }).then(() => undefined, (e: unknown) => e)
  await stopping
  assert.equal(err?.name, 'ProviderLeftError', String(err))
  assert.match(err.message, /the only provider\) left the swarm/)
})

test('stablePort: a stop() and start() in one process listen on the same port, the one remembered', async (t) => {
  const swarm = await createLocalSwarm({ size: 1, nodes: { 0: { stablePort: true } } }, t)
  const [node] = swarm.nodes as [SwarmNode]
  const portOf = (): string | undefined => node.getMultiaddrs().map(a => /\/tcp\/(\d+)/.exec(a)?.[1]).find(p => p != null)
  const first = portOf()
  assert.ok(first != null && first !== '0')
  assert.equal((await readFile(join(node.repo, 'listen-port'), 'utf8')).trim(), first)
  await node.stop()
  await node.start()
  assert.equal(portOf(), first, 'the same port after a restart')
  assert.equal((await readFile(join(node.repo, 'listen-port'), 'utf8')).trim(), first)
})

test('replicate: true fetches and pins what peers share, and what the catalog named before it joined', async (t) => {
  const swarm = await createLocalSwarm({ size: 2, nodes: { 1: { replicate: true } } }, t)
  const [alice, keeper] = swarm.nodes as [SwarmNode, SwarmNode]
  const content = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251)

  const done = nextEvent(keeper, 'replicate:done', () => true)
  const shared = await alice.share(content, { name: 'three-mib.bin' })
  const event = await done
  assert.deepEqual({ cid: event.cid, name: event.name, size: event.size }, { cid: shared.cid, name: 'three-mib.bin', size: content.byteLength })
  const rec = await keeper.store.get(shared.cid)
  assert.deepEqual({ complete: rec?.complete, pinned: rec?.pinned }, { complete: true, pinned: true })

  // a file announced before the replicating node existed comes by the catalog at join
  const early = await alice.share(new TextEncoder().encode('announced before the late node'), { name: 'early.txt' })
  const late = await swarm.addNode({ replicate: true, start: false })
  assert.equal(late.isStarted(), false)
  const lateDone = nextEvent(late, 'replicate:done', d => d.cid === early.cid)
  await late.start()
  await late.dial(alice.getMultiaddrs()[0]!)
  await late.dial(keeper.getMultiaddrs()[0]!)
  await lateDone
  assert.equal((await late.store.get(early.cid))?.pinned, true)
  // a node without the option keeps nothing of others: when the keeper has the late node's file, alice has no record of it
  const keeperDone = nextEvent(keeper, 'replicate:done', d => d.name === 'from-late.txt')
  const fromLate = await late.share(new TextEncoder().encode('shared by the late node'), { name: 'from-late.txt' })
  assert.equal((await keeperDone).cid, fromLate.cid)
  assert.equal(await alice.store.get(fromLate.cid), undefined)
})

test('replicate: a folder is reported with the folder\'s size, and its rate from the bytes received', async (t) => {
  const swarm = await createLocalSwarm({ size: 2, nodes: { 1: { replicate: true } } }, t)
  const [alice, keeper] = swarm.nodes as [SwarmNode, SwarmNode]
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-library-folder-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await mkdir(join(dir, 'photos'))
  await writeFile(join(dir, 'photos', 'a.bin'), new Uint8Array(3000).fill(1))
  await writeFile(join(dir, 'photos', 'b.bin'), new Uint8Array(5000).fill(2))
  const done = nextEvent(keeper, 'replicate:done', () => true)
  const shared = await alice.share(join(dir, 'photos'))
  const event = await done
  assert.equal(event.cid, shared.cid)
  assert.equal(event.size, 8000, 'the folder\'s size, not its root block\'s file size (0)')
  assert.ok(event.received >= 8000, `received ${event.received}`)
})

test('waitForPeers resolves with the swarm\'s peers once they come, and says how many came at its timeout', async (t) => {
  const dir = await tempDir(t)
  const a = await createSwarmNode({ repo: join(dir, 'a'), name: 'a', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
  t.after(async () => { await a.stop() })
  await assert.rejects(a.waitForPeers({ timeout: 200 }), (err: any) => err.name === 'NoPeersError' && err.wanted === 1 && err.found === 0)

  const waiting = a.waitForPeers({ count: 1, timeout: 20_000 })
  const b = await createSwarmNode({ repo: join(dir, 'b'), name: 'b', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [a.getMultiaddrs()[0]!] })
  t.after(async () => { await b.stop() })
  assert.deepEqual(await waiting, [b.peerId])

  const aborted = new AbortController()
  const pending = a.waitForPeers({ count: 5, signal: aborted.signal })
  aborted.abort()
  await assert.rejects(pending, { name: 'AbortError' })
})

test('stop() then start(): the store is reopened, the repository locked again, and the node serves and fetches again', async (t) => {
  const dir = await tempDir(t)
  const init = { repo: join(dir, 'a'), name: 'a', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }
  const a = await createSwarmNode(init)
  t.after(async () => { await a.stop() })
  const { cid } = await a.share(new TextEncoder().encode('kept across a restart'), { name: 'kept.txt' })
  const heard: string[] = []
  a.subscribe('test/restart', (msg) => { heard.push(new TextDecoder().decode(msg.data)) })

  await a.stop()
  assert.equal(a.isStarted(), false)
  await assert.rejects(a.share(new Uint8Array([1])), { name: 'NotStartedError' })
  await assert.rejects(a.store.get(cid), { name: 'StoreClosedError' }, 'stop() closed the store')
  // the repository is free while stopped ...
  const other = await createSwarmNode({ ...init, name: 'other' })
  await other.stop()

  await a.start()
  assert.equal(a.isStarted(), true)
  assert.equal((await a.store.get(cid))?.complete, true)
  // ... and locked again once restarted
  await assert.rejects(createSwarmNode(init), { name: 'RepoLockedError' })

  // the restarted network serves what the store holds
  const b = await createSwarmNode({ repo: join(dir, 'b'), name: 'b', listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [a.getMultiaddrs()[0]!] })
  t.after(async () => { await b.stop() })
  await b.waitForPeers({ timeout: 20_000 })
  const got = await b.get(cid, { output: join(dir, 'copy.txt') })
  assert.equal(await readFile(got.path, 'utf8'), 'kept across a restart')
  // a user topic subscribed before the stop is subscribed again
  // (a user topic goes on the wire scoped to the swarm: /swarmdrop-topic/1/<swarm>/<topic>)
  await waitFor(() => b.network.getSubscribers(userTopic(a.swarm, 'test/restart')).includes(a.peerId), { timeout: 20_000, message: 'a subscribed to test/restart again' })
  await b.publish('test/restart', new TextEncoder().encode('after the restart'))
  await waitFor(() => heard.length > 0, { timeout: 20_000, message: 'the message on test/restart' })
  assert.deepEqual(heard, ['after the restart'])
  // a second restart works as well
  await a.stop()
  await a.start()
  assert.equal((await a.ls()).some(f => f.cid === cid && f.local), true)
})

test('components: a store handed in is used and left open; a logger handed in names every component', async (t) => {
  const dir = await tempDir(t)
  const store = await createStore({ path: join(dir, 'own-store') })
  t.after(async () => { await store.close() })
  const components = new Set<string>()
  const base = createComponentLogger('custom')
  const logger = { forComponent: (name: string) => { components.add(name); return base.forComponent(name) } }
  const node = await createSwarmNode({ repo: join(dir, 'repo'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }, { store, logger })
  const { cid } = await node.share(new TextEncoder().encode('in the given store'), { name: 'given.txt' })
  await node.stop()
  assert.equal((await store.get(cid))?.complete, true, 'the store the test handed in is still open after stop()')
  for (const c of ['node', 'transfer', 'bootstrap']) assert.ok(components.has(c), `${c} logs through the given logger`)
})

test('swarmdrop/testing: createLocalSwarm(size, t) with in-memory repositories, per-node log prefixes, and async dispose', async (t) => {
  let stopped: (() => Promise<void>) | undefined
  const swarm = await createLocalSwarm({ size: 2, memory: true }, (fn) => { stopped = fn })
  assert.ok(stopped != null, 'the teardown got the stop')
  t.after(async () => { await stopped?.() })
  if (await stat('/dev/shm').then(s => s.isDirectory(), () => false)) assert.ok(swarm.dir.startsWith('/dev/shm/'), swarm.dir)
  assert.deepEqual(swarm.nodes.map(n => (n.logger.forComponent('x') as unknown as { namespace: string }).namespace), ['swarmdrop:node-0:x', 'swarmdrop:node-1:x'])
  const { cid } = await swarm.nodes[0]!.share(new TextEncoder().encode('in memory'), { name: 'm.txt' })
  await swarm.nodes[1]!.fetch(cid)
  assert.equal((await swarm.nodes[1]!.store.get(cid))?.complete, true)
  await swarm[Symbol.asyncDispose]()
  assert.deepEqual(swarm.nodes.map(n => n.isStarted()), [false, false])
  await assert.rejects(stat(swarm.dir), { code: 'ENOENT' })
})

test('a multi-block CIDv0 file (dag-pb leaves, as IPFS built them before CIDv1) is fetched by its Qm… CID and `get` writes it whole (issue 13)', async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)
  // 3 chunks of 256 KiB and a tail: a dag-pb root over 4 dag-pb leaves, every CID a CIDv0
  const content = randomBytes(3 * 256 * 1024 + 1000)
  const blocks: Array<{ cid: { toString: () => string }, bytes: Uint8Array }> = []
  const sink = { put: async (cid: any, bytes: Uint8Array) => { blocks.push({ cid, bytes }); return cid } }
  let root = ''
  for await (const entry of importer([{ content }], sink as any, { cidVersion: 0, rawLeaves: false, chunker: fixedSize({ chunkSize: 256 * 1024 }) })) root = entry.cid.toString()
  assert.match(root, /^Qm/)
  assert.equal(blocks.length, 5, 'a root and four leaves')
  for (const b of blocks) await alice!.store.putBlock(b.cid.toString(), b.bytes)
  // alice holds it as a file of her store (as an IPFS peer serving it would): she answers a want for it
  await alice!.store.track(root, { name: 'old.bin', size: content.byteLength })

  const got = await bob!.get(root, { output: join(dir, 'old.bin') })
  assert.equal(got.size, content.byteLength)
  assert.deepEqual(new Uint8Array(await readFile(got.path)), new Uint8Array(content))
  // the fetcher keeps every block under its CIDv1 form: a second get needs no peer
  await alice!.stop()
  const again = await bob!.get(root, { output: join(dir, 'again.bin') })
  assert.deepEqual(new Uint8Array(await readFile(again.path)), new Uint8Array(content))
})
