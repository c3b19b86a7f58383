/**
 * Swarm distribution (issue 12): a node fetching a file the swarm is known to have announces
 * a partial `have` before its first block, so the other fetchers of the file learn of it at
 * once and ask it for blocks as it gets them; a file the swarm is not known to have is
 * announced only once a block of it is here.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { CustomProgressEvent } from 'progress-events'
import { fetch } from '../src/node/commands/fetch.js'
import type { CommandContext } from '../src/node/commands/context.js'
import { createStore } from '../src/storage/index.js'

const cid = CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update('announce').digest())).toString()

/** A command context whose protocol records `have`s and whose transfer records what had been announced when it started and at its first block. */
async function context (t: { after: (fn: () => Promise<void>) => void }, known: { entry: boolean, providers: string[] }, fails?: Error): Promise<{ c: CommandContext, haves: string[], withdrawn: string[], seen: { atStart: string[], atFirstBlock: string[] } }> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-announce-'))
  const store = await createStore({ path: join(dir, 'store') })
  t.after(async () => { await store.close(); await rm(dir, { recursive: true, force: true }) })
  const haves: string[] = []
  const withdrawn: string[] = []
  const seen = { atStart: [] as string[], atFirstBlock: [] as string[] }
  const protocol = {
    entry: () => known.entry ? { cid, name: 'f.bin', size: 10, providers: known.providers } : undefined,
    providers: () => known.providers,
    have: async (c: string, complete: boolean) => { haves.push(`${c} ${complete ? 'complete' : 'partial'}`) },
    want: async () => [],
    announce: async () => {},
    withdraw: async (c: string) => { withdrawn.push(c) },
    addEventListener: () => {},
    removeEventListener: () => {}
  }
  const transfer = {
    fetch: async (_cid: string, options: any) => {
      seen.atStart = [...haves]
      if (fails != null) throw fails
      options.onProgress?.(new CustomProgressEvent('transfer:fetch:block', { cid, bytes: 10, blocks: 1, received: 10, providers: 1, rate: 0, block: cid, peer: 'alice' }))
      seen.atFirstBlock = [...haves]
      return { cid, size: 10, blocks: 1, blocksReceived: 1, bytesReceived: 10, duplicates: 0, invalid: 0, providers: {}, banned: [], elapsed: 1 }
    }
  }
  const c = { store, protocol, transfer, log: Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) } as unknown as CommandContext
  return { c, haves, withdrawn, seen }
}

test('a file the catalog knows: the partial have goes out before the transfer starts (fetchers learn of each other before their first block)', async (t) => {
  const { c, seen } = await context(t, { entry: true, providers: ['alice'] })
  await fetch(c, cid)
  assert.deepEqual(seen.atStart, [`${cid} partial`])
  assert.deepEqual(seen.atFirstBlock, [`${cid} partial`], 'announced once')
})

test('a file only a provider is known for (no catalog entry) is announced at once too', async (t) => {
  const { c, seen } = await context(t, { entry: false, providers: ['alice'] })
  await fetch(c, cid)
  assert.deepEqual(seen.atStart, [`${cid} partial`])
})

test('a file the swarm is not known to have: announced only once its first block is here', async (t) => {
  const { c, seen } = await context(t, { entry: false, providers: [] })
  await fetch(c, cid)
  assert.deepEqual(seen.atStart, [])
  assert.deepEqual(seen.atFirstBlock, [`${cid} partial`])
})

test('a fetch that fails before its first block takes back the partial have it told (no phantom copy in every catalog)', async (t) => {
  const { c, haves, withdrawn } = await context(t, { entry: true, providers: ['alice'] }, new Error('aborted'))
  await assert.rejects(fetch(c, cid), /aborted/)
  assert.deepEqual(haves, [`${cid} partial`], 'the have went out at the start')
  assert.deepEqual(withdrawn, [cid], 'and was withdrawn when nothing of the file arrived')
  assert.equal(await c.store.get(cid), undefined, 'no record is left')
})

test('a failed fetch that told no have withdraws nothing', async (t) => {
  const { c, withdrawn } = await context(t, { entry: false, providers: [] }, new Error('not found'))
  await assert.rejects(fetch(c, cid), /not found/)
  assert.deepEqual(withdrawn, [])
})
