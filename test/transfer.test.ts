import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import * as errors from '../src/transfer/errors.js'
import { decodeFrame, encodeBlock, encodeList, FrameType } from '../src/transfer/messages.js'
import type { FetchProgress, TransferFetchEvents } from '../src/transfer/index.js'
import { randomContent, readFile, startPeers } from './fixtures/transfer-peers.js'

const MiB = 1024 * 1024

test('frames round-trip: CID lists and blocks', () => {
  const a = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
  const b = CID.parse('bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi')
  const list = decodeFrame(encodeList(FrameType.WANT_BLOCK, [a, b]))
  assert.equal(list.type, FrameType.WANT_BLOCK)
  assert.ok('cids' in list)
  assert.deepEqual(list.cids.map(c => c.toString()), [a.toString(), b.toString()])
  const data = randomContent(1000)
  const framed = encodeBlock(a, data)
  // as the decoder gets it: split into several chunks
  const whole = framed.subarray()
  const split = new Uint8ArrayList(whole.subarray(0, 5), whole.subarray(5, 600), whole.subarray(600))
  const block = decodeFrame(split)
  assert.equal(block.type, FrameType.BLOCK)
  assert.ok('data' in block)
  assert.equal(block.cid.toString(), a.toString())
  assert.deepEqual(block.data, data)
  assert.deepEqual(decodeFrame(new Uint8Array([0x7f, 1, 2])), { type: 'unknown', code: 0x7f })
  assert.throws(() => decodeFrame(new Uint8Array([FrameType.HAVE, 40, 1, 2])), { name: 'ProtocolError' })
  assert.throws(() => decodeFrame(new Uint8Array(0)), { name: 'ProtocolError' })
})

test('every error class carries its name', () => {
  const made: Error[] = [
    new errors.NotFoundInSwarmError('bafy', 10, 0),
    new errors.TransferTimeoutError('bafy', 10, 3),
    new errors.UnsupportedCidError('bafy', 'x'),
    new errors.InvalidCidError('nope'),
    new errors.InvalidBlockError('bafy', 'peer'),
    new errors.ProtocolError('x'),
    new errors.TransferNotStartedError()
  ]
  for (const err of made) {
    assert.equal(err.name, (err.constructor as { name: string }).name)
    assert.ok(err.name.endsWith('Error'))
    assert.ok(err.message.length > 0)
  }
})

test('2 peers: a 32 MiB file arrives byte-identical and progress reaches 100%', async (t) => {
  const [sharer, fetcher] = await startPeers(t, 2)
  assert.ok(sharer != null && fetcher != null)
  const content = randomContent(32 * MiB)
  const cid = await sharer.store.add(content)
  let last: FetchProgress | undefined
  let blockEvents = 0
  const result = await fetcher.transfer.fetch(cid, {
    providers: [sharer.id],
    timeout: 3000,
    onProgress: (evt: TransferFetchEvents) => {
      if (evt.type === 'transfer:fetch:block') blockEvents++
      if (evt.type === 'transfer:fetch:block' || evt.type === 'transfer:fetch:complete') last = evt.detail
    }
  })
  assert.equal(result.size, content.byteLength)
  assert.equal(result.blocks, 33)
  assert.equal(blockEvents, 33)
  assert.equal(last?.bytes, content.byteLength)
  assert.equal(last?.total, content.byteLength)
  assert.equal(last?.totalBlocks, 33)
  assert.deepEqual(await readFile(fetcher.store, cid), content)
  assert.equal(sharer.transfer.stats().served.byPeer[fetcher.id]?.blocks, 33)
})
