/**
 * Issue 15 point 6: the catalog does not mislead. PROVIDERS counts providers connected now
 * (partial holders apart), `ls CID` / `ls --providers` name them, a want for an unknown CID
 * leaves no entry anywhere, and a file announced under several names says so. The web page
 * counts as the CLI does.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createLocalSwarm } from '../src/testing/index.js'
import { createWebNode } from '../src/web/adapter.js'
import { waitFor } from '../src/util/wait.js'
import { runCli, startNode, tempDir } from './helpers/cli.js'
import { cidOf, countEvents } from './helpers/pubsub.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

test('PROVIDERS: whole copies on peers connected now, partial holders apart; a provider that left is not counted; the web page counts the same', async (t) => {
  const swarm = await createLocalSwarm({ size: 3 }, t)
  const [a, b, c] = swarm.nodes as [typeof swarm.nodes[0], typeof swarm.nodes[0], typeof swarm.nodes[0]]
  const rec = await a.share(bytes('counted providers'), { name: 'count.txt' })
  await waitFor(() => b.protocol.entry(rec.cid) != null && c.protocol.entry(rec.cid) != null, { timeout: 10_000, message: 'announced' })
  await b.fetch(rec.cid)
  let last: any
  const row = async (): Promise<any> => { last = (await c.ls()).find(f => f.cid === rec.cid); return last }
  await waitFor(async () => (await row())?.providers === 2, { timeout: 10_000, message: () => `2 providers at c: ${JSON.stringify(last)}` })
  // c downloads part of it (its partial have): a and b count it apart
  await c.protocol.have(rec.cid, false)
  await waitFor(async () => (await a.ls()).find(f => f.cid === rec.cid)?.partial === 1, { timeout: 10_000, message: 'one partial holder at a' })
  const atA = (await a.ls()).find(f => f.cid === rec.cid)!
  assert.equal(atA.providers, 2, 'a itself and b')
  const web = (await createWebNode(a).files()).find(f => f.cid === rec.cid)!
  assert.equal(web.providers, atA.providers, 'the web page counts as ls does')
  assert.equal(web.partial, atA.partial)
  // b stops: not counted any more, though the catalog keeps it until its TTL
  await b.stop()
  await waitFor(async () => (await row())?.providers === 1, { timeout: 10_000, message: () => `1 provider at c after b left: ${JSON.stringify(last)}` })
  assert.ok(c.protocol.entry(rec.cid)!.providers.some(p => p.peer === b.peerId), 'the catalog still lists b (TTL)')
  const listed = await c.providers(rec.cid)
  const who = (peer: string): string => peer === a.peerId ? 'a' : peer === b.peerId ? 'b' : peer
  assert.deepEqual(listed.map(p => [who(p.peer), p.complete, p.connected]), [['a', true, true], ['b', true, false]], 'connected first')
  await waitFor(async () => (await c.providers(rec.cid))[0]?.name === 'node-0', { timeout: 10_000, message: 'a named by its Hello' })
})

test('a want for a CID nobody has leaves no catalog entry anywhere, and a --replicate node does not chase it', async (t) => {
  const swarm = await createLocalSwarm({ size: 3, nodes: { 1: { replicate: true } } }, t)
  const [a, b, c] = swarm.nodes as [typeof swarm.nodes[0], typeof swarm.nodes[0], typeof swarm.nodes[0]]
  const starts = countEvents(b, 'replicate:start')
  t.after(() => { starts.stop() })
  const unknown = await cidOf('nobody has this')
  await assert.rejects(c.fetch(unknown, { timeout: 1500 }))
  for (const n of [a, b, c]) {
    assert.equal(n.protocol.entry(unknown), undefined)
    assert.ok(!(await n.ls()).some(f => f.cid === unknown), 'not listed')
    assert.equal(await n.store.get(unknown), undefined, 'no record')
  }
  assert.equal(starts.count, 0, 'the replicating node did not start fetching it')
})

test('the same content under two names: every node lists it once and says it has another name', async (t) => {
  const swarm = await createLocalSwarm({ size: 3 }, t)
  const [a, b, c] = swarm.nodes as [typeof swarm.nodes[0], typeof swarm.nodes[0], typeof swarm.nodes[0]]
  const first = await a.share(bytes('one content'), { name: 'report.pdf' })
  await waitFor(() => c.protocol.entry(first.cid) != null, { timeout: 10_000, message: 'announced at c' })
  const second = await b.share(bytes('one content'), { name: 'report-final.pdf' })
  assert.equal(second.cid, first.cid)
  await waitFor(async () => (await c.ls()).find(f => f.cid === first.cid)?.otherNames != null, { timeout: 10_000, message: 'the other name at c' })
  const atC = (await c.ls()).filter(f => f.cid === first.cid)
  assert.equal(atC.length, 1)
  assert.equal(atC[0]!.name, 'report.pdf')
  assert.deepEqual(atC[0]!.otherNames, ['report-final.pdf'])
  // b shows its own name, and the first one as the other
  const atB = (await b.ls()).find(f => f.cid === first.cid)!
  assert.equal(atB.name, 'report-final.pdf')
  await waitFor(async () => (await b.ls()).find(f => f.cid === first.cid)?.otherNames?.includes('report.pdf') === true, { timeout: 10_000, message: 'a\'s name at b' })
})

test('ls CID and ls --providers name the providers; ls of an unlisted CID fails with one line', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'notes.txt')
  await writeFile(file, 'shared notes')
  const alice = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  await startNode(t, ['--repo', join(dir, 'b'), '--name', 'bob', '--peer', alice.ready.addrs[0]])
  const shared = await runCli(['share', '--json', '--repo', join(dir, 'a'), file])
  assert.equal(shared.code, 0, shared.stderr)
  const cid: string = shared.json().files[0].cid
  let one: any
  await waitFor(async () => {
    const res = await runCli(['ls', cid, '--json', '--repo', join(dir, 'b')])
    one = res.code === 0 ? res.json().files[0] : undefined
    return one?.providerList?.some((p: any) => p.name === 'alice') === true
  }, { timeout: 20_000, message: () => `alice named as provider: ${JSON.stringify(one)}` })
  assert.equal(one.providers, 1)
  assert.deepEqual(one.providerList.map((p: any) => [p.name, p.complete, p.connected, p.self]), [['alice', true, true, false]])
  const text = await runCli(['ls', cid, '--repo', join(dir, 'b')])
  assert.match(text.stdout, /notes\.txt +12 B +1 +no/)
  assert.match(text.stdout, /provider +alice \(/)
  const all = await runCli(['ls', '--providers', '--json', '--repo', join(dir, 'a')])
  assert.deepEqual(all.json().files[0].providerList.map((p: any) => p.self), [true])
  const missing = await runCli(['ls', await cidOf('not listed'), '--repo', join(dir, 'b')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /no provider in the swarm lists bafk\w+ and it is not here/)
  assert.equal(missing.stderr.trim().split('\n').length, 1)
})
