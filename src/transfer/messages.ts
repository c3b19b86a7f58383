/**
 * Frames of `/swarmdrop/blocks/1.0.0` (docs/PROTOCOL.md, `## Block exchange`).
 *
 * Every frame is an unsigned-varint length prefix (it-length-prefixed) and a payload whose
 * first byte is its type:
 *
 *   CID list  = type, then for each CID: varint(byte length), CID bytes (binary CID)
 *   BLOCK     = 0x10, varint(CID byte length), CID bytes, block bytes (the rest of the frame)
 *
 * Blocks are framed without copying: the header and the block travel as one Uint8ArrayList.
 */
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_BLOCK_SIZE } from './constants.js'
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
  | { type: ListFrameType, cids: CID[] }
  | { type: typeof FrameType.BLOCK, cid: CID, data: Uint8Array }
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
export function encodeBlock (cid: CID, data: Uint8Array): Uint8ArrayList {
  const header = new Uint8Array(1 + varintLength(cid.bytes.byteLength) + cid.bytes.byteLength)
  header[0] = FrameType.BLOCK
  const offset = writeVarint(cid.bytes.byteLength, header, 1)
  header.set(cid.bytes, offset)
  return new Uint8ArrayList(header, data)
}

function decodeCid (bytes: Uint8Array): CID {
  try {
    return CID.decode(bytes)
  } catch (err: any) {
    throw new BlockProtocolError(`invalid CID (${String(err.message)})`)
  }
}

/** Decodes one frame payload (as delivered by it-length-prefixed). */
export function decodeFrame (frame: Uint8ArrayList | Uint8Array): Frame {
  if (frame.byteLength === 0) throw new BlockProtocolError('empty frame')
  const type = frame instanceof Uint8Array ? frame[0] ?? 0 : frame.get(0)
  if (type === FrameType.BLOCK) {
    // the header is small: parse it from the first bytes, take the block as one view/copy
    const head = frame.subarray(0, Math.min(frame.byteLength, 128))
    const [cidLen, cidStart] = readVarint(head, 1)
    if (cidLen === 0 || cidStart + cidLen > head.byteLength) throw new BlockProtocolError('truncated CID in BLOCK')
    const cid = decodeCid(head.subarray(cidStart, cidStart + cidLen))
    const dataLen = frame.byteLength - cidStart - cidLen
    if (dataLen > MAX_BLOCK_SIZE) throw new BlockProtocolError(`block of ${dataLen} bytes exceeds ${MAX_BLOCK_SIZE}`)
    return { type, cid, data: frame.subarray(cidStart + cidLen) }
  }
  if (!LIST_TYPES.has(type)) return { type: 'unknown', code: type }
  const buf = frame.subarray()
  const cids: CID[] = []
  let offset = 1
  while (offset < buf.byteLength) {
    const [len, start] = readVarint(buf, offset)
    if (len === 0 || start + len > buf.byteLength) throw new BlockProtocolError('truncated CID in list')
    cids.push(decodeCid(buf.subarray(start, start + len)))
    offset = start + len
  }
  return { type: type as ListFrameType, cids }
}
