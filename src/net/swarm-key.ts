/**
 * Swarm keys in kubo's format, so one key file serves kubo and swarmdrop:
 *
 *     /key/swarm/psk/1.0.0/
 *     /base16/
 *     <64 hex digits: 32 random bytes>
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { InvalidSwarmKeyError } from './errors.js'

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'

/** Validates a key file's content and returns it normalised (LF line ends, lower-case hex). */
export function parseSwarmKey (input: Uint8Array | string): Uint8Array {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input)
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l.length > 0)
  if (lines[0] !== HEADER) throw new InvalidSwarmKeyError(`the first line must be ${HEADER}`)
  if (lines[1] !== ENCODING) throw new InvalidSwarmKeyError(`the second line must be ${ENCODING} (other encodings are not supported)`)
  const hex = lines[2] ?? ''
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InvalidSwarmKeyError('the third line must be 64 hex digits')
  if (lines.length > 3) throw new InvalidSwarmKeyError('unexpected content after the key')
  return new TextEncoder().encode(`${HEADER}\n${ENCODING}\n${hex.toLowerCase()}`)
}

/** A new random swarm key file's content. */
export function generateSwarmKey (): string {
  return `${HEADER}\n${ENCODING}\n${randomBytes(32).toString('hex')}\n`
}

/** Reads and validates a swarm key file; every failure is an InvalidSwarmKeyError naming the file. */
export async function readSwarmKeyFile (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    throw new InvalidSwarmKeyError(`cannot read it (${err.code ?? err.message})`, path)
  }
  try {
    return parseSwarmKey(bytes)
  } catch (err: any) {
    throw new InvalidSwarmKeyError(err instanceof InvalidSwarmKeyError ? err.reason : String(err.message), path)
  }
}
