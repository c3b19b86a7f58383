/**
 * The store without a node: `ls`, `rm`, `pin`, `unpin`, `gc`, `status` and a
 * `get` of a file complete here work on the repository directly when no node
 * runs on it. The repository lock (repo.ts) is taken for the time of the
 * command, so a node cannot start on the repository meanwhile (and a running
 * node's lock refuses this with RepoLockedError). No network module is
 * loaded: nothing listens, nothing dials.
 */
import { join } from 'node:path'
import { parseTarget } from '../crypto/index.js'
import { createStore, type FileRecord, type Store } from '../storage/index.js'
import { createComponentLogger } from '../util/logger.js'
import type { CommandContext } from './commands/context.js'
import { get, type FetchedFile, type GetOptions } from './commands/get.js'
import { listLocal, storeStatus, type FilesStatus, type ListedFile } from './commands/ls.js'
import { ensureRepo, lockRepo } from './repo.js'

export interface LocalStore {
  store: Store
  /** Closes the store and releases the repository lock. */
  close: () => Promise<void>
}

/** Opens `<repo>/store` under the repository lock (RepoLockedError while a node runs on it). */
export async function openLocalStore (repo: string): Promise<LocalStore> {
  await ensureRepo(repo)
  const release = await lockRepo(repo)
  let store: Store
  try {
    store = await createStore({ path: join(repo, 'store') }, { logger: createComponentLogger('local') })
  } catch (err) {
    await release()
    throw err
  }
  return {
    store,
    close: async () => {
      try {
        await store.close()
      } finally {
        await release()
      }
    }
  }
}

/** Every file of the store (partial downloads too), as `ls` lists them. */
export async function listStore (store: Store): Promise<ListedFile[]> {
  return (await store.list()).map(listLocal)
}

/** What `status` says without a node: the store's files, size and what gc would free. */
export async function storeFilesStatus (store: Store): Promise<FilesStatus> {
  const records: FileRecord[] = await store.list()
  return { files: records.length, local: records.filter(r => r.complete).length, store: await storeStatus(store) }
}

/**
 * Writes a file that is complete in the store, as `get` would, without any
 * network: undefined when it is not complete here (or its reference broke),
 * so the caller fetches it from the swarm instead.
 */
export async function getFromStore (store: Store, target: string, options: GetOptions = {}): Promise<FetchedFile | undefined> {
  const { cid } = parseTarget(target)
  const rec = await store.get(cid)
  if (rec?.complete !== true || (await store.missing(cid)).length > 0) return undefined
  const log = createComponentLogger('local').forComponent('get')
  // the catalog of a node that does not run: empty
  const protocol = { entry: () => undefined }
  try {
    return await get({ store, log, protocol } as unknown as CommandContext, target, options)
  } catch (err: any) {
    if (err?.name === 'ReferenceChangedError' || err?.name === 'ReferenceMissingError') return undefined
    throw err
  }
}
