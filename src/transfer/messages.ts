/**
 * Frames of `/swarmdrop/blocks/1.0.0` (docs/PROTOCOL.md, `## Block exchange`).
 *
 * Every frame is an unsigned-varint length prefix (it-length-prefixed) and a payload whose
 * first byte is its type:
 *
 *   CID list  = type, then for each CID: varint(byte length), CID bytes (binary CID)
 *   BLOCK     = 0x10, varint(CID byte length), CID bytes, block bytes (the rest of the frame)
 *
 * Blocks are framed without copying: the header and the block travel as one Uint8ArrayList, and
 * a received block is handed on as the chunks it arrived in (a Uint8ArrayList).
 * Decoding validates every CID (src/content's parseCid), copies it out of the frame, turns a
 * CIDv0 into its v1 form and enforces MAX_CIDS_PER_FRAME; any breach is a BlockProtocolError.
 */
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { parseCid, type BlockBytes } from '../content/cid.js'
import { DAG_PB_CODEC, RAW_CODEC } from '../content/constants.js'
import { MAX_BLOCK_SIZE, MAX_CID_BYTES, MAX_CIDS_PER_FRAME, MAX_LIST_FRAME_SIZE } from './constants.js'
import { BlockProtocolError } from './errors.js'

export const FrameType = {
  /** requester → provider: tell me (now or later) which of these you have. */
  WANT_HAVE: 0x01,
  /** requester → provider: send these blocks. */
  WANT_BLOCK: 0x02,
  /** requester → provider: forget these wants (both kinds). */
  CANCEL: 0x03,
  /** provider → requester: one block. */
  BLOCK: 0x10,
  /** provider → requester: I have these. */
  HAVE: 0x11,
  /** provider → requester: I do not have these (answer to WANT_BLOCK). */
  DONT_HAVE: 0x12,
  /** provider → requester: over my limits now, ask again later or elsewhere. */
  BUSY: 0x13,
  /** provider → requester: another peer already got these from me; ask the others first, me again later. */
  LATER: 0x14
} as const

export type ListFrameType = typeof FrameType.WANT_HAVE | typeof FrameType.WANT_BLOCK | typeof FrameType.CANCEL |
  typeof FrameType.HAVE | typeof FrameType.DONT_HAVE | typeof FrameType.BUSY | typeof FrameType.LATER

export type Frame =
  | { type: ListFrameType, cids: CID[], v0: ReadonlySet<string> }
  | { type: typeof FrameType.BLOCK, cid: CID, v0: boolean, data: BlockBytes }
  | { type: 'unknown', code: number }

const LIST_TYPES = new Set<number>([FrameType.WANT_HAVE, FrameType.WANT_BLOCK, FrameType.CANCEL, FrameType.HAVE, FrameType.DONT_HAVE, FrameType.BUSY, FrameType.LATER])

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

function writeVarint (n: number, buf: Uint8Array, offset: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 0x80)
  }
  buf[offset++] = n
  return offset
}

/** Reads a varint (at most 4 bytes: CIDs are short); returns [value, next offset]. */
function readVarint (buf: Uint8Array, offset: number): [number, number] {
  let value = 0
  let shift = 0
  for (let i = 0; i < 4; i++) {
    const b = buf[offset++]
    if (b === undefined) throw new BlockProtocolError('truncated varint')
    value += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return [value, offset]
    shift += 7
  }
  throw new BlockProtocolError('varint too long')
}

/** Encodes a CID list frame. Callers keep lists at or under MAX_CIDS_PER_FRAME. */
export function encodeList (type: ListFrameType, cids: CID[]): Uint8Array {
  let size = 1
  for (const cid of cids) size += varintLength(cid.bytes.byteLength) + cid.bytes.byteLength
  const out = new Uint8Array(size)
  out[0] = type
  let offset = 1
  for (const cid of cids) {
    offset = writeVarint(cid.bytes.byteLength, out, offset)
    out.set(cid.bytes, offset)
    offset += cid.bytes.byteLength
  }
  return out
}

/** Encodes a BLOCK frame payload without copying the block. */
export function encodeBlock (cid: CID, data: BlockBytes): Uint8ArrayList {
  const header = new Uint8Array(1 + varintLength(cid.bytes.byteLength) + cid.bytes.byteLength)
  header[0] = FrameType.BLOCK
  const offset = writeVarint(cid.bytes.byteLength, header, 1)
  header.set(cid.bytes, offset)
  return new Uint8ArrayList(header, data)
}

/**
 * One CID of a frame, validated by the content profile's one rule (parseCid: raw or dag-pb,
 * sha2-256 of 32 bytes, no identity hash), in canonical form, and copied out of the frame so
 * that nothing keeps the frame alive. Returns the CIDv1 and whether it came as a CIDv0.
 *
 * The profile's CIDs have exactly two canonical binary forms, CIDv1 = 0x01, codec (0x55 or
 * 0x70), 0x12, 0x20, 32 bytes, and CIDv0 = 0x12, 0x20, 32 bytes: anything else (a longer
 * varint, bytes after the CID) is refused before parsing, with parseCid's reason when it has one.
 */
function decodeCid (bytes: Uint8Array): { cid: CID, v0: boolean } {
  const n = bytes.byteLength
  const v0 = n === 34 && bytes[0] === 0x12 && bytes[1] === 0x20
  const v1 = n === MAX_CID_BYTES && bytes[0] === 0x01 && (bytes[1] === RAW_CODEC || bytes[1] === DAG_PB_CODEC) && bytes[2] === 0x12 && bytes[3] === 0x20
  if (n > MAX_CID_BYTES) throw new BlockProtocolError(`a CID of ${n} bytes (at most ${MAX_CID_BYTES})`)
  const copy = bytes.slice()
  let parsed: CID
  try {
    parsed = CID.asCID(parseCid(copy)) as CID
  } catch (err: any) {
    throw new BlockProtocolError(`unacceptable CID (${String(err.message)})`)
  }
  if (!v0 && !v1) throw new BlockProtocolError('a CID not in canonical form')
  return { cid: parsed, v0 }
}

const NO_V0: ReadonlySet<string> = new Set()

/**
 * Decodes one frame payload (as delivered by it-length-prefixed).
 *
 * Every CID comes out as CIDv1 (the one form every layer keys on); `v0` holds the keys of
 * those that were sent as CIDv0, so that a provider answers in the form that was asked.
 */
export function decodeFrame (frame: Uint8ArrayList | Uint8Array): Frame {
  if (frame.byteLength === 0) throw new BlockProtocolError('empty frame')
  const type = frame instanceof Uint8Array ? frame[0] ?? 0 : frame.get(0)
  if (type === FrameType.BLOCK) {
    // the header is small: parse it from the first bytes, take the block as one view/copy
    const head = frame.subarray(0, Math.min(frame.byteLength, 128))
    const [cidLen, cidStart] = readVarint(head, 1)
    if (cidLen === 0 || cidStart + cidLen > head.byteLength) throw new BlockProtocolError('truncated CID in BLOCK')
    const { cid, v0 } = decodeCid(head.subarray(cidStart, cidStart + cidLen))
    const dataLen = frame.byteLength - cidStart - cidLen
    if (dataLen > MAX_BLOCK_SIZE) throw new BlockProtocolError(`block of ${dataLen} bytes exceeds ${MAX_BLOCK_SIZE}`)
    // the block stays in the chunks it arrived in: hashed and written from them, never joined (issue 12)
    const data = frame instanceof Uint8Array ? frame.subarray(cidStart + cidLen) : frame.sublist(cidStart + cidLen)
    return { type, cid, v0, data }
  }
  if (!LIST_TYPES.has(type)) return { type: 'unknown', code: type }
  // a list of MAX_CIDS_PER_FRAME of the longest CIDs fits in MAX_LIST_FRAME_SIZE: refuse the rest unread
  if (frame.byteLength > MAX_LIST_FRAME_SIZE) throw new BlockProtocolError(`a CID list frame of ${frame.byteLength} bytes (at most ${MAX_LIST_FRAME_SIZE})`)
  const buf = frame.subarray()
  const cids: CID[] = []
  let v0: Set<string> | undefined
  let offset = 1
  while (offset < buf.byteLength) {
    if (cids.length === MAX_CIDS_PER_FRAME) throw new BlockProtocolError(`more than ${MAX_CIDS_PER_FRAME} CIDs in one frame`)
    const [len, start] = readVarint(buf, offset)
    if (len === 0 || start + len > buf.byteLength) throw new BlockProtocolError('truncated CID in list')
    const item = decodeCid(buf.subarray(start, start + len))
    cids.push(item.cid)
    if (item.v0) (v0 ??= new Set()).add(item.cid.toString())
    offset = start + len
  }
  return { type: type as ListFrameType, cids, v0: v0 ?? NO_V0 }
}

/** The CID as it goes on the wire to a peer that asked for it as CIDv0 (`v0`) or CIDv1. */
export function wireCid (cid: CID, v0: boolean): CID {
  return v0 && cid.code === DAG_PB_CODEC ? cid.toV0() : cid
}
