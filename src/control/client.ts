/**
 * Client side of the control API (contract.ts): `request()` sends one typed
 * request, `connectControl(repo)` returns a client with a method per request
 * for scripts that drive a running node (as kubo-rpc-client does for kubo).
 * Uses node:net only, so commands that talk to a running node never load libp2p.
 *
 * @example
 * ```ts
 * import { connectControl } from 'swarmdrop'
 * const client = await connectControl(`${process.env.HOME}/.swarmdrop`)
 * const [file] = await client.share(['./notes.txt'])
 * console.log((await client.ls()).map(f => f.name), file.cid)
 * ```
 */
import { lstat, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { resolve as resolvePath } from 'node:path'
import { CustomProgressEvent } from 'progress-events'
import { CONTROL_VERSION, socketPath, type ControlMethod, type ControlReply, type EventOf, type FetchedFile, type FetchProgress, type GcStats, type ListedFile, type NodeIdentity, type NodeStatus, type ParamsOf, type PeerEntry, type ResultOf, type SharedFile, type TopicMessageEvent } from './contract.js'
import { RepoError } from '../util/errors.js'
import { notPrivateReason } from '../util/private-path.js'
import { ControlConnectionError, InvalidParamsError, MalformedRequestError, NoNodeError, RemoteError, RequestTooLargeError, UnknownMethodError, UnsupportedVersionError } from './errors.js'

export interface RequestOptions<E = unknown> {
  signal?: AbortSignal
  /** Called for each streamed event before the result. */
  onEvent?: (event: E) => void
}

/** The control API's own errors come back as their classes; any other error of the node as a RemoteError. */
function remoteError (name: string, message: string, cliMessage?: string): Error {
  switch (name) {
    case 'InvalidParamsError': return new InvalidParamsError('', '', message)
    case 'UnknownMethodError': return new UnknownMethodError('', message)
    case 'UnsupportedVersionError': return new UnsupportedVersionError(undefined, message)
    case 'MalformedRequestError': return Object.assign(new MalformedRequestError(''), { message })
    case 'RequestTooLargeError': return new RequestTooLargeError(message)
    default: return new RemoteError(name, message, cliMessage)
  }
}

/**
 * A socket in a folder another user owns or can write may be theirs: commands (and the
 * keys of links) are never sent to it. A missing folder or socket is left to connect().
 */
async function checkPrivate (repo: string, path: string): Promise<void> {
  for (const [file, info] of [[repo, await stat(repo).catch(() => undefined)], [path, await lstat(path).catch(() => undefined)]] as const) {
    const unsafe = info == null ? undefined : notPrivateReason(info)
    if (unsafe != null) throw new RepoError(repo, `${file}: ${unsafe}`)
  }
}

/** Sends one request to the node on `repo`; resolves with its result. */
export async function request<M extends ControlMethod> (repo: string, method: M, params: ParamsOf<M>, options: RequestOptions<EventOf<M>> = {}): Promise<ResultOf<M>> {
  options.signal?.throwIfAborted()
  const path = socketPath(repo)
  await checkPrivate(repo, path)
  return new Promise<ResultOf<M>>((resolve, reject) => {
    let settled = false
    const socket = connect(path)
    const finish = (err: Error | undefined, value?: ResultOf<M>): void => {
      if (settled) return
      settled = true
      options.signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err != null) reject(err)
      else resolve(value as ResultOf<M>)
    }
    const onAbort = (): void => { finish(options.signal?.reason ?? new Error('aborted')) }
    options.signal?.addEventListener('abort', onAbort, { once: true })

    socket.once('connect', () => {
      socket.write(JSON.stringify({ v: CONTROL_VERSION, method, params }) + '\n')
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') finish(new NoNodeError(repo, `no control socket at ${path}`))
      else if (err.code === 'ECONNREFUSED') finish(new NoNodeError(repo, `the control socket ${path} is stale: its node is gone`))
      else if (err.code === 'ENOTSOCK' || err.code === 'EACCES' || err.code === 'ENOTDIR') finish(new NoNodeError(repo, `cannot use ${path}: ${err.code}`))
      else finish(err)
    })
    const lines = createInterface({ input: socket })
    lines.on('error', () => {}) // the socket's own 'error' handler reports it
    lines.on('line', (line) => {
      let reply: ControlReply
      try {
        reply = JSON.parse(line)
      } catch {
        finish(new ControlConnectionError(`the node sent a malformed reply: ${line.slice(0, 80)}`))
        return
      }
      if ('event' in reply) {
        try {
          options.onEvent?.(reply.event as EventOf<M>)
        } catch (err: any) {
          finish(err)
        }
      } else if ('result' in reply) {
        finish(undefined, reply.result as ResultOf<M>)
      } else if ('error' in reply) {
        finish(remoteError(String(reply.error?.name), String(reply.error?.message), typeof reply.error?.cliMessage === 'string' ? reply.error.cliMessage : undefined))
      }
    })
    socket.once('close', () => { finish(new ControlConnectionError('the node closed the connection before answering (did it stop?)')) })
  })
}

/** True when a node answers on `repo`'s control socket. */
export async function isNodeRunning (repo: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await request(repo, 'ping', {}, { signal })
    return true
  } catch (err: any) {
    if (err.name === 'NoNodeError') return false
    throw err
  }
}

export interface ClientCallOptions {
  signal?: AbortSignal
}

export type GetProgressEvents = CustomProgressEvent<FetchProgress, 'control:get:progress'>

export interface ClientGetOptions extends ClientCallOptions {
  /** A file path, or a folder for the announced name (default: the announced name in cwd). */
  output?: string
  /** Folder for a relative output and the default one (default process.cwd()). */
  cwd?: string
  /** The key of an encrypted share (the link's `#key` part); a link as the target carries it. */
  key?: Uint8Array
  /** ms without progress before the fetch fails (the node's default otherwise). */
  timeout?: number
  /** Replace an existing output file (default: fail before fetching anything). */
  force?: boolean
  onProgress?: (evt: GetProgressEvents) => void
}

export interface Subscription {
  /** Ends the subscription. */
  unsubscribe: () => void
  /** Settles when the subscription ends (rejects if the node went away). */
  closed: Promise<void>
}

/** A running node's control API, one typed method per request (see contract.ts for the shapes). */
export interface ControlClient {
  readonly repo: string
  /** Any method of the contract, typed by its name. */
  request: <M extends ControlMethod>(method: M, params: ParamsOf<M>, options?: RequestOptions<EventOf<M>>) => Promise<ResultOf<M>>
  id: (options?: ClientCallOptions) => Promise<NodeIdentity>
  status: (options?: ClientCallOptions) => Promise<NodeStatus>
  peers: (options?: ClientCallOptions) => Promise<PeerEntry[]>
  /** Shares files of this machine (paths relative to process.cwd()); encrypted ones carry their link. */
  share: (paths: string[], options?: ClientCallOptions & { encrypt?: boolean }) => Promise<SharedFile[]>
  /** The swarm's files and the node's own. */
  ls: (options?: ClientCallOptions) => Promise<ListedFile[]>
  /** Fetches a CID or a capability link `swarmdrop:<cid>#<key>` and has the node write it out. */
  get: (target: string, options?: ClientGetOptions) => Promise<FetchedFile>
  pin: (cid: string, options?: ClientCallOptions) => Promise<void>
  unpin: (cid: string, options?: ClientCallOptions) => Promise<void>
  /** Withdraws the file from the swarm and removes it from the node's store. */
  rm: (cid: string, options?: ClientCallOptions) => Promise<void>
  gc: (options?: ClientCallOptions) => Promise<GcStats>
  /** Publishes a text message; resolves with the number of peers it was sent to. */
  publish: (topic: string, message: string, options?: ClientCallOptions) => Promise<number>
  /** Calls `onMessage` for each message on `topic`; resolves once the node subscribed. */
  subscribe: (topic: string, onMessage: (msg: TopicMessageEvent) => void, options?: ClientCallOptions) => Promise<Subscription>
  /** Asks the node to stop. */
  stop: (options?: ClientCallOptions) => Promise<void>
  /** Aborts this client's requests in flight (and its subscriptions). */
  close: () => void
}

/** A signal aborted when the client closes or the caller's signal aborts. */
function anySignal (closing: AbortSignal, signal?: AbortSignal): AbortSignal {
  return signal == null ? closing : AbortSignal.any([closing, signal])
}

/**
 * Connects to the node running on `repo` (its `control.sock`); rejects with
 * NoNodeError when none answers. Each call is one request on its own connection.
 */
export async function connectControl (repo: string, options: ClientCallOptions = {}): Promise<ControlClient> {
  const root = resolvePath(repo)
  await request(root, 'ping', {}, options)
  const closing = new AbortController()
  const call = async <M extends ControlMethod>(method: M, params: ParamsOf<M>, opts: RequestOptions<EventOf<M>> = {}): Promise<ResultOf<M>> =>
    request(root, method, params, { ...opts, signal: anySignal(closing.signal, opts.signal) })
  return {
    repo: root,
    request: call,
    id: async (o) => call('id', {}, o),
    status: async (o) => call('status', {}, o),
    peers: async (o) => (await call('peers', {}, o)).peers,
    share: async (paths, o = {}) => (await call('share', { paths: paths.map(p => resolvePath(p)), ...(o.encrypt != null ? { encrypt: o.encrypt } : {}) }, o)).files,
    ls: async (o) => (await call('ls', {}, o)).files,
    get: async (target, o = {}) => {
      let cid = target
      let key = o.key
      if (target.startsWith('swarmdrop:')) {
        const { parseLink } = await import('../crypto/index.js')
        const link = parseLink(target)
        cid = link.cid
        key = link.key
      }
      const params: ParamsOf<'get'> = { cid, cwd: resolvePath(o.cwd ?? '.') }
      if (o.output != null) params.output = o.output
      if (o.timeout != null) params.timeout = o.timeout
      if (o.force === true) params.force = true
      if (key != null) params.key = Buffer.from(key).toString('base64url')
      return call('get', params, {
        ...(o.signal != null ? { signal: o.signal } : {}),
        onEvent: (evt) => {
          if (evt.type !== 'progress') return
          const { type: _, ...info } = evt
          o.onProgress?.(new CustomProgressEvent('control:get:progress', info))
        }
      })
    },
    pin: async (cid, o) => { await call('pin', { cid }, o) },
    unpin: async (cid, o) => { await call('unpin', { cid }, o) },
    rm: async (cid, o) => { await call('rm', { cid }, o) },
    gc: async (o) => call('gc', {}, o),
    publish: async (topic, message, o) => (await call('pub', { topic, message }, o)).recipients,
    subscribe: async (topic, onMessage, o = {}) => {
      const controller = new AbortController()
      const signal = o.signal == null ? controller.signal : AbortSignal.any([controller.signal, o.signal])
      let subscribed!: () => void
      const ready = new Promise<void>(resolve => { subscribed = resolve })
      const closed = call('sub', { topic }, {
        signal,
        onEvent: (evt) => {
          if ('subscribed' in evt) subscribed()
          else onMessage(evt)
        }
      }).then(() => {}, (err) => { if (!signal.aborted) throw err })
      closed.catch(() => {}) // the caller may never look at `closed`: no unhandled rejection
      await Promise.race([ready, closed])
      return { unsubscribe: () => { controller.abort() }, closed }
    },
    stop: async (o) => { await call('stop', {}, o) },
    close: () => { closing.abort(new ControlConnectionError('the control client was closed')) }
  }
}
