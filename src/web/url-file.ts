/**
 * `<repo>/web-url` (mode 0600): the page's URL with its token, written by `swarmdrop start`
 * while its web server runs and removed when it stops; `swarmdrop open` reads it.
 */
import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic-write.js'

export const WEB_URL_FILE = 'web-url'

export async function writeWebUrl (repo: string, url: string): Promise<() => Promise<void>> {
  const path = join(repo, WEB_URL_FILE)
  await writeFileAtomic(path, Buffer.from(url + '\n'), { mode: 0o600 })
  return async () => { await unlink(path).catch(() => {}) }
}

/** The URL, or undefined when no node with a web page runs on `repo`. */
export async function readWebUrl (repo: string): Promise<string | undefined> {
  try {
    const url = (await readFile(join(repo, WEB_URL_FILE), 'utf8')).trim()
    return url.startsWith('http://') ? url : undefined
  } catch {
    return undefined
  }
}
