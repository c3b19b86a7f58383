/**
 * The control API's contract: one map from each method to its params, its
 * result and the events it streams, shared by the server (server.ts,
 * handlers.ts) and the client (client.ts). Everything here is a JSON wire
 * shape: CIDs and peer ids are strings, keys are base64url. These types are
 * the wire's, declared here on purpose rather than borrowed from the node's
 * library types, so that a refactor of the library cannot change the wire.
 *
 * The transport: a Unix domain socket `control.sock` in the repository
 * (mode 0600, owner only), one request per connection, newline-delimited JSON
 * both ways.
 *
 *   client → node:  {"v":1,"method":"ls","params":{}}\n
 *   node → client:  {"event":{...}}\n  (zero or more: progress, messages)
 *                   {"result":{...}}\n or {"error":{"name":"...","message":"..."}}\n
 *
 * The client closing the connection aborts the request (e.g. Ctrl-C during get).
 * `sub` never sends a result: it streams events until the client goes away.
 * A request with another `v`, an unknown method or params that do not match
 * the method's schema (params.ts) is answered with a named error.
 */
import { join } from 'node:path'

/** The protocol version: a request with another `v` is refused (UnsupportedVersionError). */
export const CONTROL_VERSION = 1
export const SOCKET_FILE = 'control.sock'
/** Longest request line accepted, in bytes. */
export const MAX_REQUEST_BYTES = 1024 * 1024

/** The control socket of the node running on `repo`. */
export function socketPath (repo: string): string {
  return join(repo, SOCKET_FILE)
}

/** Who the node is (`id`). */
export interface NodeIdentity {
  peerId: string
  name: string
  swarm: string
  addrs: string[]
  repo: string
  /** swarmdrop version of the node. */
  version: string
  pid: number
  /** A private swarm (--swarm-key): only nodes with the same key connect. */
  private?: boolean
  /** Of the private swarm's key: a hash that tells keys apart without revealing them (`a1b2:c3d4:e5f6:0718`). */
  keyFingerprint?: string
}

export interface StoreStats {
  /** Block files in the store. */
  blocks: number
  /** Their bytes. */
  bytes: number
  /** File records. */
  files: number
  /** Files kept by reference (read from where they lie, not copied). */
  refs: number
  /** Bytes of their manifests. */
  refBytes: number
  /** Bytes of the files kept by reference (not in the store). */
  referenced: number
  /** Bytes `gc` would free now. */
  freeable: number
}

/** `status`: the identity, uptime, connected peers and files. */
export interface NodeStatus extends NodeIdentity {
  /** ms since the node started. */
  uptime: number
  /** Connected peers of this node's swarm. */
  peers: number
  /** Connected peers of another (named) swarm, when there are any: not members, their files are not listed. */
  otherSwarmPeers?: number
  /** Files known in the swarm (catalog and local). */
  files: number
  /** Of them, complete in this node's store. */
  local: number
  store: StoreStats
  /** Blocks moved since the node started, and transfers running now. */
  transfer: TransferStatus
}

/** `status`'s transfer counters. */
export interface TransferStatus {
  /** Block bytes sent to peers since the node started. */
  uploaded: number
  /** Block bytes received from peers since the node started (duplicates and rejected blocks included). */
  downloaded: number
  /** Streams sending blocks to peers now. */
  uploads: number
  /** Fetches running now (gets, pins, replication). */
  downloads: number
}

export interface PeerEntry {
  id: string
  /** Nickname the peer announced, if known. */
  name?: string
  /** Its listening addresses (from identify), the connection's address only when none is known. */
  addrs: string[]
  /** Remote addresses of its open connections. */
  connections?: string[]
  connected: boolean
  /** In this node's swarm; false for a peer of another named swarm connected at the network level. */
  member: boolean
  /** How a connected peer is reached: a direct connection, or only through a relay (docs/WAN.md). */
  via?: 'direct' | 'relayed'
}

export interface SharedFile {
  cid: string
  /** The file's name (for an encrypted share: the real name, announced only as a placeholder). */
  name: string
  /** Bytes of the file (for an encrypted share: of the plaintext). */
  size: number
  /** Encrypted shares: the capability link `swarmdrop:<cid>#<key>` that fetches and decrypts it. */
  link?: string
  /** A folder: the files in it, at any depth (`size` is their bytes). */
  files?: number
  /** Kept by reference: read from where it is, not copied into the store. */
  byReference?: boolean
}

export interface ListedFile {
  cid: string
  name: string
  size: number
  /** Providers of the whole file connected now (this node included when it has the file). */
  providers: number
  /** Peers connected now holding part of it (downloading), counted apart. */
  partial: number
  /** Complete in this node's store. */
  local: boolean
  encrypted: boolean
  /** Pinned in this node's store; absent when there is no local record. */
  pinned?: boolean
  /** Kept by reference: the file it is read from and how it looks now (`changed`, `missing`: no longer served). */
  reference?: { path: string, state: 'ok' | 'changed' | 'missing' }
  /** A folder: the files in it (absent for a file). */
  files?: number
  /** Other names the same content is announced under, when any. */
  otherNames?: string[]
  /** With `ls CID` or `ls --providers`: who provides it. */
  providerList?: FileProviderEntry[]
}

export interface FileProviderEntry {
  peer: string
  name?: string
  /** Holds the whole file (false: part of it). */
  complete: boolean
  /** Connected now. */
  connected: boolean
  /** The node answering. */
  self: boolean
}

/** Progress of one file's import (the `share` method's event, and the CLI's bar). */
export interface ShareProgress {
  /** The path as given in the request. */
  path: string
  /** Bytes read so far. */
  read: number
  total?: number
  /** A folder: an entry not shared (a symbolic link, a special file), and why. */
  skipped?: string
  reason?: string
}

/** Progress of one fetch (the `get` method's event, and the CLI's bar). */
export interface FetchProgress {
  cid: string
  /** The file's name, when the node knows it. */
  name?: string
  /** File bytes present locally. */
  bytes: number
  total?: number
  /** Bytes received over the network in this fetch. */
  received: number
  providers: number
  /** Bytes per second. */
  rate: number
  /** A folder: the files in it, when known. */
  files?: number
}

export interface FetchedFile {
  cid: string
  /** The file's name, chosen as `nameFrom` says (with an output file path: the name it is known by). */
  name: string
  /**
   * Where the name came from: `output` the -o file path, `path` the last name of CID/PATH, `link`
   * sealed in the encrypted file, `local` this node's store, `announced` the first provider's
   * announcement (a remote peer's word), `cid` nobody named it.
   */
  nameFrom: 'output' | 'path' | 'link' | 'local' | 'announced' | 'cid'
  /** Other names announced for the same content (or given by this node's store); absent when none. */
  otherNames?: string[]
  /** Announced sizes that differ from `size` (what the blocks say and what was written); absent when none. */
  otherSizes?: number[]
  /** A provider announced the opposite `encrypted` flag of what the content's first bytes show. */
  encryptedDisputed?: boolean
  size: number
  /** Where the node wrote the file. */
  path: string
  /** Bytes that came over the network (less than size when the fetch resumed). */
  received: number
  /** Peers that sent blocks. */
  providers: number
  /** ms. */
  elapsed: number
  /** The file is an encrypted share (its first bytes show it): decrypted with the link's key, or (bare CID) written as ciphertext. */
  encrypted: boolean
  /** Fetched by its link and decrypted. */
  decrypted: boolean
  /** It was complete in the local store: written without asking the swarm. */
  local: boolean
  /** The store keeps it by reference to `path` rather than as a copy. */
  byReference: boolean
  /** A folder: the files written (`path` is the folder). */
  files?: number
}

/** One message on a topic (`sub` event). */
export interface TopicMessageEvent {
  topic: string
  /** Sender's peer id. */
  from: string
  /** Sender's nickname, if known. */
  name?: string
  /** The message as UTF-8 text. */
  data: string
  /** ISO time the node received it. */
  time: string
}

export interface GcStats { removedBlocks: number, removedBytes: number }

type Empty = Record<string, never>

/** Every method: its params, its result and the events it streams before the result. */
export interface ControlMethods {
  ping: { params: Empty, result: { ok: true }, events: never }
  id: { params: Empty, result: NodeIdentity, events: never }
  status: { params: Empty, result: NodeStatus, events: never }
  peers: { params: Empty, result: { peers: PeerEntry[] }, events: never }
  /** `paths` are absolute paths of regular files on the node's machine. */
  share: { params: { paths: string[], encrypt?: boolean, copy?: boolean }, result: { files: SharedFile[] }, events: { type: 'progress' } & ShareProgress }
  /** `cid`: that file only (an error when nobody lists it); `providers`: each file's providerList. */
  ls: { params: { cid?: string, providers?: boolean }, result: { files: ListedFile[] }, events: never }
  get: {
    params: {
      cid: string
      /** The key of a capability link (base64url): decrypt the file. */
      key?: string
      /** A file path, or a folder for the announced name (relative to cwd). */
      output?: string
      /** Folder for a relative output and the default one (absolute). */
      cwd: string
      /** ms without progress before the fetch fails. */
      timeout?: number
      /** Replace an existing output file (default: fail before fetching). */
      force?: boolean
      /** Keep a copy in the store (default: a reference to the output file). */
      copy?: boolean
    }
    result: FetchedFile
    events: { type: 'progress' } & FetchProgress
  }
  /** Streams the fetch's progress when the file is not complete here yet. */
  pin: { params: { cid: string }, result: { cid: string, pinned: true }, events: { type: 'progress' } & FetchProgress }
  unpin: { params: { cid: string }, result: { cid: string, pinned: false }, events: never }
  rm: { params: { cid: string }, result: { cid: string, removed: true }, events: never }
  /** Drops unpinned files, then every block no pinned file needs. */
  gc: { params: Empty, result: GcStats, events: never }
  /** `global`: the topic as named, shared by every swarm; else scoped to the node's swarm. */
  pub: { params: { topic: string, message?: string, global?: boolean }, result: { recipients: number }, events: never }
  /** Streams messages until the client goes away; never sends a result. */
  sub: { params: { topic: string, global?: boolean }, result: null, events: { subscribed: string } | TopicMessageEvent }
  stop: { params: Empty, result: { stopping: true }, events: never }
}

export type ControlMethod = keyof ControlMethods
export type ParamsOf<M extends ControlMethod> = ControlMethods[M]['params']
export type ResultOf<M extends ControlMethod> = ControlMethods[M]['result']
export type EventOf<M extends ControlMethod> = ControlMethods[M]['events']

export interface ControlRequest<M extends ControlMethod = ControlMethod> {
  v: number
  method: M
  params?: ParamsOf<M>
}

/** An error as it travels: the error's `name` and `message` (and its command-line wording, when it has one). */
export interface ControlErrorReply {
  name: string
  message: string
  cliMessage?: string
}

export type ControlReply =
  | { event: unknown }
  | { result: unknown }
  | { error: ControlErrorReply }
