import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtemp, rm, writeFile, readFile, truncate, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createSwarmNode, type SwarmNode } from '../src/node/index.js'
import { dialableAddrs } from '../src/node/swarm-node.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { once } from '../src/util/events.js'
import { waitFor } from '../src/util/wait.js'
import { Netns, netnsUnavailable } from './helpers/netns.js'
import { userTopic } from '../src/pubsub/topics.js'
import { VERSION } from '../src/version.js'

const NODE_PROCESS = fileURLToPath(new URL('./fixtures/node-process.js', import.meta.url))
const LOCAL = ['/ip4/127.0.0.1/tcp/0']

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-node-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

function stopAfter (t: { after: (fn: () => Promise<void>) => void }, node: SwarmNode): SwarmNode {
  t.after(async () => { await node.stop() })
  return node
}

test('three processes in a private network namespace find each other by mDNS alone and exchange a gossipsub message', { skip: netnsUnavailable() }, async (t) => {
  const dir = await tempDir(t)
  const ns = await Netns.create()
  t.after(async () => { await ns.close() })
  const topic = 'test/hello'
  const procs = [0, 1, 2].map(i => ns.spawn(process.execPath, [NODE_PROCESS, JSON.stringify({
    repo: join(dir, `n${i}`), name: `laptop-${i}`, mdns: true, listen: LOCAL, topic
  })]))
  const ids = await Promise.all(procs.map(async p => (await p.waitForJson(m => m.type === 'ready')).peerId as string))

  // every process connects to both others, with no bootstrap address given
  for (const [i, p] of procs.entries()) {
    for (const [j, id] of ids.entries()) {
      if (i === j) continue
      await p.waitForJson(m => m.type === 'connect' && m.peer === id, { timeout: 10_000 })
    }
  }
  // nicknames travel in the swarm protocol's Hello (identify carries no name)
  await procs[1]!.waitForJson(m => m.type === 'name' && m.peer === ids[0] && m.name === 'laptop-0')

  // node 0 publishes once both others are known subscribers of the topic
  await procs[0]!.waitForJson(m => m.type === 'subscribers' && m.peers.includes(ids[1]) && m.peers.includes(ids[2]))
  procs[0]!.write(JSON.stringify({ op: 'publish', topic, data: 'hello swarm' }) + '\n')
  for (const p of [procs[1]!, procs[2]!]) {
    const msg = await p.waitForJson(m => m.type === 'message')
    assert.equal(msg.data, 'hello swarm')
    assert.equal(msg.from, ids[0])
  }
})

test('a node with mdns off reconnects to its bootstrap peer when that peer restarts on the same port', async (t) => {
  const dir = await tempDir(t)
  let b = await createSwarmNode({ repo: join(dir, 'b'), listen: LOCAL, mdns: false })
  const bId = b.peerId
  const bAddr = b.getMultiaddrs()[0]!
  const port = bAddr.split('/')[4]!
  const a = stopAfter(t, await createSwarmNode({ repo: join(dir, 'a'), listen: LOCAL, mdns: false, bootstrap: [bAddr], start: false }))
  const firstConnect = once(a, 'peer:connect', { filter: d => d.id === bId, signal: AbortSignal.timeout(10_000) })
  await a.start()
  await firstConnect

  const lost = once(a, 'peer:disconnect', { filter: d => d.id === bId, signal: AbortSignal.timeout(10_000) })
  await b.stop()
  await lost

  const reconnected = once(a, 'peer:connect', { filter: d => d.id === bId, signal: AbortSignal.timeout(15_000) })
  b = stopAfter(t, await createSwarmNode({ repo: join(dir, 'b'), listen: [`/ip4/127.0.0.1/tcp/${port}`], mdns: false }))
  assert.equal(b.peerId, bId, 'same repository, same identity')
  await reconnected
  const peers = await a.peers()
  assert.ok(peers.some(p => p.id === bId && p.connected))
})

test('identity: the same repository gives the same peer id; the key file is owner-only', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'repo')
  const first = await createSwarmNode({ repo, listen: LOCAL, mdns: false })
  const id = first.peerId
  await first.stop()
  const mode = (await stat(join(repo, 'identity.key'))).mode & 0o777
  assert.equal(mode, 0o600)
  assert.equal((await stat(repo)).mode & 0o777, 0o700)
  const second = stopAfter(t, await createSwarmNode({ repo, listen: LOCAL, mdns: false }))
  assert.equal(second.peerId, id)
  assert.match(id, /^12D3KooW/, 'an Ed25519 peer id')
})

test('identity: a truncated, empty or foreign key file is a named error naming the file, and the file is kept', async (t) => {
  const dir = await tempDir(t)
  const repo = join(dir, 'repo')
  await (await createSwarmNode({ repo, listen: LOCAL, mdns: false })).stop()
  const keyFile = join(repo, 'identity.key')
  const original = await readFile(keyFile)

  await truncate(keyFile, 20)
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), (err: Error) => {
    assert.equal(err.name, 'InvalidIdentityError')
    assert.ok(err.message.includes(keyFile), err.message)
    return true
  })
  assert.equal((await readFile(keyFile)).byteLength, 20, 'the broken key is not replaced')

  await writeFile(keyFile, '')
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), { name: 'InvalidIdentityError' })

  const foreign = await generateKeyPair('secp256k1')
  await writeFile(keyFile, privateKeyToProtobuf(foreign))
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), (err: Error) => {
    assert.equal(err.name, 'InvalidIdentityError')
    assert.match(err.message, /secp256k1/)
    return true
  })
  assert.ok(original.byteLength > 20)
})

test('bad input: unparseable multiaddr, port in use, unusable repository, second process on a live repository', async (t) => {
  const dir = await tempDir(t)
  await assert.rejects(createSwarmNode({ repo: join(dir, 'r1'), listen: ['not-a-multiaddr'], mdns: false }), (err: any) => {
    assert.equal(err.name, 'InvalidMultiaddrError')
    assert.equal(err.value, 'not-a-multiaddr')
    return true
  })
  await assert.rejects(createSwarmNode({ repo: join(dir, 'r1'), listen: LOCAL, bootstrap: ['/ip4/300.1.1.1/tcp/1'], mdns: false }), { name: 'InvalidMultiaddrError' })

  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.after(() => { server.close() })
  const port = (server.address() as { port: number }).port
  await assert.rejects(createSwarmNode({ repo: join(dir, 'r2'), listen: [`/ip4/127.0.0.1/tcp/${port}`], mdns: false }), (err: any) => {
    assert.equal(err.name, 'ListenError')
    assert.ok(err.message.includes(String(port)), err.message)
    return true
  })

  const file = join(dir, 'a-file')
  await writeFile(file, 'x')
  await assert.rejects(createSwarmNode({ repo: join(file, 'repo'), listen: LOCAL, mdns: false }), (err: any) => {
    assert.equal(err.name, 'RepoError')
    assert.ok(err.message.includes(file), err.message)
    return true
  })

  const live = stopAfter(t, await createSwarmNode({ repo: join(dir, 'r3'), listen: LOCAL, mdns: false }))
  await assert.rejects(createSwarmNode({ repo: join(dir, 'r3'), listen: LOCAL, mdns: false }), { name: 'RepoLockedError' })
  assert.ok(live.isStarted(), 'the first node keeps running')
})

test('createLocalSwarm({ size: 5 }) meshes every node', async (t) => {
  // the timeout only catches a swarm that never meshes; how fast is bench/discovery's business
  const swarm = await createLocalSwarm({ size: 5, timeout: 60_000 })
  t.after(async () => { await swarm.stop() })
  assert.equal(swarm.nodes.length, 5)
  for (const node of swarm.nodes) {
    assert.equal(node.network.connections().length >= 4, true)
    assert.ok(node.network.getMeshPeers(node.topics.announce).length >= 4, 'meshed on the announce topic')
  }

  // the nodes really talk: a user topic message reaches every other node
  const topic = 'test/fixture'
  const got = swarm.nodes.slice(1).map(n => new Promise<string>(resolve => {
    n.subscribe(topic, m => { resolve(m.from) })
  }))
  await waitFor(() => swarm.nodes[0]!.network.getSubscribers(userTopic(swarm.nodes[0]!.swarm, topic)).length === 4, { timeout: 10_000, message: 'four subscribers' })
  await swarm.nodes[0]!.publish(topic, new Uint8Array([1]))
  assert.deepEqual(await Promise.all(got), Array(4).fill(swarm.nodes[0]!.peerId))
})

test('removeNode stops a node for good: the swarm forgets it, no node dials it again, and the graph stays connected', async (t) => {
  // degree 1: a chain node-0 <- node-1 <- node-2, whose middle goes
  const swarm = await createLocalSwarm({ size: 3, degree: 1, memory: true }, t)
  const [n0, n1, n2] = swarm.nodes as [SwarmNode, SwarmNode, SwarmNode]
  const port = Number(/\/tcp\/(\d+)/.exec(n1.getMultiaddrs()[0] ?? '')?.[1])
  await swarm.removeNode(n1)
  assert.deepEqual(swarm.nodes.map(n => n.name), [n0.name, n2.name])
  assert.equal(n1.isStarted(), false)
  assert.equal(existsSync(n1.repo), false, 'its repository is deleted')
  await assert.rejects(swarm.removeNode(n1), /is not a node of this swarm/)
  // node-2, which had joined only node-1, joins node-0 instead
  await swarm.waitForMesh()
  assert.ok(n2.network.connections().some(c => c.peer === n0.peerId), 'node-2 is connected to node-0')

  // something else listens on its old port now: node-2, restarted, dials its bootstrap peers at
  // once, and that one is not among them any more
  let dialled = 0
  const server = createServer(socket => { dialled++; socket.destroy() })
  await new Promise<void>((resolve, reject) => { server.once('error', reject).listen(port, '127.0.0.1', resolve) })
  t.after(() => { server.close() })
  await n2.stop()
  await n2.start()
  await swarm.waitForMesh()
  assert.equal(dialled, 0, 'no node dialled the removed node\'s address')
})

/** Runs an ES module `script` in a node child; its exit code ('timeout': killed after `ms`) and stdout. */
async function runScript (script: string, ms: number): Promise<{ code: number | null | 'timeout', out: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += String(d) })
  let timer: ReturnType<typeof setTimeout> | undefined
  const code = await Promise.race([
    new Promise<number | null>(resolve => child.once('exit', resolve)),
    new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), ms) })
  ])
  clearTimeout(timer)
  if (code === 'timeout') child.kill('SIGKILL')
  return { code, out }
}

test('a process that creates a local swarm of 5 and stops it exits by itself', async () => {
  const script = `
    const { createLocalSwarm } = await import(${JSON.stringify(new URL('../src/testing/index.js', import.meta.url).href)})
    const swarm = await createLocalSwarm({ size: 5 })
    await swarm.stop()
    process.stdout.write('stopped\\n')
  `
  const { code, out } = await runScript(script, 20_000)
  assert.equal(out.trim(), 'stopped')
  assert.equal(code, 0, 'exited on its own, without process.exit, after stop()')
})

test('reserved topics are refused for user pub/sub', async (t) => {
  const dir = await tempDir(t)
  const node = stopAfter(t, await createSwarmNode({ repo: join(dir, 'r'), listen: LOCAL, mdns: false }))
  assert.throws(() => node.subscribe(node.topics.announce, () => {}), { name: 'ReservedTopicError' })
  await assert.rejects(node.publish('/swarmdrop/1/default/announce', new Uint8Array(1)), { name: 'ReservedTopicError' })
})

test('identify tells a connecting peer only swarmdrop/<version>: the nickname and the host name stay out of it (issue 18)', async (t) => {
  const dir = await tempDir(t)
  const b = stopAfter(t, await createSwarmNode({ repo: join(dir, 'b'), listen: LOCAL, mdns: false, name: 'secret-laptop-name' }))
  const a = stopAfter(t, await createSwarmNode({ repo: join(dir, 'a'), listen: LOCAL, mdns: false, start: false, bootstrap: [b.getMultiaddrs()[0]!] }))
  let agent: string | undefined
  a.network.addEventListener('peer:identify', (evt) => { if (evt.detail.peer === b.peerId) agent = evt.detail.agent ?? '' })
  await a.start()
  await waitFor(() => agent != null, { timeout: 10_000, message: 'b identified at a' })
  assert.equal(agent, `swarmdrop/${VERSION}`)
})

test('a stopped node keeps no long timer alive: a script ends once its nodes are stopped, not a second later', async (t) => {
  const dir = await tempDir(t)
  // in a child of its own: the timers alive at the end are what these nodes left, nothing else.
  // Every timer is recorded as it is made (async_hooks); at the end, those still armed and holding
  // the process (hasRef) are listed with their delay (Node's Timeout keeps it in _idleTimeout).
  // gossipsub's last heartbeat tick (< 1 s) may still be armed; a second or more is what is looked for.
  const script = `
    const { createHook } = await import('node:async_hooks')
    const timers = new Set()
    createHook({ init (id, type, trigger, resource) { if (type === 'Timeout') timers.add(resource) } }).enable()
    const { createSwarmNode } = await import(${JSON.stringify(new URL('../src/node/index.js', import.meta.url).href)})
    const a = await createSwarmNode({ repo: ${JSON.stringify(join(dir, 'a'))}, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    const b = await createSwarmNode({ repo: ${JSON.stringify(join(dir, 'b'))}, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [a.getMultiaddrs()[0]] })
    await b.waitForPeers({ timeout: 20000 })
    await b.stop()
    await a.stop()
    const armed = [...timers].filter(t => !t._destroyed && t.hasRef())
    process.stdout.write(JSON.stringify(armed.map(t => t._idleTimeout)))
  `
  const { code, out } = await runScript(script, 60_000)
  assert.equal(code, 0)
  const delays = JSON.parse(out) as number[]
  // libp2p's address manager left a 1 s timer per node (src/net/network.ts, stopAddressUpdates)
  assert.deepEqual(delays.filter(ms => ms >= 1000), [], `timers still armed after stop(), ms: ${delays.join(', ')}`)
})

test('peers: a LAN peer\'s loopback addresses are left out of its dialable addresses, a peer on this host keeps them', () => {
  const lan = ['/ip4/10.99.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001', '/ip6/fd00::1/tcp/4001']
  assert.deepEqual(dialableAddrs(lan, ['/ip4/10.99.0.1/tcp/4001/p2p/12D3KooWX']), ['/ip4/10.99.0.1/tcp/4001', '/ip6/fd00::1/tcp/4001'])
  assert.deepEqual(dialableAddrs(lan, []), ['/ip4/10.99.0.1/tcp/4001', '/ip6/fd00::1/tcp/4001'], 'not connected: what others can dial')
  assert.deepEqual(dialableAddrs(lan, ['/ip4/127.0.0.1/tcp/51234/p2p/12D3KooWX']), lan, 'on this host: every address')
  assert.deepEqual(dialableAddrs(['/ip4/127.0.0.1/tcp/4001'], []), ['/ip4/127.0.0.1/tcp/4001'], 'it told no other')
})
