/**
 * Acceptance 1 of the swarmdrop command and the README's tour, as users run
 * them: `start` processes with mDNS only (no --peer), in a private network
 * namespace; share / ls / get / peers as further processes in the namespace.
 * Every command of README.md's `## Tour` must be run here.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../src/util/wait.js'
import { BIN, tourCommands } from './helpers/cli.js'
import { Netns, netnsUnavailable, type NsProcess } from './helpers/netns.js'

test('two laptops in a private network: start with mDNS only, share, ls, get, peers — the README tour', { skip: netnsUnavailable() }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-cli-mdns-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const ns = await Netns.create()
  t.after(async () => { await ns.close() })

  // each "laptop": its own repository (the default one, through SWARMDROP_REPO) and home folder
  const laptops = Object.fromEntries(['alice', 'bob', 'carol'].map(n => [n, { env: { SWARMDROP_REPO: join(dir, n, '.swarmdrop'), NO_COLOR: '1' }, cwd: join(dir, n) }]))
  for (const l of Object.values(laptops)) await mkdir(l.cwd)
  const ran: string[] = []
  const swarmdrop = (laptop: string, args: string[]): NsProcess => {
    ran.push(['swarmdrop', ...args].join(' '))
    return ns.spawn(process.execPath, [BIN, ...args], laptops[laptop])
  }
  const run = async (laptop: string, args: string[], timeout = 30_000): Promise<{ code: number | null, stdout: string, stderr: string }> => {
    const p = swarmdrop(laptop, args)
    const { code } = await p.waitForExit({ timeout })
    return { code, stdout: p.lines.join('\n'), stderr: p.stderr.join('\n') }
  }

  const alice = swarmdrop('alice', ['start', '--name', 'alice'])
  const bob = swarmdrop('bob', ['start', '--name', 'bob'])
  // the tour's human output: peer id, then one line when the other laptop joins, with its nickname
  await alice.waitForLine(/^swarmdrop node 12D3Koo/)
  await bob.waitForLine(/peer joined +alice \(/, { timeout: 15_000 })
  await alice.waitForLine(/peer joined +bob \(/, { timeout: 15_000 })

  // peers --json shows the other's nickname
  const peersJson = await run('bob', ['peers', '--json'])
  assert.equal(peersJson.code, 0, peersJson.stderr)
  assert.ok(JSON.parse(peersJson.stdout).peers.some((p: any) => p.name === 'alice' && p.connected))
  const peers = await run('bob', ['peers'])
  assert.match(peers.stdout, /^12D3Koo\S+ +alice +yes/m)

  const photo = randomBytes(5 * 1024 * 1024 + 7)
  await writeFile(join(laptops.alice!.cwd, 'holiday.jpg'), photo)
  const shared = await run('alice', ['share', 'holiday.jpg'])
  assert.equal(shared.code, 0, shared.stderr)
  const sharedAt = Date.now()
  const cid = /^(bafy\S+) +holiday\.jpg +5\.0 MiB$/m.exec(shared.stdout)?.[1]
  assert.ok(cid != null, `share prints CID, name, size: ${shared.stdout}`)

  // ls --json on bob lists it (the deadline only catches a lost announcement; how fast is bench/announce-latency's business)
  await waitFor(async () => {
    const r = await run('bob', ['ls', '--json'])
    return r.code === 0 && JSON.parse(r.stdout).files.some((f: any) => f.cid === cid && f.name === 'holiday.jpg')
  }, { timeout: 30_000, interval: 0, message: `${cid} in bob's catalog within 30 s of the share` })
  const listedIn = Date.now() - sharedAt
  const ls = await run('bob', ['ls'])
  assert.match(ls.stdout, new RegExp(`^${cid} +holiday\\.jpg +5\\.0 MiB +1 +no$`, 'm'))

  // get writes a byte-identical file into the current folder
  const got = await run('bob', ['get', cid])
  assert.equal(got.code, 0, got.stderr)
  assert.match(got.stdout, /^wrote .*holiday\.jpg \(5\.0 MiB\)/m)
  assert.ok((await readFile(join(laptops.bob!.cwd, 'holiday.jpg'))).equals(photo))

  // carol runs no node: get starts a temporary one that finds the others by mDNS
  const carol = await run('carol', ['get', cid, '--json'])
  assert.equal(carol.code, 0, carol.stderr)
  assert.equal(JSON.parse(carol.stdout).path, join(laptops.carol!.cwd, 'holiday.jpg'))
  assert.ok((await readFile(join(laptops.carol!.cwd, 'holiday.jpg'))).equals(photo))

  // Ctrl-C stops a node cleanly, exit 130 (as docs/CLI.md says)
  alice.kill('SIGINT')
  assert.equal((await alice.waitForExit()).code, 130)

  // every command of the tour ran, as written (the CID filled in); the demo runs in cli-demo.test.ts
  for (const cmd of (await tourCommands()).filter(c => c !== 'swarmdrop demo')) {
    assert.ok(ran.includes(cmd.replace('<CID>', cid)), `the tour's "${cmd}" was run by this test (ran: ${ran.join('; ')})`)
  }
  t.diagnostic(`catalog listed the file on the other laptop ${listedIn} ms after share returned`)
})
