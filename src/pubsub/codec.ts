/**
 * Wire format: the protobuf envelope (pb/messages.proto) turned into checked
 * domain messages and back. `decodeWire` is the whole validation of one
 * message: a message it returns satisfies every rule of docs/PROTOCOL.md,
 * anything else comes back as a reason to reject. It never throws.
 */
import { base58btc } from 'multiformats/bases/base58'
import * as Digest from 'multiformats/hashes/digest'
import { toString as bytesToString, fromString as bytesFromString } from 'uint8arrays'
import { cidKey, parseCid, MAX_NICKNAME_BYTES, SHA2_256, type CID } from '../content/index.js'
import {
  MAX_FILES_PER_MESSAGE, MAX_MEDIA_TYPE_BYTES, MAX_MESSAGE_BYTES,
  MAX_PROVIDERS_PER_RECORD, MAX_REQUEST_ID_BYTES, MIN_REQUEST_ID_BYTES
} from './constants.js'
import { AnnouncedFile, CatalogRecord, Envelope, type FileMeta as PbFileMeta } from './pb/messages.js'
import { PROTOCOL_VERSION } from './topics.js'
import { checkFileName, hasControlChar, utf8Length } from './names.js'
import { flatString } from '../util/strings.js'

/** Peer ids: identity multihash of a public key (Ed25519, secp256k1), or sha2-256 of a larger key (RSA). */
const IDENTITY = 0x00
const MAX_INLINE_KEY_BYTES = 42

/**
 * The canonical binary forms of a file CID of the profile (src/content): a CIDv1 is
 * version, codec, hash code and digest length (one byte each) and a 32-byte digest; a
 * CIDv0 is the bare 34-byte multihash. Any other length is a non-minimal varint or
 * trailing bytes.
 */
const CIDV1_BYTES = 36
const CIDV0_BYTES = 34

/** What a file is, as announced. `cid` is the CIDv1 in base32 (a CIDv0 on the wire is turned into it). */
export interface FileMeta {
  cid: string
  name: string
  size: number
  mediaType: string
  encrypted: boolean
  /** A folder: the files in it (absent for a file). */
  files?: number
}

export interface AnnouncedFileInfo {
  meta: FileMeta
  complete: boolean
}

export interface ProviderInfo {
  peer: string
  complete: boolean
  ageMs: number
}

export interface CatalogRecordInfo {
  meta: FileMeta
  providers: ProviderInfo[]
}

/** A decoded, valid message. Request ids are lower-case hex; `issued` is Envelope.issued_ms when set (the signer's clock). */
export type WireMessage =
  | { type: 'hello', name: string }
  | { type: 'announce', files: AnnouncedFileInfo[], issued?: number }
  | { type: 'withdraw', cids: string[], issued?: number }
  | { type: 'have', cid: string, complete: boolean, requestId?: string, issued?: number }
  | { type: 'catalog-answer', requestId: string, records: CatalogRecordInfo[] }
  | { type: 'want', requestId: string, cid: string }
  | { type: 'catalog-request', requestId: string, responder?: string }

export type WireType = WireMessage['type']

/** Which topic of the swarm a message travels on. */
export type TopicKind = 'announce' | 'request'

export const TOPIC_OF: Record<WireType, TopicKind> = {
  hello: 'announce',
  announce: 'announce',
  withdraw: 'announce',
  have: 'announce',
  'catalog-answer': 'announce',
  want: 'request',
  'catalog-request': 'request'
}

/** Why a message was rejected (stats and logs count these). */
export type RejectReason =
  | 'oversized' | 'undecodable' | 'version' | 'no-body' | 'several-bodies' | 'wrong-topic'
  | 'bad-cid' | 'bad-name' | 'bad-size' | 'bad-media-type' | 'bad-request-id' | 'bad-peer'
  | 'empty-list' | 'too-many' | 'duplicate'

export type DecodeResult = { ok: true, message: WireMessage } | { ok: false, reason: RejectReason }

class Invalid extends Error {
  readonly reason: RejectReason
  constructor (reason: RejectReason) {
    super(reason)
    this.reason = reason
  }
}

export { utf8Length, hasControlChar, checkFileName } from './names.js'

const TOKEN = '[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}'
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:\\s*;[\\x20-\\x7e]*)?$`)

export function checkMediaType (mediaType: string): string | undefined {
  if (mediaType.length > MAX_MEDIA_TYPE_BYTES || !MEDIA_TYPE.test(mediaType)) return `"${mediaType.slice(0, 80)}" is not a media type (type/subtype, at most ${MAX_MEDIA_TYPE_BYTES} printable ASCII bytes)`
  return undefined
}

export function checkSize (size: number): string | undefined {
  if (!Number.isSafeInteger(size) || size < 0) return `size ${size} is not a whole number of bytes from 0 to 2^53 - 1`
  return undefined
}

export function checkNickname (name: string): string | undefined {
  if (name.length === 0 || utf8Length(name) > MAX_NICKNAME_BYTES || hasControlChar(name)) return `a nickname is 1 to ${MAX_NICKNAME_BYTES} bytes without control characters`
  return undefined
}

/**
 * A file CID from its binary form, as the key every layer uses (CIDv1, base32), or undefined
 * when it is not a canonical CID of the profile. The rule itself is src/content's parseCid.
 */
export function cidFromBytes (bytes: Uint8Array): string | undefined {
  if (bytes.byteLength !== CIDV1_BYTES && bytes.byteLength !== CIDV0_BYTES) return undefined
  try {
    return cidKey(parseCid(bytes))
  } catch {
    return undefined
  }
}

/** A CID (text in any base, v0 or v1, or a CID object) as its key (CIDv1, base32), or undefined. */
export function normalizeCid (value: string | CID): string | undefined {
  try {
    return cidKey(parseCid(value))
  } catch {
    return undefined
  }
}

/** A copy on its own ArrayBuffer, the type protons' generated code wants. */
function owned (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes)
}

export function cidToBytes (cid: string): Uint8Array<ArrayBuffer> {
  return owned(parseCid(cid).bytes)
}

/** A peer id string from its binary multihash, or undefined when it is not one. */
export function peerFromBytes (bytes: Uint8Array): string | undefined {
  try {
    const digest = Digest.decode(bytes)
    const ok = (digest.code === IDENTITY && digest.digest.byteLength > 0 && digest.digest.byteLength <= MAX_INLINE_KEY_BYTES) ||
      (digest.code === SHA2_256 && digest.digest.byteLength === 32)
    return ok ? flatString(base58btc.baseEncode(bytes)) : undefined
  } catch {
    return undefined
  }
}

export function peerToBytes (peer: string): Uint8Array<ArrayBuffer> {
  return owned(base58btc.baseDecode(peer))
}

function requestIdFromBytes (bytes: Uint8Array | undefined): string {
  if (bytes == null || bytes.byteLength < MIN_REQUEST_ID_BYTES || bytes.byteLength > MAX_REQUEST_ID_BYTES) throw new Invalid('bad-request-id')
  return flatString(bytesToString(bytes, 'base16'))
}

function requestIdToBytes (id: string): Uint8Array<ArrayBuffer> {
  return owned(bytesFromString(id, 'base16'))
}

function cidOf (bytes: Uint8Array | undefined): string {
  const cid = bytes == null ? undefined : cidFromBytes(bytes)
  if (cid == null) throw new Invalid('bad-cid')
  return cid
}

function metaOf (pb: PbFileMeta | undefined): FileMeta {
  if (pb == null) throw new Invalid('bad-cid')
  const cid = cidOf(pb.cid)
  if (checkFileName(pb.name) != null) throw new Invalid('bad-name')
  if (checkSize(pb.size) != null) throw new Invalid('bad-size')
  if (checkMediaType(pb.mediaType) != null) throw new Invalid('bad-media-type')
  const meta: FileMeta = { cid, name: pb.name, size: pb.size, mediaType: pb.mediaType, encrypted: pb.encrypted }
  if (pb.files != null) meta.files = pb.files
  return meta
}

function checkCount (n: number, max: number): void {
  if (n === 0) throw new Invalid('empty-list')
  if (n > max) throw new Invalid('too-many')
}

function noDuplicates (keys: string[]): void {
  if (new Set(keys).size !== keys.length) throw new Invalid('duplicate')
}

function bodyOf (env: Envelope): WireMessage {
  if (env.hello != null) {
    if (checkNickname(env.hello.name) != null) throw new Invalid('bad-name')
    return { type: 'hello', name: env.hello.name }
  }
  if (env.announce != null) {
    checkCount(env.announce.files.length, MAX_FILES_PER_MESSAGE)
    const files = env.announce.files.map(f => ({ meta: metaOf(f.meta), complete: f.complete }))
    noDuplicates(files.map(f => f.meta.cid))
    return { type: 'announce', files }
  }
  if (env.withdraw != null) {
    checkCount(env.withdraw.cids.length, MAX_FILES_PER_MESSAGE)
    const cids = env.withdraw.cids.map(cidOf)
    noDuplicates(cids)
    return { type: 'withdraw', cids }
  }
  if (env.have != null) {
    const cid = cidOf(env.have.cid)
    if (env.have.requestId.byteLength === 0) return { type: 'have', cid, complete: env.have.complete }
    return { type: 'have', cid, complete: env.have.complete, requestId: requestIdFromBytes(env.have.requestId) }
  }
  if (env.catalogAnswer != null) {
    const requestId = requestIdFromBytes(env.catalogAnswer.requestId)
    checkCount(env.catalogAnswer.records.length, MAX_FILES_PER_MESSAGE)
    const records = env.catalogAnswer.records.map(r => {
      checkCount(r.providers.length, MAX_PROVIDERS_PER_RECORD)
      const providers = r.providers.map(p => {
        const peer = peerFromBytes(p.peer)
        if (peer == null) throw new Invalid('bad-peer')
        return { peer, complete: p.complete, ageMs: p.ageMs }
      })
      noDuplicates(providers.map(p => p.peer))
      return { meta: metaOf(r.meta), providers }
    })
    noDuplicates(records.map(r => r.meta.cid))
    return { type: 'catalog-answer', requestId, records }
  }
  if (env.want != null) {
    return { type: 'want', requestId: requestIdFromBytes(env.want.requestId), cid: cidOf(env.want.cid) }
  }
  if (env.catalogRequest != null) {
    const requestId = requestIdFromBytes(env.catalogRequest.requestId)
    if (env.catalogRequest.responder.byteLength === 0) return { type: 'catalog-request', requestId }
    const responder = peerFromBytes(env.catalogRequest.responder)
    if (responder == null) throw new Invalid('bad-peer')
    return { type: 'catalog-request', requestId, responder }
  }
  throw new Invalid('no-body')
}

function countBodies (env: Envelope): number {
  return [env.hello, env.announce, env.withdraw, env.have, env.catalogAnswer, env.want, env.catalogRequest]
    .filter(b => b != null).length
}

/**
 * Decodes and validates one message received on the `kind` topic.
 * Rules (docs/PROTOCOL.md, Validation): at most 64 KiB; a protobuf Envelope;
 * version 1; exactly one body, of a type that belongs on this topic; every
 * field within its limits.
 */
export function decodeWire (kind: TopicKind, data: Uint8Array): DecodeResult {
  if (data.byteLength > MAX_MESSAGE_BYTES) return { ok: false, reason: 'oversized' }
  let env: Envelope
  try {
    env = Envelope.decode(data)
  } catch {
    return { ok: false, reason: 'undecodable' }
  }
  if (env.version !== PROTOCOL_VERSION) return { ok: false, reason: 'version' }
  const bodies = countBodies(env)
  if (bodies === 0) return { ok: false, reason: 'no-body' }
  if (bodies > 1) return { ok: false, reason: 'several-bodies' }
  try {
    const message = bodyOf(env)
    if (TOPIC_OF[message.type] !== kind) return { ok: false, reason: 'wrong-topic' }
    if (env.issuedMs > 0 && (message.type === 'announce' || message.type === 'withdraw' || message.type === 'have')) {
      if (!Number.isSafeInteger(env.issuedMs)) return { ok: false, reason: 'bad-size' }
      message.issued = env.issuedMs
    }
    return { ok: true, message }
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.reason }
    return { ok: false, reason: 'undecodable' }
  }
}

function metaToPb (meta: FileMeta): PbFileMeta {
  const pb: PbFileMeta = { cid: cidToBytes(meta.cid), name: meta.name, size: meta.size, mediaType: meta.mediaType, encrypted: meta.encrypted }
  if (meta.files != null) pb.files = meta.files
  return pb
}

function announcedToPb (f: AnnouncedFileInfo): AnnouncedFile {
  return { meta: metaToPb(f.meta), complete: f.complete }
}

function recordToPb (r: CatalogRecordInfo): CatalogRecord {
  return {
    meta: metaToPb(r.meta),
    providers: r.providers.map(p => ({ peer: peerToBytes(p.peer), complete: p.complete, ageMs: Math.max(0, Math.min(0xffffffff, Math.round(p.ageMs))) }))
  }
}

/** Encodes a message (assumed valid: build it from checked values). */
export function encodeWire (msg: WireMessage): Uint8Array {
  const env: Partial<Envelope> = { version: PROTOCOL_VERSION }
  switch (msg.type) {
    case 'hello': env.hello = { name: msg.name }; break
    case 'announce': env.announce = { files: msg.files.map(announcedToPb) }; env.issuedMs = msg.issued ?? 0; break
    case 'withdraw': env.withdraw = { cids: msg.cids.map(cidToBytes) }; env.issuedMs = msg.issued ?? 0; break
    case 'have': env.have = { cid: cidToBytes(msg.cid), complete: msg.complete, requestId: msg.requestId == null ? new Uint8Array(0) : requestIdToBytes(msg.requestId) }; env.issuedMs = msg.issued ?? 0; break
    case 'catalog-answer': env.catalogAnswer = { requestId: requestIdToBytes(msg.requestId), records: msg.records.map(recordToPb) }; break
    case 'want': env.want = { requestId: requestIdToBytes(msg.requestId), cid: cidToBytes(msg.cid) }; break
    case 'catalog-request': env.catalogRequest = { requestId: requestIdToBytes(msg.requestId), responder: msg.responder == null ? new Uint8Array(0) : peerToBytes(msg.responder) }; break
  }
  return Envelope.encode(env)
}

/** Bytes one item adds to a batch message: its encoding plus tag and length prefix. */
export function announcedFileBytes (f: AnnouncedFileInfo): number {
  return AnnouncedFile.encode(announcedToPb(f)).byteLength + 4
}

export function catalogRecordBytes (r: CatalogRecordInfo): number {
  return CatalogRecord.encode(recordToPb(r)).byteLength + 4
}

/** Envelope bytes around a batch's items (version, body and request id headers), generously counted. */
export const BATCH_OVERHEAD_BYTES = 64

/** Splits items into batches whose summed size stays under `maxBytes`, at most `maxItems` each. */
export function batches<T> (items: T[], sizeOf: (item: T) => number, maxBytes: number, maxItems: number): T[][] {
  const out: T[][] = []
  let current: T[] = []
  let bytes = BATCH_OVERHEAD_BYTES
  for (const item of items) {
    const n = sizeOf(item)
    if (current.length > 0 && (bytes + n > maxBytes || current.length >= maxItems)) {
      out.push(current)
      current = []
      bytes = BATCH_OVERHEAD_BYTES
    }
    current.push(item)
    bytes += n
  }
  if (current.length > 0) out.push(current)
  return out
}
