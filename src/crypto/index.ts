/**
 * Encrypted shares: a file encrypted with a fresh random key before import,
 * so the swarm announces, stores and replicates only ciphertext. Whoever
 * holds the capability link `swarmdrop:<cid>#<key>` can fetch and decrypt.
 *
 * Format (version 1; docs/PROTOCOL.md, "Encrypted shares"):
 *
 *     header  = "SWDE" | version u8 = 1 | flags u8 = 0 | reserved u16 = 0 | chunkSize u32be | noncePrefix 8 bytes
 *     plaintext stream = metaLength u32be | meta (UTF-8 JSON {name, mediaType, size}) | file bytes
 *     ciphertext = header | chunk 0 | chunk 1 | ... ; chunk i = AES-256-GCM(plaintext[i*chunkSize ..+chunkSize])
 *                  with nonce = noncePrefix | u32be(i), AAD = header | u8(last ? 1 : 0), followed by its 16-byte tag
 *
 * Every chunk authenticates on its own (memory stays flat in both
 * directions); chunk numbers in the nonce stop reordering, and the
 * last-chunk flag in the AAD stops truncation.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { DecryptionError, InvalidLinkError, NotEncryptedError } from './errors.js'

export { DecryptionError, InvalidLinkError, NotEncryptedError } from './errors.js'

export const MAGIC = new TextEncoder().encode('SWDE')
export const FORMAT_VERSION = 1
export const HEADER_LENGTH = 20
export const TAG_LENGTH = 16
export const KEY_LENGTH = 32
/** Plaintext bytes per chunk (64 KiB): 0.02 % overhead, small memory. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024
/** Largest chunk a reader accepts, so a hostile header cannot make it buffer gigabytes. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024
/** Largest metadata record. */
export const MAX_META_LENGTH = 64 * 1024
/** Name announced for an encrypted share: the real name travels inside the ciphertext. */
export const ENCRYPTED_PLACEHOLDER_NAME = 'encrypted'
export const LINK_PREFIX = 'swarmdrop:'

export interface EncryptedMeta {
  name: string
  mediaType: string
  size: number
}

export function generateContentKey (): Uint8Array {
  return new Uint8Array(randomBytes(KEY_LENGTH))
}

export function formatLink (cid: string, key: Uint8Array): string {
  return `${LINK_PREFIX}${cid}#${Buffer.from(key).toString('base64url')}`
}

export function isLink (value: string): boolean {
  return value.startsWith(LINK_PREFIX)
}

/** A bare CID or a capability link `swarmdrop:<cid>#<key>`: the CID, and the key when it is a link. */
export function parseTarget (value: string): { cid: string, key?: Uint8Array } {
  return isLink(value) ? parseLink(value) : { cid: value }
}

export function parseLink (value: string): { cid: string, key: Uint8Array } {
  if (!value.startsWith(LINK_PREFIX)) throw new InvalidLinkError(value, `it does not start with ${LINK_PREFIX}`)
  const rest = value.slice(LINK_PREFIX.length)
  const hash = rest.indexOf('#')
  if (hash < 0) throw new InvalidLinkError(value, 'it has no #key part')
  const cidText = rest.slice(0, hash)
  const keyText = rest.slice(hash + 1)
  let cid: string
  try {
    cid = CID.parse(cidText).toString()
  } catch {
    throw new InvalidLinkError(value, 'the CID does not parse')
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(keyText)) throw new InvalidLinkError(value, 'the key is not 32 bytes of base64url')
  return { cid, key: new Uint8Array(Buffer.from(keyText, 'base64url')) }
}

function header (chunkSize: number, noncePrefix: Uint8Array): Uint8Array {
  const h = new Uint8Array(HEADER_LENGTH)
  h.set(MAGIC, 0)
  h[4] = FORMAT_VERSION
  new DataView(h.buffer).setUint32(8, chunkSize)
  h.set(noncePrefix, 12)
  return h
}

function nonce (prefix: Uint8Array, index: number): Uint8Array {
  const n = new Uint8Array(12)
  n.set(prefix, 0)
  new DataView(n.buffer).setUint32(8, index)
  return n
}

function aad (hdr: Uint8Array, last: boolean): Uint8Array {
  const a = new Uint8Array(HEADER_LENGTH + 1)
  a.set(hdr, 0)
  a[HEADER_LENGTH] = last ? 1 : 0
  return a
}

function sealChunk (key: Uint8Array, hdr: Uint8Array, index: number, plain: Uint8Array, last: boolean): Uint8Array {
  if (index > 0xffffffff) throw new RangeError('file too large for one encrypted stream')
  const cipher = createCipheriv('aes-256-gcm', key, nonce(hdr.subarray(12, 20), index))
  cipher.setAAD(aad(hdr, last))
  const body = cipher.update(plain)
  cipher.final()
  const out = new Uint8Array(body.byteLength + TAG_LENGTH)
  out.set(body, 0)
  out.set(cipher.getAuthTag(), body.byteLength)
  return out
}

function openChunk (key: Uint8Array, hdr: Uint8Array, index: number, sealed: Uint8Array, last: boolean): Uint8Array {
  if (sealed.byteLength < TAG_LENGTH) throw new DecryptionError(`chunk ${index} is shorter than its tag`)
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(hdr.subarray(12, 20), index))
  decipher.setAAD(aad(hdr, last))
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_LENGTH))
  const body = decipher.update(sealed.subarray(0, sealed.byteLength - TAG_LENGTH))
  try {
    decipher.final()
  } catch {
    throw new DecryptionError(`chunk ${index} fails authentication`)
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
}

/** Gathers an async byte stream into fixed-size pieces (the last may be short). */
async function * rechunk (source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(size)
  let fill = 0
  for await (const chunk of source) {
    let off = 0
    while (off < chunk.byteLength) {
      const n = Math.min(size - fill, chunk.byteLength - off)
      buf.set(chunk.subarray(off, off + n), fill)
      fill += n
      off += n
      if (fill === size) {
        yield buf
        buf = new Uint8Array(size)
        fill = 0
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill)
}

/** Encrypts a file stream (with its metadata) into the swarmdrop encrypted format. */
export async function * encrypt (source: AsyncIterable<Uint8Array>, key: Uint8Array, meta: EncryptedMeta, options: { chunkSize?: number } = {}): AsyncGenerator<Uint8Array> {
  if (key.byteLength !== KEY_LENGTH) throw new RangeError('the key must be 32 bytes')
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  const hdr = header(chunkSize, new Uint8Array(randomBytes(8)))
  yield hdr
  const metaBytes = new TextEncoder().encode(JSON.stringify(meta))
  const prefix = new Uint8Array(4 + metaBytes.byteLength)
  new DataView(prefix.buffer).setUint32(0, metaBytes.byteLength)
  prefix.set(metaBytes, 4)
  async function * plaintext (): AsyncGenerator<Uint8Array> {
    yield prefix
    yield * source
  }
  let index = 0
  let pending: Uint8Array | undefined
  // one chunk of look-ahead: the last chunk is sealed with the last flag
  for await (const piece of rechunk(plaintext(), chunkSize)) {
    if (pending != null) yield sealChunk(key, hdr, index++, pending, false)
    pending = piece
  }
  yield sealChunk(key, hdr, index, pending ?? new Uint8Array(0), true)
}

/** Reads exactly `n` bytes from an iterator over byte chunks; fewer at the end of the stream. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>
  private buf: Uint8Array = new Uint8Array(0)
  private done = false

  constructor (source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
  }

  async read (n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = []
    let have = 0
    while (have < n) {
      if (this.buf.byteLength === 0) {
        if (this.done) break
        const r = await this.it.next()
        if (r.done === true) { this.done = true; break }
        this.buf = r.value
        continue
      }
      const take = Math.min(n - have, this.buf.byteLength)
      parts.push(this.buf.subarray(0, take))
      this.buf = this.buf.subarray(take)
      have += take
    }
    if (parts.length === 1) return parts[0]!
    const out = new Uint8Array(have)
    let off = 0
    for (const p of parts) { out.set(p, off); off += p.byteLength }
    return out
  }

  async close (): Promise<void> {
    await this.it.return?.()
  }
}

export interface OpenedEncrypted {
  meta: EncryptedMeta
  /** The decrypted file bytes; reading them to the end (or an error) closes the source. */
  data: AsyncGenerator<Uint8Array>
  /** Closes the source without reading: call it when `data` will not be read to the end. */
  close: () => Promise<void>
}

/**
 * Opens an encrypted stream: reads and checks the header and metadata, then
 * returns the metadata and the decrypted file bytes as a stream. Any failure
 * to authenticate (a flipped bit, a dropped, reordered or truncated chunk, a
 * wrong key) is a DecryptionError, raised before the bytes of that chunk are
 * released. The source is closed on every path: an error, the end of `data`,
 * or `close()` when the caller gives up before reading.
 */
export async function openEncrypted (source: AsyncIterable<Uint8Array>, key: Uint8Array): Promise<OpenedEncrypted> {
  if (key.byteLength !== KEY_LENGTH) throw new RangeError('the key must be 32 bytes')
  const reader = new ByteReader(source)
  const hdr = await reader.read(HEADER_LENGTH)
  if (hdr.byteLength < HEADER_LENGTH || !MAGIC.every((b, i) => hdr[i] === b)) {
    await reader.close()
    throw new NotEncryptedError()
  }
  if (hdr[4] !== FORMAT_VERSION) {
    await reader.close()
    throw new DecryptionError(`unknown format version ${hdr[4]}`)
  }
  const chunkSize = new DataView(hdr.buffer, hdr.byteOffset).getUint32(8)
  if (chunkSize === 0 || chunkSize > MAX_CHUNK_SIZE) {
    await reader.close()
    throw new DecryptionError(`bad chunk size ${chunkSize}`)
  }
  const sealedSize = chunkSize + TAG_LENGTH
  let index = 0
  let next = await reader.read(sealedSize)
  async function * plaintext (): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const current = next
        if (current.byteLength < sealedSize) {
          yield openChunk(key, hdr, index++, current, true)
          return
        }
        next = await reader.read(sealedSize)
        const last = next.byteLength === 0
        yield openChunk(key, hdr, index++, current, last)
        if (last) return
      }
    } finally {
      await reader.close()
    }
  }
  const plain = new ByteReader(plaintext())
  let meta: EncryptedMeta
  try {
    meta = await readMeta(plain)
  } catch (err) {
    // a refused header or record must not leave the source (a store reader) open
    await plain.close()
    throw err
  }
  async function * data (): AsyncGenerator<Uint8Array> {
    try {
      let total = 0
      for (;;) {
        const piece = await plain.read(DEFAULT_CHUNK_SIZE)
        if (piece.byteLength === 0) break
        total += piece.byteLength
        yield piece
      }
      if (total !== meta.size) throw new DecryptionError(`size ${total} differs from the recorded ${meta.size}`)
    } finally {
      await plain.close()
    }
  }
  // close() also ends a source whose data was never read (return() on an unstarted generator runs no finally)
  return { meta, data: data(), close: async () => { await plain.close() } }
}

async function readMeta (plain: ByteReader): Promise<EncryptedMeta> {
  const lenBytes = await plain.read(4)
  if (lenBytes.byteLength < 4) throw new DecryptionError('no metadata')
  const metaLength = new DataView(lenBytes.buffer, lenBytes.byteOffset).getUint32(0)
  if (metaLength > MAX_META_LENGTH) throw new DecryptionError('metadata too long')
  const metaBytes = await plain.read(metaLength)
  let m: any
  try {
    m = JSON.parse(new TextDecoder().decode(metaBytes))
  } catch {
    throw new DecryptionError('unreadable metadata')
  }
  if (typeof m?.name !== 'string' || typeof m.mediaType !== 'string' || !Number.isSafeInteger(m.size) || m.size < 0) throw new DecryptionError('unreadable metadata')
  return { name: m.name, mediaType: m.mediaType, size: m.size }
}

/** True when the bytes start like a swarmdrop encrypted file. */
export function looksEncrypted (firstBytes: Uint8Array): boolean {
  return firstBytes.byteLength >= MAGIC.byteLength && MAGIC.every((b, i) => firstBytes[i] === b)
}
