/** Helpers of the pubsub tests and benchmarks: file announcements with real CIDs, counting events. */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { base58btc } from 'multiformats/bases/base58'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { FileAnnouncement } from '../../src/pubsub/index.js'
import { loadOrCreateIdentity } from '../../src/net/identity.js'
import { createNetwork, type Network, type TopicMessage } from '../../src/net/network.js'
import { waitFor } from '../../src/util/wait.js'

const RAW = 0x55

/** A CIDv1 (raw, sha2-256) of `seed`'s bytes. */
export async function cidOf (seed: string): Promise<string> {
  const digest = await sha256.digest(new TextEncoder().encode(seed))
  return CID.createV1(RAW, digest).toString()
}

/** A made-up peer id per number (identity multihash of a 36-byte protobuf Ed25519 key). */
export function fakePeer (i: number): string {
  const key = new Uint8Array(36)
  key.set([0x08, 0x01, 0x12, 0x20])
  new DataView(key.buffer).setUint32(4, i)
  return base58btc.baseEncode(new Uint8Array([0x00, 36, ...key]))
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

export type RawPeer = Network & { start: () => Promise<void>, stop: () => Promise<void> }

/**
 * A bare libp2p peer with gossipsub and no swarmdrop code above it (an independent implementation,
 * or an attacker): it publishes what a test hands it. Dialled to `target` and stopped by `t.after`;
 * resolves once it knows the target's subscriptions to `topics`.
 */
export async function rawPeer (t: { after: (fn: () => Promise<void>) => void }, dir: string, target: { getMultiaddrs: () => string[], peerId: string }, topics: string[], init: { agent?: string, subscribe?: boolean, onMessage?: (msg: TopicMessage) => void } = {}): Promise<RawPeer> {
  const repo = join(dir, `raw-${Math.random().toString(36).slice(2)}`)
  await mkdir(repo, { recursive: true })
  const privateKey = await loadOrCreateIdentity(repo)
  const net = await createNetwork({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, agent: init.agent ?? 'independent/1.0' })
  await net.start()
  t.after(async () => { await net.stop() })
  if (init.subscribe === true) for (const topic of topics) net.subscribe(topic)
  const onMessage = init.onMessage
  if (onMessage != null) net.addEventListener('message', (evt) => { onMessage(evt.detail) })
  await net.dial(target.getMultiaddrs()[0]!)
  await waitFor(() => topics.every(topic => net.getSubscribers(topic).includes(target.peerId)), { message: 'the target\'s subscriptions' })
  return net
}
