/**
 * The control API between `swarmdrop start` and the other commands: a Unix
 * domain socket `control.sock` in the repository (mode 0600, owner only),
 * one request per connection, newline-delimited JSON both ways.
 *
 *   client → node:  {"v":1,"method":"ls","params":{}}\n
 *   node → client:  {"event":{...}}\n  (zero or more: progress, messages)
 *                   {"result":{...}}\n or {"error":{"name":"...","message":"..."}}\n
 *
 * The client closing the connection aborts the request (e.g. Ctrl-C during get).
 * `sub` never sends a result: it streams events until the client goes away.
 */
import { join } from 'node:path'

export const CONTROL_VERSION = 1
export const SOCKET_FILE = 'control.sock'
/** Longest request line accepted, in bytes. */
export const MAX_REQUEST_BYTES = 1024 * 1024

export function socketPath (repo: string): string {
  return join(repo, SOCKET_FILE)
}

export interface ControlRequest {
  v: number
  method: string
  params?: Record<string, unknown>
}

export interface ControlError {
  name: string
  message: string
}

export type ControlReply =
  | { event: unknown }
  | { result: unknown }
  | { error: ControlError }
