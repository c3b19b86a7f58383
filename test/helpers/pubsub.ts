/** Helpers of the pubsub tests and benchmarks: file announcements with real CIDs, counting events. */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { FileAnnouncement } from '../../src/pubsub/index.js'

const RAW = 0x55

/** A CIDv1 (raw, sha2-256) of `seed`'s bytes. */
export async function cidOf (seed: string): Promise<string> {
  const digest = await sha256.digest(new TextEncoder().encode(seed))
  return CID.createV1(RAW, digest).toString()
}

export async function fileOf (seed: string, extra: Partial<FileAnnouncement> = {}): Promise<FileAnnouncement> {
  return { cid: await cidOf(seed), name: `${seed}.txt`, size: seed.length, mediaType: 'text/plain', ...extra }
}

/** Counts events of one type on an emitter until stopped; `filter` picks which count. */
export function countEvents<T> (emitter: EventTarget, type: string, filter: (detail: T) => boolean = () => true): { readonly count: number, stop: () => void } {
  let count = 0
  const listener = (evt: Event): void => {
    if (filter((evt as CustomEvent<T>).detail)) count++
  }
  emitter.addEventListener(type, listener)
  return {
    get count () { return count },
    stop: () => { emitter.removeEventListener(type, listener) }
  }
}

/**
 * A minimal protobuf writer for hand-made (and broken) messages: protons-runtime's own
 * writer cannot write a negative int64 (it encodes it as unsigned), which other
 * implementations can send.
 */
export const pb = {
  varint (value: bigint): number[] {
    let v = BigInt.asUintN(64, value)
    const out: number[] = []
    do {
      let byte = Number(v & 0x7fn)
      v >>= 7n
      if (v !== 0n) byte |= 0x80
      out.push(byte)
    } while (v !== 0n)
    return out
  },
  /** A varint field. */
  int (field: number, value: bigint | number): number[] {
    return [...pb.varint(BigInt(field << 3)), ...pb.varint(BigInt(value))]
  },
  /** A length-delimited field (bytes, string, message). */
  bytes (field: number, value: Uint8Array | number[] | string): number[] {
    const b = typeof value === 'string' ? [...new TextEncoder().encode(value)] : [...value]
    return [...pb.varint(BigInt((field << 3) | 2)), ...pb.varint(BigInt(b.length)), ...b]
  },
  /** An envelope (version 1) announcing one file with the given raw fields. */
  announce (meta: { cid: Uint8Array, name: string, size: bigint, mediaType: string }, version = 1): Uint8Array {
    const fileMeta = [...pb.bytes(1, meta.cid), ...pb.bytes(2, meta.name), ...pb.int(3, meta.size), ...pb.bytes(4, meta.mediaType)]
    const announced = [...pb.bytes(1, fileMeta), ...pb.int(2, 1)]
    return new Uint8Array([...pb.int(1, version), ...pb.bytes(3, pb.bytes(1, announced))])
  }
}
