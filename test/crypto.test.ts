import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { encrypt, openEncrypted, generateContentKey, formatLink, parseLink, looksEncrypted, HEADER_LENGTH, TAG_LENGTH, type EncryptedMeta } from '../src/crypto/index.js'

async function * from (...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

const CHUNK = 1000

async function seal (plain: Uint8Array, key: Uint8Array, meta?: Partial<EncryptedMeta>): Promise<Uint8Array> {
  return collect(encrypt(from(plain), key, { name: 'secret.txt', mediaType: 'text/plain', size: plain.byteLength, ...meta }, { chunkSize: CHUNK }))
}

async function open (sealed: Uint8Array, key: Uint8Array): Promise<{ meta: EncryptedMeta, bytes: Uint8Array }> {
  // feed in odd-sized pieces to exercise the reader
  const pieces: Uint8Array[] = []
  for (let i = 0; i < sealed.byteLength; i += 777) pieces.push(sealed.subarray(i, i + 777))
  const { meta, data } = await openEncrypted(from(...pieces), key)
  return { meta, bytes: await collect(data) }
}

test('encrypted round trip at chunk boundaries keeps bytes and metadata; ciphertext hides the plaintext', async () => {
  const key = generateContentKey()
  for (const size of [0, 1, CHUNK - 30, CHUNK, CHUNK + 1, 3 * CHUNK, 10_000]) {
    const plain = new Uint8Array(Buffer.from('MARKER-'.repeat(Math.ceil(size / 7)).slice(0, size)))
    const sealed = await seal(plain, key)
    assert.ok(looksEncrypted(sealed))
    if (size >= 7) assert.equal(Buffer.from(sealed).indexOf('MARKER-'), -1, 'no plaintext in the ciphertext')
    assert.equal(Buffer.from(sealed).indexOf('secret.txt'), -1, 'the name is encrypted too')
    const { meta, bytes } = await open(sealed, key)
    assert.deepEqual(meta, { name: 'secret.txt', mediaType: 'text/plain', size })
    assert.deepEqual(bytes, plain)
  }
})

test('any tampering is a DecryptionError: flipped bit, truncation, dropped last chunk, reordered chunks, wrong key', async () => {
  const key = generateContentKey()
  const plain = new Uint8Array(randomBytes(3 * CHUNK + 100))
  const sealed = await seal(plain, key)
  const sealedChunk = CHUNK + TAG_LENGTH
  const body = sealed.subarray(HEADER_LENGTH)
  const chunks: Uint8Array[] = []
  for (let i = 0; i < body.byteLength; i += sealedChunk) chunks.push(body.subarray(i, i + sealedChunk))
  const hdr = sealed.subarray(0, HEADER_LENGTH)
  const join = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))

  const flipped = new Uint8Array(sealed)
  flipped[HEADER_LENGTH + 2 * sealedChunk + 5]! ^= 1
  const cases: Record<string, Uint8Array> = {
    'flipped bit': flipped,
    'truncated mid-chunk': sealed.subarray(0, sealed.byteLength - 10),
    'dropped last chunk': join(hdr, ...chunks.slice(0, -1)),
    'reordered chunks': join(hdr, chunks[0]!, chunks[2]!, chunks[1]!, chunks[3]!),
    'header changed': join(new Uint8Array([...hdr.subarray(0, 12), ...hdr.subarray(12).map(b => b ^ 0xff)]), ...chunks)
  }
  for (const [what, bytes] of Object.entries(cases)) {
    await assert.rejects(open(bytes, key), { name: 'DecryptionError' }, what)
  }
  await assert.rejects(open(sealed, generateContentKey()), { name: 'DecryptionError' }, 'wrong key')
  await assert.rejects(open(new Uint8Array(Buffer.from('just a plain file, not encrypted')), key), { name: 'NotEncryptedError' })
})

test('capability links carry CID and key; malformed links are named errors', () => {
  const key = generateContentKey()
  const cid = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
  const link = formatLink(cid, key)
  assert.match(link, /^swarmdrop:bafk[a-z2-7]+#[A-Za-z0-9_-]{43}$/)
  const parsed = parseLink(link)
  assert.equal(parsed.cid, cid)
  assert.deepEqual(parsed.key, key)
  for (const bad of ['swarmdrop:' + cid, 'swarmdrop:notacid#' + 'a'.repeat(43), 'swarmdrop:' + cid + '#short', cid]) {
    assert.throws(() => parseLink(bad), { name: 'InvalidLinkError' })
  }
})
