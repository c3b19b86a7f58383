/**
 * CARv1 (https://ipld.io/specs/transport/car/carv1/), written by hand: a varint-prefixed
 * DAG-CBOR header `{ roots: [cid], version: 1 }`, then each block as
 * varint(len(cid) + len(bytes)) ‖ cid ‖ bytes. The header has one fixed shape, so its
 * DAG-CBOR bytes are spelled out here (about twenty lines) rather than pulling @ipld/car and
 * a CBOR codec into the runtime dependencies; the gateway test reads our CARs with @ipld/car
 * and checks every block against its CID, independently of this code.
 */
import { varint } from 'multiformats'
import { decodeNode, DAG_PB_CODEC, cidKey, type CID } from '../content/index.js'

/** DAG-CBOR of a text string (short, < 24 bytes) as major type 3. */
function cborText (s: string): Uint8Array {
  const b = new TextEncoder().encode(s)
  return concat([Uint8Array.of(0x60 | b.byteLength), b])
}

/** DAG-CBOR of a CID: tag 42 over a byte string of 0x00 ‖ the CID's bytes. */
function cborCid (cid: CID): Uint8Array {
  const bytes = concat([Uint8Array.of(0), cid.bytes])
  const len = bytes.byteLength < 256 ? Uint8Array.of(0x58, bytes.byteLength) : Uint8Array.of(0x59, bytes.byteLength >> 8, bytes.byteLength & 0xff)
  return concat([Uint8Array.of(0xd8, 42), len, bytes])
}

export function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

function withLength (body: Uint8Array): Uint8Array {
  return concat([varint.encodeTo(body.byteLength, new Uint8Array(varint.encodingLength(body.byteLength))), body])
}

/** The CARv1 header naming `root`, with its length prefix. Map keys in DAG-CBOR order (shorter first). */
export function carHeader (root: CID): Uint8Array {
  return withLength(concat([
    Uint8Array.of(0xa2), cborText('roots'), Uint8Array.of(0x81), cborCid(root), cborText('version'), Uint8Array.of(0x01)
  ]))
}

/** One CAR section: a block with its CID and length prefix. */
export function carBlock (cid: CID, bytes: Uint8Array): Uint8Array {
  return withLength(concat([cid.bytes, bytes]))
}

/**
 * The blocks of the DAG under `root`, depth-first in link order (the gateway spec's
 * `order=dfs`), each once. `scope: 'block'` stops at the root (`dag-scope=block`).
 */
export async function * dagBlocks (root: CID, get: (cid: CID) => Promise<Uint8Array>, scope: 'all' | 'block' = 'all'): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  const seen = new Set<string>()
  const stack: CID[] = [root]
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    const key = cidKey(cid)
    if (seen.has(key)) continue
    seen.add(key)
    const bytes = await get(cid)
    yield { cid, bytes }
    if (scope === 'block' || cid.code !== DAG_PB_CODEC) continue
    const children = decodeNode(cid, bytes).children
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!.cid)
  }
}
