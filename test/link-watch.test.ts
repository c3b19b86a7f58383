/**
 * The watch of this host's own addresses (src/net/link-watch.ts): an address that goes away
 * (Wi-Fi down, another network, a new lease) makes the connections to peers on its subnet dead,
 * and the network closes them at once instead of waiting 20–30 s for its ping monitor.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import type { NetworkInterfaceInfo } from 'node:os'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork } from '../src/net/network.js'
import { inSubnets, isDead, LinkWatch, ownAddresses, type Family, type OwnAddress } from '../src/net/link-watch.js'
import { waitFor } from '../src/util/wait.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']

function iface (address: string, cidr: string, internal = false): NetworkInterfaceInfo {
  const family = address.includes(':') ? 'IPv6' : 'IPv4'
  return { address, cidr, internal, family, netmask: '', mac: '00:00:00:00:00:00', ...(family === 'IPv6' ? { scopeid: 0 } : {}) } as NetworkInterfaceInfo
}

test('link watch: the addresses that leave the list are told, with their subnets; loopback is not watched', () => {
  let now: NodeJS.Dict<NetworkInterfaceInfo[]> = {
    lo: [iface('127.0.0.1', '127.0.0.1/8', true)],
    wlan0: [iface('10.99.0.2', '10.99.0.2/24'), iface('fd00::2', 'fd00::2/64')],
    eth0: [iface('192.168.1.7', '192.168.1.7/24')]
  }
  assert.deepEqual([...ownAddresses(() => now).keys()].sort(), ['10.99.0.2/24', '192.168.1.7/24', 'fd00::2/64'])
  const told: OwnAddress[][] = []
  const families: Array<Set<Family>> = []
  const watch = new LinkWatch((gone, allGone) => { told.push(gone); families.push(allGone) }, 60_000, () => now)
  watch.start()
  try {
    watch.check()
    assert.deepEqual(told, [], 'nothing changed')
    // the Wi-Fi comes back with another address
    now = { ...now, wlan0: [iface('10.99.0.52', '10.99.0.52/24'), iface('fd00::2', 'fd00::2/64')] }
    watch.check()
    assert.deepEqual(told, [[{ address: '10.99.0.2', cidr: '10.99.0.2/24' }]])
    assert.deepEqual([...families[0] ?? []], [], 'eth0 still has an IPv4 address')
    // the cable is pulled: eth0 is no longer listed
    now = { lo: now.lo, wlan0: now.wlan0 }
    watch.check()
    assert.deepEqual(told[1], [{ address: '192.168.1.7', cidr: '192.168.1.7/24' }])
    // an IPv6 privacy address expires beside the stable one of its subnet: not news
    now = { ...now, wlan0: [...now.wlan0 ?? [], iface('fd00::77', 'fd00::77/64')] }
    watch.check()
    now = { ...now, wlan0: (now.wlan0 ?? []).filter(i => i.address !== 'fd00::77') }
    watch.check()
    assert.equal(told.length, 2)
    // the whole IPv6 subnet goes (another network): it is
    now = { ...now, wlan0: (now.wlan0 ?? []).filter(i => i.address !== 'fd00::2') }
    watch.check()
    assert.deepEqual(told[2], [{ address: 'fd00::2', cidr: 'fd00::2/64' }])
    assert.deepEqual([...families[2] ?? []], ['ipv6'], 'no IPv6 address left')
    // the laptop moves to another network: its one IPv4 address is replaced
    now = { lo: now.lo, wlan0: [iface('172.20.1.9', '172.20.1.9/16')] }
    watch.check()
    assert.deepEqual([...families[3] ?? []], ['ipv4'], 'none of the IPv4 addresses it had is left')
  } finally {
    watch.stop()
  }
  const gone = [{ address: '10.99.0.2', cidr: '10.99.0.2/24' }, { address: 'fd00::2', cidr: 'fd00::2/64' }]
  assert.equal(inSubnets(gone, '10.99.0.1'), true)
  assert.equal(inSubnets(gone, '10.99.0.254'), true)
  assert.equal(inSubnets(gone, '10.99.1.1'), false)
  assert.equal(inSubnets(gone, 'fd00::9'), true)
  assert.equal(inSubnets(gone, 'fd01::9'), false)
  assert.equal(inSubnets(gone, 'not an address'), false)
  // every IPv4 address gone: a relay beyond the router is dead too, a peer on loopback is not
  const ipv4 = new Set<Family>(['ipv4'])
  assert.equal(isDead('203.0.113.7', gone, ipv4), true)
  assert.equal(isDead('203.0.113.7', gone, new Set()), false, 'an address is left: the monitor decides')
  assert.equal(isDead('10.99.0.1', gone, new Set()), true)
  assert.equal(isDead('127.0.0.1', [], ipv4), false)
  assert.equal(isDead('2001:db8::1', gone, ipv4), false)
})

test('an address of this host goes away: the connections to peers on its subnet are closed at once, and the others are not', async (t) => {
  // the host as the watch sees it: a made-up interface whose subnet holds the peer's 127.0.0.1
  const wlan0 = { wlan0: [iface('127.0.0.5', '127.0.0.5/8')] }
  let interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = wlan0
  let reads = 0
  const lister = (): NodeJS.Dict<NetworkInterfaceInfo[]> => { reads++; return interfaces }
  /** Waits until the watch has read the addresses twice more. */
  const watched = async (): Promise<void> => { const at = reads; await waitFor(() => reads >= at + 2, { message: 'two more reads of the addresses' }) }
  const a = await createNetwork({ privateKey: await generateKeyPair('Ed25519') as any, listen: LOCAL, mdns: false, agent: 'test', linkWatch: { interval: 50, interfaces: lister } })
  t.after(async () => { await a.stop() })
  const b = await createNetwork({ privateKey: await generateKeyPair('Ed25519') as any, listen: LOCAL, mdns: false, agent: 'test' })
  t.after(async () => { await b.stop() })
  await a.start()
  await b.start()
  await a.dial(b.getMultiaddrs()[0]!)
  const disconnected: string[] = []
  a.addEventListener('peer:disconnect', (evt) => { disconnected.push(evt.detail.peer) })

  // another network comes and goes: the connection stays
  interfaces = { ...wlan0, eth0: [iface('192.168.1.7', '192.168.1.7/24')] }
  await watched()
  interfaces = wlan0
  await watched()
  assert.equal(a.connections().length, 1)
  assert.equal(disconnected.length, 0)

  // the peer's network goes (127.0.0.5/8 holds 127.0.0.1): its connection is closed
  interfaces = {}
  await waitFor(() => disconnected.includes(b.peerId), { timeout: 10_000, message: 'the connection to the peer on the lost subnet closed' })
  assert.equal(a.connections().length, 0)
})
