/**
 * The one CID rule of swarmdrop: which CIDs it accepts (raw or dag-pb,
 * sha2-256 of 32 bytes; no identity hashes, no other codecs), how they are
 * parsed from text, bytes or another CID object, and how a block is verified
 * against one. A CIDv0 is turned into its v1 form at this edge, so every layer
 * above sees and keys CIDv1 only (base32 text).
 */
import { createHash } from 'node:crypto'
import type { Blockstore } from 'interface-blockstore'
import { CID as ParsedCID } from 'multiformats/cid'
import { DAG_PB_CODEC, RAW_CODEC, SHA2_256 } from './constants.js'
import { InvalidCidError } from './errors.js'
import { flatString } from '../util/strings.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * The CID type of the IPFS libraries the store is built on (importer,
 * exporter, dag-pb, interface-blockstore), whose multiformats may be newer
 * than the project's own. CIDs of either version are the same at run time
 * (`CID.asCID` accepts both), so parseCid's result is typed as this one.
 */
export type CID = Parameters<Blockstore['has']>[0]

/** Parses a CID string, its binary form, or a CID object: raw or dag-pb, sha2-256. Else InvalidCidError. */
export function parseCid (value: string | Uint8Array | CID): CID {
  let cid: ParsedCID
  if (typeof value === 'string') {
    const text = value.trim()
    if (text.length === 0) throw new InvalidCidError(value, 'it is empty')
    if (text.length > 200) throw new InvalidCidError(value, 'it is too long')
    try {
      cid = ParsedCID.parse(text)
    } catch (err: any) {
      throw new InvalidCidError(value, `it does not parse (${err?.message ?? String(err)})`)
    }
  } else if (value instanceof Uint8Array) {
    try {
      cid = ParsedCID.decode(value)
    } catch (err: any) {
      throw new InvalidCidError(`${value.byteLength} bytes`, `they do not decode as a CID (${err?.message ?? String(err)})`)
    }
  } else {
    const c = ParsedCID.asCID(value)
    if (c == null) throw new InvalidCidError(String(value), 'it is not a CID')
    cid = c
  }
  if (cid.code !== RAW_CODEC && cid.code !== DAG_PB_CODEC) {
    throw new InvalidCidError(String(value), `codec 0x${cid.code.toString(16)} is neither raw (0x55) nor dag-pb (0x70)`)
  }
  if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new InvalidCidError(String(value), `hash 0x${cid.multihash.code.toString(16)} is not sha2-256`)
  }
  return (cid.version === 1 ? cid : cid.toV1()) as unknown as CID
}

/**
 * The store's key of a CID: its base32 CIDv1 string (flat: keys are held by the thousand). A
 * CIDv0 gets the key of its CIDv1 form: the links of a CIDv0 tree's nodes are CIDv0, and the
 * exporter asks for them as they are (issue 13: a multi-block CIDv0 file was fetched, then
 * `get` found its leaves "not in the store").
 */
export function cidKey (cid: CID): string {
  return flatString((cid.version === 0 ? cid.toV1() : cid).toString())
}

/**
 * True when `bytes` hash (sha2-256) to the digest of `cid`. Synchronous SHA-256 (about 0.6 ms
 * per MiB with SHA-NI): WebCrypto's thread-pool digest copies the block first and cost more
 * main-thread time in profiles than hashing in place.
 */
/**
 * A block's bytes: one buffer, or the chunks it arrived in (a Uint8ArrayList from the network),
 * which the verifier and the store take as they are, without joining them.
 */
export type BlockBytes = Uint8Array | Uint8ArrayList

/** One buffer of a block's bytes (a copy only when it is in several chunks). */
export function contiguous (bytes: BlockBytes): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : bytes.subarray()
}

export function verifyBytes (cid: { multihash: { code: number, digest: Uint8Array } }, bytes: BlockBytes): boolean {
  // structural, so a CID of either multiformats version fits; only sha2-256 is ever true
  if (cid.multihash.code !== SHA2_256) return false
  const hash = createHash('sha256')
  // a block received in several chunks is hashed where it lies, not copied into one buffer first
  if (bytes instanceof Uint8Array) hash.update(bytes)
  else for (const chunk of bytes) hash.update(chunk)
  const digest = hash.digest()
  const want = cid.multihash.digest
  if (digest.byteLength !== want.byteLength) return false
  for (let i = 0; i < want.byteLength; i++) {
    if (digest[i] !== want[i]) return false
  }
  return true
}
