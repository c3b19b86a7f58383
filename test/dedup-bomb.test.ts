/**
 * Issue 18, dedup bomb: a DAG can link one small block many times, so a few KiB received
 * would make `get` write a huge file. A file whose blocks declare more bytes than its
 * announcement said is not written (SizeMismatchError); the honest file beside it is.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as rawCodec from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { createStore, createSwarmNode } from '../src/index.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']

test('a DAG that declares 1,000 × its one leaf, announced as 1,000 B, is refused before anything is written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-dedup-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  // the bomb: one 1 KiB leaf linked 1,000 times → a file node that declares 1,024,000 bytes
  const leaf = new Uint8Array(1024).fill(0x41)
  const leafCid = CID.createV1(rawCodec.code, await sha256.digest(leaf))
  const unixfs = new UnixFS({ type: 'file', blockSizes: Array.from({ length: 1000 }, () => 1024n) })
  const rootBytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: Array.from({ length: 1000 }, () => ({ Hash: leafCid, Tsize: 1024 })) }))
  const rootCid = CID.createV1(dagPb.code, await sha256.digest(rootBytes))

  const store = await createStore({ path: join(dir, 'attacker-store') })
  t.after(async () => { await store.close() })
  await store.putBlock(leafCid.toString(), leaf)
  await store.putBlock(rootCid.toString(), rootBytes)
  const attacker = await createSwarmNode({ repo: join(dir, 'attacker'), listen: LOCAL, mdns: false, name: 'attacker' }, { store })
  t.after(async () => { await attacker.stop() })
  const victim = await createSwarmNode({ repo: join(dir, 'victim'), listen: LOCAL, mdns: false, name: 'victim', bootstrap: attacker.getMultiaddrs() })
  t.after(async () => { await victim.stop() })
  await victim.waitForPeers()
  const honest = await attacker.share(new TextEncoder().encode('an honest file'), { name: 'honest.txt' })
  await attacker.protocol.announce({ cid: rootCid.toString(), name: 'tiny.txt', size: 1000, mediaType: 'text/plain' })

  const out = join(dir, 'out')
  await import('node:fs/promises').then(async fs => fs.mkdir(out))
  await victim.waitForPeers()
  await assert.rejects(victim.get(rootCid.toString(), { output: out + '/', catalogWait: 30_000 }), (err: any) => {
    assert.equal(err.name, 'SizeMismatchError')
    assert.match(err.message, /describe 1024000 bytes but it was announced as 1000 bytes/)
    return true
  })
  assert.deepEqual(await readdir(out), [], 'nothing written for the bomb')
  const got = await victim.get(honest.cid, { output: out + '/', catalogWait: 30_000 })
  assert.equal(got.size, 14)
  assert.deepEqual(await readdir(out), ['honest.txt'])
})
