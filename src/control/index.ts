/**
 * The control API of a running node: the typed contract (method → params,
 * result, events), the server `swarmdrop start` runs on `<repo>/control.sock`,
 * and the client scripts use to drive it.
 *
 * @example
 * ```ts
 * import { connectControl } from 'swarmdrop'
 * const client = await connectControl('./repo')
 * const status = await client.status()
 * const [shared] = await client.share(['./photo.jpg'])
 * await client.get(shared.cid, { output: '/tmp/copy.jpg', onProgress: (evt) => console.log(evt.detail.bytes) })
 * ```
 */
export { connectControl, request, isNodeRunning, type ControlClient, type ClientCallOptions, type ClientGetOptions, type GetProgressEvents, type RequestOptions, type Subscription } from './client.js'
export { ControlServer, type ControlHandlers, type Handler, type HandlerContext } from './server.js'
export { createHandlers, type ControlFiles, type ControlLogEvent, type HandlerHost } from './handlers.js'
export { validateParams, parseRequest, isControlMethod, PARAMS } from './params.js'
export {
  CONTROL_VERSION, SOCKET_FILE, MAX_REQUEST_BYTES, socketPath,
  type ControlMethods, type ControlMethod, type ParamsOf, type ResultOf, type EventOf, type ControlRequest, type ControlReply, type ControlErrorReply,
  type NodeIdentity, type NodeStatus, type StoreStats, type TransferStatus, type PeerEntry, type SharedFile, type ListedFile, type FetchProgress, type FetchedFile, type TopicMessageEvent, type GcStats
} from './contract.js'
export { ControlConnectionError, InvalidParamsError, MalformedRequestError, NoNodeError, RemoteError, RequestTooLargeError, UnknownMethodError, UnsupportedVersionError } from './errors.js'
