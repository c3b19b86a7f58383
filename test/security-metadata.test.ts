/**
 * Issue 18, metadata squatting, at the node and through the CLI: after (or before) the real
 * provider announces a file, another peer announces the same CID as `run-me.sh`, 1 B (or a
 * size no disk holds), encrypted. `get CID` without a name writes the first provider's name and
 * says which other names were announced (FetchedFile.nameFrom, otherNames, otherSizes,
 * encryptedDisputed; the CLI warns on stderr); the size and the encrypted flag are what the
 * blocks say, so a lied size neither refuses the file nor shrinks it, and a lied flag never
 * makes plaintext "ciphertext". The fetching node records (and so re-announces) none of the
 * disputed metadata: its record names the file by its CID, so it never spreads the squat.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createLocalSwarm } from '../src/testing/index.js'
import { waitFor } from '../src/util/wait.js'
import type { SwarmNode } from '../src/node/index.js'
import { runCli, startNode, tempDir } from './helpers/cli.js'

const SQUAT = { name: 'run-me.sh', size: 1, mediaType: 'application/x-sh', encrypted: true }

/** `node` lists `cid` with `name` among its other names (the catalog recorded the conflicting announcement). */
async function conflictHeard (node: SwarmNode, cid: string, name: string): Promise<void> {
  await waitFor(() => {
    const e = node.protocol.entry(cid)
    return e != null && (e.name === name || e.conflicts?.some(x => x.name === name) === true)
  }, { timeout: 20_000, message: `${name} heard for ${cid}` })
}

async function folder (dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  await mkdir(path)
  return path
}

test('metadata squatting at the node: the first provider\'s name is written with the others beside it; a lied size or flag changes nothing written', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-squat-')
  const swarm = await createLocalSwarm({ size: 3 }, t)
  const [alice, mallory, bob] = swarm.nodes as [SwarmNode, SwarmNode, SwarmNode]

  // 1. the real provider first, the squatter after it
  const report = randomBytes(52_000)
  const shared = await alice.share(report, { name: 'quarterly-report.pdf' })
  await conflictHeard(bob, shared.cid, 'quarterly-report.pdf')
  await mallory.protocol.announce({ cid: shared.cid, ...SQUAT })
  await conflictHeard(bob, shared.cid, 'run-me.sh')
  assert.equal(bob.protocol.entry(shared.cid)?.name, 'quarterly-report.pdf', 'the first provider\'s metadata is shown')
  const out1 = await folder(dir, 'out1')
  const got = await bob.get(shared.cid, { cwd: out1 })
  assert.equal(got.name, 'quarterly-report.pdf')
  assert.equal(got.nameFrom, 'announced')
  assert.deepEqual(got.otherNames, ['run-me.sh'])
  assert.deepEqual(got.otherSizes, [1])
  assert.equal(got.encryptedDisputed, true)
  assert.equal(got.encrypted, false, 'plaintext, whatever the squatter said')
  assert.equal(got.byReference, true, 'kept by reference like any plaintext file')
  assert.equal(got.size, report.byteLength)
  assert.deepEqual(await readdir(out1), ['quarterly-report.pdf'])
  assert.ok(Buffer.from(await readFile(join(out1, 'quarterly-report.pdf'))).equals(report), 'the content is the real one')
  // what bob re-announces as its own word takes neither side of the dispute: its record names the file by its CID
  assert.equal((await bob.store.get(shared.cid))?.name, shared.cid, 'bob\'s record does not take up a disputed name')
  // ...and it tells the swarm it holds the file without naming it: the CID is not one more name in alice's catalog
  await waitFor(() => alice.protocol.entry(shared.cid)?.providers.some(p => p.peer === bob.peerId && p.complete) === true, { timeout: 20_000, message: 'bob a complete provider at alice' })
  assert.deepEqual(alice.protocol.entry(shared.cid)?.conflicts?.map(c => c.name), ['run-me.sh'], 'alice hears of the squatter\'s name only')
  // named by the caller, or again from this node's store: said so, the other names still beside it
  const mine = await bob.get(shared.cid, { cwd: out1, output: 'mine.pdf' })
  assert.equal(mine.nameFrom, 'output')
  assert.equal(mine.path, join(out1, 'mine.pdf'))
  assert.deepEqual(mine.otherNames, ['run-me.sh'])
  const again = await bob.get(shared.cid, { cwd: await folder(dir, 'out1b') })
  assert.equal(again.nameFrom, 'announced', 'the store names it by its CID only: the first provider\'s name again')
  assert.equal(again.name, 'quarterly-report.pdf')
  assert.deepEqual(again.otherNames, ['run-me.sh'])
  assert.equal(again.local, true)

  // 2. the squatter first with a 1-byte size: the file is neither refused nor cut to 1 byte
  const annual = randomBytes(40_000)
  const imported = await alice.store.import(annual, { name: 'annual-report.pdf' })
  await mallory.protocol.announce({ cid: imported.cid, ...SQUAT })
  await conflictHeard(bob, imported.cid, 'run-me.sh')
  await alice.share(annual, { name: 'annual-report.pdf' })
  await conflictHeard(bob, imported.cid, 'annual-report.pdf')
  assert.equal(bob.protocol.entry(imported.cid)?.size, 1, 'the squatter\'s metadata is shown: it came first')
  const out2 = await folder(dir, 'out2')
  const squatted = await bob.get(imported.cid, { cwd: out2 })
  assert.equal(squatted.name, 'run-me.sh', 'the first provider\'s name...')
  assert.equal(squatted.nameFrom, 'announced', '...said to be a remote one')
  assert.deepEqual(squatted.otherNames, ['annual-report.pdf'], '...with the real one beside it')
  assert.equal(squatted.size, annual.byteLength, 'the size is the blocks\'')
  assert.deepEqual(squatted.otherSizes, [1])
  assert.equal(squatted.encrypted, false)
  assert.equal(squatted.encryptedDisputed, true)
  const written = join(out2, 'run-me.sh')
  assert.ok(Buffer.from(await readFile(written)).equals(annual), 'the whole real content')
  assert.equal((await stat(written)).mode & 0o111, 0, 'never executable')
  // bob, now a provider, does not spread the squatter's metadata under its own signature
  assert.equal((await bob.store.get(imported.cid))?.name, imported.cid, 'bob\'s record does not take up the squatter\'s name')
  // it says it holds the file (a complete Have) and lends it no metadata, neither the squatter's nor its CID as a name
  await waitFor(() => alice.protocol.entry(imported.cid)?.providers.some(p => p.peer === bob.peerId && p.complete) === true, { timeout: 20_000, message: 'bob a complete provider at alice' })
  assert.equal(alice.protocol.entry(imported.cid)?.conflicts?.some(x => x.peer === bob.peerId), false, 'no metadata of bob\'s at alice')
  assert.deepEqual(alice.protocol.entry(imported.cid)?.conflicts?.map(x => x.name), ['run-me.sh'])

  // 3. the squatter first with a size no disk holds: the early disk check does not refuse it
  const budget = randomBytes(30_000)
  const third = await alice.store.import(budget, { name: 'budget.xlsx' })
  await mallory.protocol.announce({ cid: third.cid, ...SQUAT, name: 'huge.iso', size: 2 ** 50 })
  await conflictHeard(bob, third.cid, 'huge.iso')
  await alice.share(budget, { name: 'budget.xlsx' })
  await conflictHeard(bob, third.cid, 'budget.xlsx')
  const out3 = await folder(dir, 'out3')
  const big = await bob.get(third.cid, { cwd: out3 })
  assert.equal(big.size, budget.byteLength)
  assert.deepEqual(big.otherSizes, [2 ** 50])
  assert.deepEqual(big.otherNames, ['budget.xlsx'])
  assert.ok(Buffer.from(await readFile(join(out3, 'huge.iso'))).equals(budget))
})

test('metadata squatting through the CLI: get warns on stderr with the other names, sizes and flag; --json carries them', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-squat-cli-')
  const swarm = await createLocalSwarm({ size: 2 }, t)
  const [alice, mallory] = swarm.nodes as [SwarmNode, SwarmNode]
  const repoB = join(dir, 'bob')
  await startNode(t, ['--repo', repoB, '--name', 'bob', '--peer', alice.getMultiaddrs()[0]!, '--peer', mallory.getMultiaddrs()[0]!])
  await waitFor(() => alice.network.connections().length >= 2 && mallory.network.connections().length >= 2, { timeout: 20_000, message: 'bob connected to both' })
  const report = randomBytes(20_000)
  const shared = await alice.share(report, { name: 'quarterly-report.pdf' })
  // announced after bob joined: heard first-hand by bob, the squatter's too
  let listed: any
  await waitFor(async () => {
    const res = await runCli(['ls', shared.cid, '--json', '--repo', repoB])
    listed = res.code === 0 ? res.json().files[0] : undefined
    return listed?.name === 'quarterly-report.pdf'
  }, { timeout: 20_000, message: () => `alice's file at bob: ${JSON.stringify(listed)}` })
  await mallory.protocol.announce({ cid: shared.cid, ...SQUAT })
  await waitFor(async () => {
    const res = await runCli(['ls', shared.cid, '--json', '--repo', repoB])
    listed = res.code === 0 ? res.json().files[0] : undefined
    return listed?.otherNames?.includes('run-me.sh') === true
  }, { timeout: 20_000, message: () => `the squat at bob: ${JSON.stringify(listed)}` })

  const out1 = await folder(dir, 'out1')
  const text = await runCli(['get', shared.cid, '--repo', repoB], { cwd: out1 })
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /^wrote .*quarterly-report\.pdf /m)
  const short = `${shared.cid.slice(0, 6)}…${shared.cid.slice(-6)}`
  const warnings = text.stderr.split('\n').filter(l => l.startsWith('warning:'))
  assert.deepEqual(warnings, [
    `warning: ${short} was also announced as "run-me.sh"; written as "quarterly-report.pdf", the name of its first provider; give -o NAME to choose`,
    `warning: ${short} was also announced as 1 B, encrypted; its blocks hold 19.5 KiB, not encrypted, and that is what was written`
  ])
  assert.doesNotMatch(text.stderr, /holds ciphertext/, 'no "encrypted" note for plaintext')
  assert.deepEqual(await readdir(out1), ['quarterly-report.pdf'])
  assert.ok(Buffer.from(await readFile(join(out1, 'quarterly-report.pdf'))).equals(report))

  const out2 = await folder(dir, 'out2')
  const json = await runCli(['get', shared.cid, '--json', '--repo', repoB], { cwd: out2 })
  assert.equal(json.code, 0, json.stderr)
  const file = json.json()
  assert.equal(file.name, 'quarterly-report.pdf')
  assert.equal(file.nameFrom, 'announced', 'bob\'s store names it by its CID only (the name is disputed): the first provider\'s again')
  assert.deepEqual(file.otherNames, ['run-me.sh'])
  assert.deepEqual(file.otherSizes, [1])
  assert.equal(file.encryptedDisputed, true)
  assert.equal(file.encrypted, false)
  assert.equal(file.size, report.byteLength)
  assert.doesNotMatch(json.stderr, /warning:/, '--json: the fields say it')
})
