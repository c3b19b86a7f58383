import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createSwarmNode, generateSwarmKey, parseSwarmKey, type SwarmNode } from '../src/node/index.js'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'

const NODE_PROCESS = fileURLToPath(new URL('./fixtures/node-process.js', import.meta.url))
const LOCAL = ['/ip4/127.0.0.1/tcp/0']

test('swarm keys: kubo format parsed and generated; bad keys are named errors', () => {
  const key = generateSwarmKey()
  assert.match(key, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  assert.deepEqual(parseSwarmKey(key.replace(/\n/g, '\r\n')), parseSwarmKey(key))
  for (const bad of ['', '/key/swarm/psk/1.0.0/\n/base64/\nabc', '/key/swarm/psk/1.0.0/\n/base16/\n1234', key + 'extra\n']) {
    assert.throws(() => parseSwarmKey(bad), { name: 'InvalidSwarmKeyError' })
  }
})

test('three nodes with one key form a swarm; a node without the key and one with another key cannot connect, either way', async (t) => {
  const key = generateSwarmKey()
  const swarm = await createLocalSwarm({ size: 3, node: { swarmKey: key } }, t)
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-pnet-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const outsiders: SwarmNode[] = []
  t.after(async () => { await Promise.all(outsiders.map(async n => { await n.stop() })) })
  outsiders.push(await createSwarmNode({ repo: join(dir, 'nokey'), listen: LOCAL, mdns: false }))
  outsiders.push(await createSwarmNode({ repo: join(dir, 'otherkey'), listen: LOCAL, mdns: false, swarmKey: generateSwarmKey() }))

  const member = swarm.nodes[0]!
  for (const outsider of outsiders) {
    await assert.rejects(outsider.dial(member.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) }))
    await assert.rejects(member.dial(outsider.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) }))
  }
  const ids = new Set(outsiders.map(o => o.peerId))
  for (const node of swarm.nodes) {
    assert.ok(!node.network.connections().some(c => ids.has(c.peer)), 'no member holds a connection to an outsider')
  }
  for (const o of outsiders) assert.equal(o.network.connections().length, 0)
  // the members still talk to each other: a file shared by one reaches the others' catalogs...
  for (const node of swarm.nodes) assert.equal(node.network.connections().length, 2)
  const rec = await member.share(new TextEncoder().encode('members only'), { name: 'private.txt' })
  for (const node of swarm.nodes.slice(1)) {
    await waitFor(() => node.protocol.entry(rec.cid) != null, { timeout: 10_000, message: `${rec.cid} in a member's catalog` })
  }
  // ...and no outsider's
  for (const o of outsiders) {
    assert.equal(o.protocol.catalog().length, 0, 'no catalog entry leaks to an outsider')
    assert.equal(o.network.connections().length, 0)
  }
})

interface Proc { stderr: string[], ready: Promise<{ addrs: string[] }>, kill: () => void, exited: Promise<void> }

function startProcess (init: object): Proc {
  const child = spawn(process.execPath, [NODE_PROCESS, JSON.stringify(init)], {
    env: { ...process.env, DEBUG: 'swarmdrop:network:pnet*' },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const stderr: string[] = []
  createInterface({ input: child.stderr }).on('line', l => { stderr.push(l) })
  const ready = new Promise<{ addrs: string[] }>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const m = JSON.parse(l)
      if (m.type === 'ready') resolve(m)
      if (m.type === 'error') reject(new Error(m.message))
    })
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  return { stderr, ready, kill: () => child.kill('SIGKILL'), exited }
}

for (const [label, dialerKey] of [['no key', undefined], ['another key', generateSwarmKey()]] as const) {
  test(`a failed connection to a private swarm says "swarm key mismatch" in both sides' debug logs (dialer with ${label})`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-pnet-log-'))
    t.after(async () => { await rm(dir, { recursive: true, force: true }) })
    const listener = startProcess({ repo: join(dir, 'a'), listen: LOCAL, mdns: false, swarmKey: generateSwarmKey() })
    t.after(async () => { listener.kill(); await listener.exited })
    const { addrs } = await listener.ready
    const dialer = startProcess({ repo: join(dir, 'b'), listen: LOCAL, mdns: false, bootstrap: addrs, swarmKey: dialerKey })
    t.after(async () => { dialer.kill(); await dialer.exited })
    await waitFor(() => listener.stderr.some(l => l.includes('swarm key mismatch')) && dialer.stderr.some(l => l.includes('swarm key mismatch')), {
      timeout: 10_000,
      message: () => `"swarm key mismatch" on both sides; listener: ${JSON.stringify(listener.stderr.slice(-3))}, dialer: ${JSON.stringify(dialer.stderr.slice(-3))}`
    })
  })
}

test('a swarm-key mismatch is an event on both sides, once per address however often the peer redials', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-pnet-once-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const a = await createSwarmNode({ repo: join(dir, 'a'), listen: LOCAL, mdns: false, swarmKey: generateSwarmKey() })
  t.after(async () => { await a.stop() })
  const b = await createSwarmNode({ repo: join(dir, 'b'), listen: LOCAL, mdns: false, swarmKey: generateSwarmKey() })
  t.after(async () => { await b.stop() })
  const seenByA: any[] = []
  const seenByB: any[] = []
  a.addEventListener('swarm-key:mismatch', (e) => { seenByA.push(e.detail) })
  b.addEventListener('swarm-key:mismatch', (e) => { seenByB.push(e.detail) })
  for (let i = 0; i < 3; i++) {
    await assert.rejects(b.dial(a.getMultiaddrs()[0]!, { signal: AbortSignal.timeout(5000) }))
    await waitFor(() => seenByA.length > 0 && seenByB.length > 0, { timeout: 10_000, message: 'a mismatch event on both sides' })
  }
  assert.equal(seenByB.length, 1, 'the dialler reports the address once')
  assert.equal(seenByB[0].direction, 'outbound')
  assert.match(seenByB[0].message, /refused the connection: it uses a different swarm key/)
  assert.equal(seenByA.length, 1, 'the listener reports the address once')
  assert.equal(seenByA[0].direction, 'inbound')
  assert.match(seenByA[0].message, /tried to connect with a different swarm key/)
})
