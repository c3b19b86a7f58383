import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importBytes } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { identity } from 'multiformats/hashes/identity'
import {
  BlockHashMismatchError, cidKey, decodeNode, importerOptions, InvalidBlockError, InvalidCidError, parseCid, verifyBytes,
  walkDag, type DagBlockGetter
} from '../src/content/index.js'
import { writeFileAtomic } from '../src/util/atomic-write.js'
import { MiB, pattern } from './fixtures/storage-pattern.js'

function sha256Cid (code: number, bytes: Uint8Array): CID {
  return CID.createV1(code, Digest.create(0x12, createHash('sha256').update(bytes).digest()))
}

/** A DAG in memory: what an importer run with `options` writes. */
async function importToMap (bytes: Uint8Array, options = importerOptions()): Promise<{ root: CID, blocks: Map<string, Uint8Array> }> {
  const blocks = new Map<string, Uint8Array>()
  const sink = { put: (cid: CID, b: Uint8Array) => { blocks.set(cid.toString(), b); return cid } }
  const result = await importBytes(bytes, sink as any, options)
  return { root: CID.asCID(result.cid)!, blocks }
}

function getter (blocks: Map<string, Uint8Array>, log?: string[]): DagBlockGetter {
  return {
    get: async (cid) => {
      log?.push(`get ${cidKey(cid)}`)
      return blocks.get(cidKey(cid))
    }
  }
}

test('parseCid: v1 raw and dag-pb sha2-256 pass; v0 becomes v1; text, bytes and CID objects', () => {
  const raw = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
  const pb = 'bafybeidfbiurqtjtmpjgyhxpbhmfaqukyozky4xvzw7cjkzj3yzthoz7xi'
  assert.equal(parseCid(raw).toString(), raw)
  assert.equal(parseCid(raw).code, 0x55)
  assert.equal(parseCid(` ${pb}\n`).toString(), pb, 'surrounding blanks are trimmed')
  assert.equal(parseCid(pb).code, 0x70)

  const v0 = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'
  const fromV0 = parseCid(v0)
  assert.equal(fromV0.version, 1)
  assert.equal(fromV0.code, 0x70)
  assert.deepEqual(fromV0.multihash.bytes, CID.parse(v0).multihash.bytes, 'same hash, v1 form')
  assert.equal(cidKey(fromV0), CID.parse(v0).toV1().toString())

  // bytes form, v1 and v0
  assert.equal(parseCid(CID.parse(pb).bytes).toString(), pb)
  assert.equal(parseCid(CID.parse(v0).bytes).toString(), cidKey(fromV0))
  // a CID object (this project's multiformats) comes back as v1 of the profile
  assert.equal(parseCid(CID.parse(v0) as any).toString(), cidKey(fromV0))
  assert.equal(parseCid(CID.parse(raw) as any).toString(), raw)
})

test('parseCid refuses identity hashes, other codecs, other hashes and garbage with InvalidCidError', () => {
  const idRaw = CID.createV1(0x55, identity.digest(new TextEncoder().encode('inline bytes')))
  const cbor = sha256Cid(0x71, new Uint8Array([1]))
  const short = CID.createV1(0x55, Digest.create(0x12, new Uint8Array(16)))
  const blake = 'bafk2bzacecnbsv6dbjwd5qbv2h6zamvx3nvldnqzp3jrndjeskwu6dghm3ua2'
  const bad: Array<string | Uint8Array | CID> = [
    idRaw.toString(), idRaw.bytes, idRaw, cbor.toString(), cbor.bytes, short.toString(), blake,
    '', '   ', 'nope', 'bafy', 'x'.repeat(500), 'Qm', new Uint8Array([1, 2, 3]), new Uint8Array(0)
  ]
  for (const value of bad) {
    let caught: unknown
    try {
      parseCid(value as any)
    } catch (err) {
      caught = err
    }
    assert.ok(caught instanceof InvalidCidError, `refused: ${String(value)}`)
    assert.equal(caught.name, 'InvalidCidError')
    assert.equal(typeof caught.value, 'string')
  }
  assert.throws(() => parseCid({ not: 'a cid' } as any), { name: 'InvalidCidError' })
  // the named errors of content carry their names
  assert.equal(new InvalidCidError('x', 'r').name, 'InvalidCidError')
  assert.equal(new InvalidBlockError('x', 'r').name, 'InvalidBlockError')
  assert.equal(new BlockHashMismatchError('x').name, 'BlockHashMismatchError')
  assert.equal(InvalidCidError.name, 'InvalidCidError')
})

test('verifyBytes: true only for the bytes the CID hashes', () => {
  const bytes = pattern(1000, 3)
  const cid = parseCid(sha256Cid(0x55, bytes).toString())
  assert.equal(verifyBytes(cid, bytes), true)
  assert.equal(verifyBytes(cid, bytes.subarray(1)), false)
  const flipped = Uint8Array.from(bytes)
  flipped[999] = flipped[999]! ^ 1
  assert.equal(verifyBytes(cid, flipped), false)
  assert.equal(verifyBytes(cid, new Uint8Array(0)), false)
  // a view into a larger buffer hashes only its own bytes
  const big = new Uint8Array(1200)
  big.set(bytes, 100)
  assert.equal(verifyBytes(cid, big.subarray(100, 1100)), true)
})

test('the import profile gives the CIDs of the importer\'s unixfs-v1-2025 profile and of the store\'s checked-in vectors', async () => {
  for (const size of [0, 1, MiB, MiB + 1, 3 * MiB + 5]) {
    const bytes = pattern(size)
    const ours = await importToMap(bytes)
    const theirs = await importToMap(bytes, { profile: 'unixfs-v1-2025' } as any)
    assert.equal(ours.root.toString(), theirs.root.toString(), `${size} bytes`)
  }
  assert.equal((await importToMap(pattern(MiB + 1))).root.toString(), 'bafybeidfbiurqtjtmpjgyhxpbhmfaqukyozky4xvzw7cjkzj3yzthoz7xi')
  assert.equal((await importToMap(pattern(MiB))).root.toString(), 'bafkreiaozocq7ts3mwqefava7kslwrvzqxexe3n4ubbobo6ihiy7cdyd74', 'one chunk is its raw leaf')
})

test('decodeNode on a real importer DAG: children, sizes, raw leaves; bad blocks are InvalidBlockError', async () => {
  const size = 3 * MiB + 5
  const { root, blocks } = await importToMap(pattern(size, 7))
  const rootCid = parseCid(root.toString())
  const node = decodeNode(rootCid, blocks.get(root.toString())!)
  assert.equal(node.type, 'file')
  assert.equal(node.fileSize, size)
  assert.equal(node.ownBytes, 0)
  assert.equal(node.children.length, 4)
  assert.deepEqual(node.children.map(c => c.fileBytes), [MiB, MiB, MiB, 5])
  for (const child of node.children) {
    assert.equal(child.cid.code, 0x55)
    const leaf = decodeNode(child.cid, blocks.get(cidKey(child.cid))!)
    assert.equal(leaf.type, 'raw')
    assert.deepEqual(leaf.children, [])
    assert.equal(leaf.fileSize, child.fileBytes)
  }

  // not dag-pb, dag-pb without UnixFS data, a link to an identity CID
  const junk = Uint8Array.from([0xff, 0xff, 0xff])
  assert.throws(() => decodeNode(parseCid(sha256Cid(0x70, junk).toString()), junk), { name: 'InvalidBlockError' })
  const bare = dagPb.encode(dagPb.prepare({ Links: [] }))
  assert.throws(() => decodeNode(parseCid(sha256Cid(0x70, bare).toString()), bare), { name: 'InvalidBlockError' })
  const idLink = CID.createV1(0x55, identity.digest(new Uint8Array([1, 2])))
  const sneaky = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'file', blockSizes: [2n] }).marshal(), Links: [{ Hash: idLink, Tsize: 2 }] }))
  assert.throws(() => decodeNode(parseCid(sha256Cid(0x70, sneaky).toString()), sneaky), (err: any) => err.name === 'InvalidBlockError' && /unusable CID/.test(err.message))
  // a directory decodes (walking it is the caller's choice)
  const dir = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [] }))
  assert.equal(decodeNode(parseCid(sha256Cid(0x70, dir).toString()), dir).type, 'directory')
})

test('walkDag lists the missing blocks of a partial DAG, counts what is there, and stops at missing inner nodes', async () => {
  // a narrow profile-independent DAG: 1 KiB chunks, 3 links per node → 10 leaves under 3 levels of inner nodes
  const narrow = { ...importerOptions(), chunker: fixedSize({ chunkSize: 1024 }), layout: balanced({ maxChildrenPerNode: 3 }) }
  const size = 10 * 1024
  const { root, blocks } = await importToMap(pattern(size, 5), narrow)
  const rootCid = parseCid(root.toString())
  const all = [...blocks.keys()]
  const leaves = all.filter(k => parseCid(k).code === 0x55)
  const inner = all.filter(k => parseCid(k).code === 0x70)
  assert.equal(leaves.length, 10)
  assert.ok(inner.length >= 5, `several inner levels (${inner.length} nodes)`)

  const whole = await walkDag(getter(blocks), rootCid)
  assert.deepEqual({ missing: whole.missing, present: whole.present, total: whole.total, size: whole.size, complete: whole.complete },
    { missing: [], present: all.length, total: all.length, size, complete: true })
  assert.deepEqual([...whole.nodes].sort(), all.sort())

  // two leaves gone: exactly those are missing
  const partial = new Map(blocks)
  const gone = [leaves[0]!, leaves[7]!]
  for (const k of gone) partial.delete(k)
  const walk = await walkDag(getter(partial), rootCid)
  assert.deepEqual([...walk.missing].sort(), [...gone].sort())
  assert.equal(walk.present, all.length - 2)
  assert.equal(walk.total, all.length, 'every inner node is there, so the total is known')
  assert.equal(walk.complete, false)

  // an inner node gone: it is missing, what is under it is unknown, the total is not known
  const child = decodeNode(rootCid, blocks.get(root.toString())!).children.find(c => c.cid.code === 0x70)!
  const below = decodeNode(child.cid, blocks.get(cidKey(child.cid))!).children.map(c => cidKey(c.cid))
  const noInner = new Map(blocks)
  noInner.delete(cidKey(child.cid))
  const cut = await walkDag(getter(noInner), rootCid)
  assert.deepEqual(cut.missing, [cidKey(child.cid)])
  assert.equal(cut.total, undefined)
  assert.equal(cut.complete, false)
  for (const k of below) assert.equal(cut.nodes.has(k), false, 'children of a missing node are not reached')

  // no root: the root is missing; checkLeaves false reads inner nodes only
  assert.deepEqual((await walkDag(getter(new Map()), rootCid)).missing, [cidKey(rootCid)])
  const log: string[] = []
  const listed = await walkDag(getter(blocks, log), rootCid, { checkLeaves: false })
  assert.equal(listed.complete, false, 'never complete without looking at leaves')
  assert.equal(listed.nodes.size, all.length)
  assert.equal(log.length, inner.length, 'only inner nodes were read')

  // a raw root, present and absent; onNode can refuse a node
  const leafCid = parseCid(leaves[3]!)
  assert.deepEqual((await walkDag(getter(blocks), leafCid)).size, 1024)
  assert.deepEqual((await walkDag(getter(new Map()), leafCid)).missing, [leaves[3]])
  await assert.rejects(walkDag(getter(blocks), rootCid, { onNode: () => { throw new InvalidBlockError('x', 'refused') } }), { name: 'InvalidBlockError' })
  const aborted = new AbortController()
  aborted.abort(new Error('stop'))
  await assert.rejects(walkDag(getter(blocks), rootCid, { signal: aborted.signal }), /stop/)
})

test('writeFileAtomic: writes whole files, link-if-absent keeps the first, and a failure leaves no temp file and the old file', async (t) => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'swarmdrop-content-'))
  t.after(async () => { await fsp.rm(dir, { recursive: true, force: true }) })
  const target = join(dir, 'file.bin')

  assert.equal(await writeFileAtomic(target, pattern(5000)), 5000)
  assert.deepEqual(await fsp.readFile(target), Buffer.from(pattern(5000)))
  assert.equal((await fsp.stat(target)).mode & 0o777, 0o600)
  await writeFileAtomic(target, [pattern(10), pattern(20, 2)], { mode: 0o644 })
  assert.deepEqual(await fsp.readFile(target), Buffer.concat([pattern(10), pattern(20, 2)]), 'replaced')

  // ifExists 'fail': EEXIST, the file that was there stays
  await assert.rejects(writeFileAtomic(target, pattern(7), { ifExists: 'fail' }), { code: 'EEXIST' })
  assert.equal((await fsp.stat(target)).size, 30)
  await writeFileAtomic(join(dir, 'new.bin'), pattern(7), { ifExists: 'fail' })
  assert.equal((await fsp.stat(join(dir, 'new.bin'))).size, 7)

  // the source fails half-way
  async function * failing (): AsyncGenerator<Uint8Array> {
    yield pattern(1000)
    throw new Error('source broke')
  }
  await assert.rejects(writeFileAtomic(target, failing()), /source broke/)
  // the rename fails (injected)
  const rename = (async () => { throw Object.assign(new Error('EIO: rename'), { code: 'EIO' }) }) as unknown as typeof fsp.rename
  await assert.rejects(writeFileAtomic(target, pattern(3), { fs: { rename } }), { code: 'EIO' })
  // aborted before it starts
  await assert.rejects(writeFileAtomic(target, pattern(3), { signal: AbortSignal.abort() }), { name: 'AbortError' })
  // a temp folder given: the temp file lives there, and is gone after a failure
  const tmp = join(dir, 'tmp')
  await fsp.mkdir(tmp)
  await assert.rejects(writeFileAtomic(target, failing(), { tmpDir: tmp, tmpPrefix: 'x-' }), /source broke/)
  assert.deepEqual(await fsp.readdir(tmp), [])

  assert.deepEqual((await fsp.readdir(dir)).sort(), ['file.bin', 'new.bin', 'tmp'], 'no temp file left')
  assert.deepEqual(await fsp.readFile(target), Buffer.concat([pattern(10), pattern(20, 2)]), 'the old file is untouched by every failure')
})
