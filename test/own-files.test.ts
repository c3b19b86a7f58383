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
