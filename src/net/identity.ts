/**
 * The node's long-term identity: an Ed25519 key in the repository.
 *
 * Created once with mode 0600 by the durable writer (temp file, fsync, link
 * into place so two starting processes cannot both win, fsync of the
 * repository folder), reused on every start. A key file
 * that cannot be read back is an error; it is never replaced silently,
 * since that would change the node's peer id behind the user's back.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { IDENTITY_FILE } from './constants.js'
import { RepoError } from '../util/errors.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { IdentityNotPrivateError, InvalidIdentityError } from './errors.js'
import { notPrivateReason } from '../util/private-path.js'

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
  // a key another user planted or can read is not this node's secret
  const unsafe = notPrivateReason(await stat(path), { secret: true })
  if (unsafe != null) throw new IdentityNotPrivateError(path, unsafe)
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
  try {
    // link() into place fails if the file exists: a concurrent start that won keeps its key
    await writeFileAtomic(path, privateKeyToProtobuf(key as any), { mode: 0o600, ifExists: 'fail' })
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err
    return parseIdentity(path, await readFile(path))
  }
  return key
}
