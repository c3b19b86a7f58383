/**
 * Share a file or a folder: import it into the store (pinned) and announce it. A folder is
 * one UnixFS directory (src/storage import-tree.ts), announced with its file count. With `encrypt: true` the
 * bytes are encrypted with a fresh key while they are imported; the swarm sees only
 * ciphertext and a placeholder name, and the capability link `swarmdrop:<cid>#<key>` is
 * what fetches and decrypts it (src/crypto).
 */
import { createReadStream } from 'node:fs'
import { basename } from 'node:path'
import { encrypt as encryptStream, ENCRYPTED_PLACEHOLDER_NAME, formatLink, generateContentKey } from '../../crypto/index.js'
import { guessMediaType, type FileRecord, type ImportInput, type ImportOptions } from '../../storage/index.js'
import { EncryptFolderError, EncryptInputError } from '../errors.js'
import { checkSharePath } from '../share-path.js'
import type { CommandContext } from './context.js'

export interface ShareOptions extends Omit<ImportOptions, 'byReference'> {
  /** Encrypt with a fresh key; the result carries the link that decrypts it (default false). */
  encrypt?: boolean
  /**
   * Copy the file's bytes into the store (default false: a file given by its
   * path is kept by reference, like kubo's `add --nocopy`; its leaves are read
   * from it and verified on every read, and a changed file is no longer served).
   * Bytes, streams and encrypted shares are always copied.
   */
  copy?: boolean
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
  /** The store's record (for an encrypted share: of the ciphertext, under the placeholder name). */
  record: FileRecord
  /** Kept by reference: the store reads the file where it is (no copy). */
  byReference?: boolean
}

/** Imports a file into the store (pinned) and announces it to the swarm. */
export async function share (c: CommandContext, input: ImportInput, options: ShareOptions = {}): Promise<SharedFile> {
  options.signal?.throwIfAborted()
  const { encrypt, copy, ...importOptions } = options
  if (encrypt === true && typeof input === 'string' && (await checkSharePath(input)).folder) throw new EncryptFolderError(input)
  if (encrypt !== true) {
    // a path is checked first (readable, a name the swarm accepts): a refusal costs no import;
    // a folder's path is imported as one UnixFS directory (the store's import; folders are copied),
    // a file's path is kept by reference unless `copy`
    if (typeof input === 'string' && options.name == null) await checkSharePath(input)
    const record = await importAndAnnounce(c, input, { ...importOptions, byReference: typeof input === 'string' && copy !== true })
    const byReference = typeof input === 'string' && copy !== true && record.files == null
    return { cid: record.cid, name: record.name, size: record.size, ...(record.files != null ? { files: record.files } : {}), ...(byReference ? { byReference } : {}), record }
  }
  const key = generateContentKey()
  let name: string
  let size: number
  let bytes: AsyncIterable<Uint8Array>
  if (typeof input === 'string') {
    const file = await checkSharePath(input)
    name = options.name ?? basename(file.path)
    size = file.size
    bytes = createReadStream(file.path, { signal: options.signal })
  } else if (input instanceof Uint8Array) {
    name = options.name ?? 'file'
    size = input.byteLength
    bytes = (async function * () { yield input })()
  } else {
    throw new EncryptInputError()
  }
  const ciphertext = encryptStream(bytes, key, { name, mediaType: options.mediaType ?? guessMediaType(name), size })
  const record = await importAndAnnounce(c, ciphertext, {
    ...importOptions,
    name: ENCRYPTED_PLACEHOLDER_NAME,
    mediaType: 'application/octet-stream',
    encrypted: true
  })
  return { cid: record.cid, name, size, link: formatLink(record.cid, key), record }
}

async function importAndAnnounce (c: CommandContext, input: ImportInput, options: ImportOptions): Promise<FileRecord> {
  const record = await c.store.import(input, options)
  // peers that asked for this file before it was here are told now
  c.transfer.notifyStored(record.cid)
  await c.protocol.announce({
    cid: record.cid,
    name: record.name,
    size: record.size,
    mediaType: record.mediaType,
    ...(record.encrypted === true ? { encrypted: true } : {}),
    ...(record.files != null ? { files: record.files } : {})
  }, options.signal != null ? { signal: options.signal } : {})
  return record
}
