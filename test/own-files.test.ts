/**
 * pubsub/own-files: what this node tells the swarm it holds. A withdrawal is remembered only while
 * the store still lists the file: kept beyond that, one CID per withdrawal would stay for the
 * life of the node (soak trial: 400 withdrawals, 400 entries).
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { OwnFiles } from '../src/pubsub/own-files.js'
import type { ProtocolContext } from '../src/pubsub/context.js'
import type { LocalFile } from '../src/pubsub/types.js'
import { Catalog } from '../src/pubsub/catalog.js'
import type { FileMeta } from '../src/pubsub/codec.js'

const cidOf = (seed: string): string => CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(seed).digest())).toString()

function ownFiles (stored: LocalFile[]): { own: OwnFiles, announced: string[] } {
  const announced: string[] = []
  const ctx = {
    self: 'me',
    started: true,
    catalog: { add: () => {}, remove: () => {}, meta: () => undefined },
    publish: async (msg: any) => { if (msg.type === 'announce') announced.push(...msg.files.map((f: any) => f.meta.cid)) },
    issued: () => Date.now(),
    log: Object.assign(() => {}, { error: () => {} })
  } as unknown as ProtocolContext
  return { own: new OwnFiles(ctx, async () => stored), announced }
}

test('a withdrawn file the store still lists is not announced; once the store drops it, the withdrawal is forgotten', async () => {
  const kept = { cid: cidOf('kept'), name: 'kept.bin', size: 10, mediaType: 'application/octet-stream', complete: true }
  const stored: LocalFile[] = [kept]
  const { own, announced } = ownFiles(stored)
  await own.withdraw(kept.cid)
  for (let i = 0; i < 100; i++) await own.withdraw(cidOf(`gone ${i}`))
  await own.publish()
  assert.deepEqual(announced, [], 'the withdrawn file is not announced while the store lists it')
  assert.equal((own as any).withdrawn.size, 1, 'withdrawals of files the store does not list are forgotten')
  stored.length = 0
  await own.publish()
  assert.equal((own as any).withdrawn.size, 0)
})

test('a disputed file held by a Have: catalog answers do not list this node as claiming its metadata', async () => {
  const cid = cidOf('disputed')
  const catalog = new Catalog('me', () => {})
  const meta = (name: string, size: number): FileMeta => ({ cid, name, size, mediaType: 'application/octet-stream', encrypted: false })
  const now = Date.now()
  catalog.add({ cid, peer: 'squatter', meta: meta('run-me.sh', 1), complete: true, lastSeen: now, firstHand: true })
  catalog.add({ cid, peer: 'alice', meta: meta('report.pdf', 40_000), complete: true, lastSeen: now, firstHand: true })
  const published: string[] = []
  const ctx = {
    self: 'me',
    started: true,
    catalog,
    publish: async (msg: any) => { published.push(msg.type) },
    issued: () => Date.now(),
    log: Object.assign(() => {}, { error: () => {} })
  } as unknown as ProtocolContext
  const own = new OwnFiles(ctx, async () => [])
  await own.have(cid, true)
  assert.deepEqual(published, ['have'])
  assert.ok(catalog.providers(cid).some(p => p.peer === 'me' && p.complete), 'this node is a provider')
  // an answer lists every pair under the entry's metadata (the squatter's, which came first), and this
  // node's own pair counts as a first-hand claim where it is heard: it must not be among them
  assert.deepEqual([...catalog.pairs()].map(p => p.peer).sort(), ['alice', 'squatter'])
  // undisputed, a have lists this node with the file's metadata, as its record is named after it
  const plain = cidOf('plain')
  catalog.add({ cid: plain, peer: 'alice', meta: { ...meta('plain.txt', 5), cid: plain }, complete: true, lastSeen: now, firstHand: true })
  await own.have(plain, false)
  assert.deepEqual([...catalog.pairs()].filter(p => p.meta.cid === plain).map(p => p.peer).sort(), ['alice', 'me'])
})
