/**
 * The server's edge: parses a request line and checks it against the
 * contract (contract.ts) before any handler runs. Params are flat objects of
 * strings, booleans, numbers and string arrays, so a table per method and a
 * dozen lines of checks do it; a schema library (zod, ajv) would be a new
 * runtime dependency for that.
 */
import { CONTROL_VERSION, type ControlMethod, type ControlMethods, type ParamsOf } from './contract.js'
import { InvalidParamsError, MalformedRequestError, UnknownMethodError, UnsupportedVersionError } from './errors.js'

type FieldType = 'string' | 'boolean' | 'number' | 'string[]'

interface Field {
  type: FieldType
  /** May be absent (or null, read as absent). */
  optional?: true
}

/** Every param of the method, with its type (the compiler checks the keys against the contract). */
type Schema<P> = { [K in keyof Required<P>]: Field }

const str: Field = { type: 'string' }
const optStr: Field = { type: 'string', optional: true }

/** The params of each method. */
export const PARAMS: { [M in ControlMethod]: Schema<ParamsOf<M>> } = {
  ping: {},
  id: {},
  status: {},
  peers: {},
  share: { paths: { type: 'string[]' }, encrypt: { type: 'boolean', optional: true }, copy: { type: 'boolean', optional: true } },
  ls: { cid: optStr, providers: { type: 'boolean', optional: true } },
  get: { cid: str, key: optStr, output: optStr, cwd: str, timeout: { type: 'number', optional: true }, force: { type: 'boolean', optional: true }, copy: { type: 'boolean', optional: true } },
  pin: { cid: str },
  unpin: { cid: str },
  rm: { cid: str },
  gc: {},
  pub: { topic: str, message: optStr, global: { type: 'boolean', optional: true } },
  sub: { topic: str, global: { type: 'boolean', optional: true } },
  stop: {}
}

export function isControlMethod (method: string): method is ControlMethod {
  return Object.hasOwn(PARAMS, method)
}

function typeOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

function matches (type: FieldType, value: unknown): boolean {
  switch (type) {
    case 'string': return typeof value === 'string'
    case 'boolean': return typeof value === 'boolean'
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'string[]': return Array.isArray(value) && value.every(v => typeof v === 'string')
  }
}

/** Checks `params` against the method's schema; returns them without null (absent) fields. */
export function validateParams<M extends ControlMethod> (method: M, params: unknown): ParamsOf<M> {
  const given: unknown = params ?? {}
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new InvalidParamsError(method, `params must be an object, got ${typeOf(given)}`)
  const schema: Record<string, Field> = PARAMS[method]
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(given)) {
    const field = Object.hasOwn(schema, key) ? schema[key] : undefined
    if (field == null) throw new InvalidParamsError(method, `unknown param "${key}"${Object.keys(schema).length > 0 ? ` (it takes ${Object.keys(schema).join(', ')})` : ' (it takes none)'}`)
    if (value == null && field.optional === true) continue
    if (!matches(field.type, value)) throw new InvalidParamsError(method, `"${key}" must be ${field.type === 'string[]' ? 'an array of strings' : `a ${field.type}`}, got ${typeOf(value)}`)
    out[key] = value
  }
  for (const [key, field] of Object.entries(schema)) {
    if (field.optional !== true && !Object.hasOwn(out, key)) throw new InvalidParamsError(method, `missing "${key}"`)
  }
  return out as ParamsOf<M>
}

/** A checked request: a known method of this version with valid params. */
export type ValidRequest = { [M in ControlMethod]: { method: M, params: ControlMethods[M]['params'] } }[ControlMethod]

/** Parses and checks one request line; throws the named error of the first problem. */
export function parseRequest (line: string): ValidRequest {
  let req: unknown
  try {
    req = JSON.parse(line)
  } catch {
    throw new MalformedRequestError('not JSON')
  }
  if (req == null || typeof req !== 'object' || Array.isArray(req)) throw new MalformedRequestError(`expected an object, got ${typeOf(req)}`)
  const { v, method, params } = req as Record<string, unknown>
  if (v !== CONTROL_VERSION) throw new UnsupportedVersionError(v)
  if (typeof method !== 'string') throw new MalformedRequestError('"method" must be a string')
  if (!isControlMethod(method)) throw new UnknownMethodError(method)
  return { method, params: validateParams(method, params) } as ValidRequest
}
