/**
 * The node's long-term identity: an Ed25519 key in the repository.
 *
 * Created once with mode 0600 (temp file, fsync, link into place so two
 * starting processes cannot both win), reused on every start. A key file
 * that cannot be read back is an error; it is never replaced silently,
 * since that would change the node's peer id behind the user's back.
 */
import { open, readFile, link, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { IDENTITY_FILE } from './constants.js'
import { RepoError } from '../util/errors.js'
import { InvalidIdentityError } from './errors.js'

export async function loadOrCreateIdentity (repo: string): Promise<PrivateKey> {
  const path = join(repo, IDENTITY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return createIdentity(path)
    }
    throw new RepoError(repo, `cannot read ${path} (${err.code ?? err.message})`)
  }
  return parseIdentity(path, bytes)
}

function parseIdentity (path: string, bytes: Uint8Array): PrivateKey {
  if (bytes.byteLength === 0) {
    throw new InvalidIdentityError(path, 'the file is empty')
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes) as unknown as PrivateKey
  } catch (err: any) {
    throw new InvalidIdentityError(path, `it is not a libp2p private key (${err.message ?? String(err)})`)
  }
  if (key.type !== 'Ed25519') {
    throw new InvalidIdentityError(path, `it holds a ${key.type} key; swarmdrop identities are Ed25519`)
  }
  return key
}

async function createIdentity (path: string): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519') as unknown as PrivateKey
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(privateKeyToProtobuf(key as any))
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    // link() fails if the target exists: a concurrent start that won keeps its key
    await link(tmp, path)
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err
    return parseIdentity(path, await readFile(path))
  } finally {
    await unlink(tmp).catch(() => {})
  }
  return key
}
