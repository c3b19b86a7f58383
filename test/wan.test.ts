/**
 * Issue 17, beyond the LAN: two laptops behind different NAT routers reach each other through a
 * circuit relay, and go direct when their routers allow it. Everything runs in network
 * namespaces the test builds (test/helpers/wan-netns.ts): an "internet" bridge 10.99.0.0/24 with
 * the relay, two homes 192.168.1.0/24 and 192.168.2.0/24 behind nftables-masquerading routers.
 * No namespace is linked to the root namespace; all of them are deleted at the end, also on failure.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../src/util/wait.js'
import { WanLab, wanLabUnavailable, LAPTOP_PORT, type NatKind } from './helpers/wan-netns.js'
import { LabSwarm, type LabNode } from './helpers/wan.js'

const MiB = 1024 * 1024
const skip = wanLabUnavailable()

async function setup (t: any, nat: { home1: NatKind, home2: NatKind, laptopC?: boolean }): Promise<LabSwarm> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-wan-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const lab = await WanLab.create(nat)
  t.after(async () => {
    await lab.close()
    assert.deepEqual(lab.remaining(), [], 'every namespace of the lab is gone')
  })
  return new LabSwarm(lab, dir)
}

/** Shares `bytes` on `from`, waits until `to` lists it, fetches it on `to`. */
async function shareAndFetch (s: LabSwarm, from: LabNode, to: LabNode, bytes: Buffer, name: string): Promise<{ cid: string, get: { code: number | null, stdout: string, stderr: string } }> {
  await writeFile(join(from.cwd, name), bytes)
  const shared = await s.run(from, ['share', name, '--json'])
  assert.equal(shared.code, 0, shared.stderr)
  const cid: string = JSON.parse(shared.stdout).files[0].cid
  // the announcement reaches the other laptop through the relay's gossipsub (the deadline only catches a loss)
  await waitFor(async () => {
    const r = await s.run(to, ['ls', '--json'])
    return r.code === 0 && JSON.parse(r.stdout).files.some((f: any) => f.cid === cid)
  }, { timeout: 60_000, interval: 0, message: `${cid} in ${to.role}'s ls` })
  const get = await s.run(to, ['get', cid, '--json'], 180_000)
  return { cid, get }
}

async function via (s: LabSwarm, node: LabNode, peer: string): Promise<string | undefined> {
  const r = await s.run(node, ['peers', '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).peers.find((p: any) => p.id === peer)?.via
}

test('1. endpoint-independent NAT on both routers: B, knowing only the relay, lists and fetches A\'s 16 MiB file over a direct connection; the relay carries < 10 %', { skip }, async (t) => {
  const s = await setup(t, { home1: 'eim', home2: 'eim' })
  const relay = await s.startRelay()
  const a = await s.startLaptop('a', relay.addr, ['--announce', `/ip4/10.99.0.11/tcp/${LAPTOP_PORT}`])
  const b = await s.startLaptop('b', relay.addr, ['--announce', `/ip4/10.99.0.12/tcp/${LAPTOP_PORT}`])
  // both reserved a slot on the relay and advertise their /p2p-circuit address
  for (const n of [a, b]) assert.ok(n.addrs.some(x => x.includes(`/p2p/${relay.peerId}/p2p-circuit/p2p/${n.peerId}`)), `${n.role} advertises a circuit address: ${n.addrs.join(' ')}`)

  const file = randomBytes(16 * MiB)
  const before = s.lab.relayBytes()
  const { cid, get } = await shareAndFetch(s, a, b, file, 'big.bin')
  assert.equal(get.code, 0, get.stderr)
  const after = s.lab.relayBytes()
  assert.ok((await readFile(join(b.cwd, 'big.bin'))).equals(file), 'byte-identical')
  const relayed = (after.in - before.in) + (after.out - before.out)
  const mode = await via(s, b, a.peerId)
  t.diagnostic(`final connection B -> A: ${mode ?? 'none'}; the relay carried ${relayed} bytes (${(100 * relayed / file.length).toFixed(2)} % of the file) from share to fetched ${cid}`)
  assert.equal(mode, 'direct')
  assert.ok(relayed < 0.1 * file.length, `relay carried ${relayed} bytes, less than 10 % of ${file.length}`)
})

test('2a. home2 symmetric (random ports), home1 endpoint-independent: the transfer completes (B reaches A\'s mapped port)', { skip }, async (t) => {
  const s = await setup(t, { home1: 'eim', home2: 'symmetric' })
  const relay = await s.startRelay()
  const a = await s.startLaptop('a', relay.addr, ['--announce', `/ip4/10.99.0.11/tcp/${LAPTOP_PORT}`])
  const b = await s.startLaptop('b', relay.addr)
  const file = randomBytes(16 * MiB)
  const before = s.lab.relayBytes()
  const { get } = await shareAndFetch(s, a, b, file, 'big.bin')
  assert.equal(get.code, 0, get.stderr)
  const after = s.lab.relayBytes()
  assert.ok((await readFile(join(b.cwd, 'big.bin'))).equals(file), 'byte-identical')
  const relayed = (after.in - before.in) + (after.out - before.out)
  const mode = await via(s, b, a.peerId)
  t.diagnostic(`final connection B -> A: ${mode ?? 'none'}; relay carried ${relayed} bytes (${(100 * relayed / file.length).toFixed(2)} %)`)
  assert.equal(mode, 'direct')
})

test('2b. no direct path (home1 closed, home2 symmetric): the transfer completes over the relay within its limits; peers says relayed', { skip }, async (t) => {
  const s = await setup(t, { home1: 'closed', home2: 'symmetric' })
  const relay = await s.startRelay()
  const a = await s.startLaptop('a', relay.addr)
  const b = await s.startLaptop('b', relay.addr)
  const file = randomBytes(16 * MiB)
  const before = s.lab.relayBytes()
  const { get } = await shareAndFetch(s, a, b, file, 'big.bin')
  assert.equal(get.code, 0, get.stderr)
  const after = s.lab.relayBytes()
  assert.ok((await readFile(join(b.cwd, 'big.bin'))).equals(file), 'byte-identical')
  const relayed = (after.in - before.in) + (after.out - before.out)
  const mode = await via(s, b, a.peerId)
  t.diagnostic(`final connection B -> A: ${mode ?? 'none'}; relay carried ${relayed} bytes (${(100 * relayed / file.length).toFixed(1)} % of the file, in and out)`)
  assert.equal(mode, 'relayed')
  // in from A, out to B: at least twice the file
  assert.ok(relayed >= 2 * file.length, `the relay carried the file both ways (${relayed} bytes)`)
})

test('2c. no direct path and a relay limit below the file size: the fetch fails and the node names the relay limit', { skip }, async (t) => {
  const s = await setup(t, { home1: 'closed', home2: 'symmetric' })
  const relay = await s.startRelay(['--relay-max-bytes', '4'])
  const a = await s.startLaptop('a', relay.addr)
  const b = await s.startLaptop('b', relay.addr)
  const file = randomBytes(16 * MiB)
  const { get } = await shareAndFetch(s, a, b, file, 'big.bin')
  assert.notEqual(get.code, 0, 'the fetch fails')
  const line = await b.proc.waitForJson(m => m.event === 'relay:limit', { timeout: 30_000 })
  t.diagnostic(`get: ${get.stderr.split('\n').pop() ?? ''}; node: ${line.message as string}`)
  assert.equal(line.peer, a.peerId)
  assert.equal(line.relay, relay.peerId)
  assert.match(line.message, /at its limit \(4\.0 MiB \/ 600 s per relayed connection\)/)
})

test('3. a laptop without the swarm key cannot use a private swarm\'s relay to reach its members', { skip }, async (t) => {
  const s = await setup(t, { home1: 'eim', home2: 'eim', laptopC: true })
  const keyFile = join(s.dir, 'swarm.key')
  const gen = s.lab.exec('relay', [process.execPath, (await import('./helpers/cli.js')).BIN, 'key', 'gen', '-o', keyFile])
  assert.equal(gen.status, 0, gen.stderr)
  const key = ['--swarm-key', keyFile]
  const relay = await s.startRelay(key)
  const a = await s.startLaptop('a', relay.addr, [...key, '--announce', `/ip4/10.99.0.11/tcp/${LAPTOP_PORT}`])
  const b = await s.startLaptop('b', relay.addr, [...key, '--announce', `/ip4/10.99.0.12/tcp/${LAPTOP_PORT}`])
  // c, on b's home network, has no key: it can neither reserve on the relay nor reach anyone,
  // not even a member whose circuit address it was given
  const c = await s.startLaptop('c', relay.addr, ['--listen', '/ip4/0.0.0.0/tcp/4002', '--peer', `${relay.addr}/p2p-circuit/p2p/${a.peerId}`])
  assert.ok(!c.addrs.some(x => x.includes('p2p-circuit')), `c got no reservation: ${c.addrs.join(' ')}`)

  const file = randomBytes(1 * MiB)
  const { cid, get } = await shareAndFetch(s, a, b, file, 'secret.bin')
  assert.equal(get.code, 0, get.stderr)
  assert.ok((await readFile(join(b.cwd, 'secret.bin'))).equals(file), 'members fetch through the private relay')

  // c: no peers, nothing listed, and the fetch fails
  const peers = await s.run(c, ['peers', '--json'])
  assert.deepEqual(JSON.parse(peers.stdout).peers.filter((p: any) => p.connected), [])
  const ls = await s.run(c, ['ls', '--json'])
  assert.deepEqual(JSON.parse(ls.stdout).files, [])
  const got = await s.run(c, ['get', cid, '--json'], 120_000)
  assert.notEqual(got.code, 0, 'c cannot fetch')
})
