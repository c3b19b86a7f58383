/**
 * Issue 18, local users: `get LINK` follows the same output rules as a plain `get` — an
 * existing file is kept unless forced, also against a concurrent `get` of the same link —,
 * a decrypted file may carry a name as long as the file system allows, and a refused
 * `get LINK` leaves nothing open, so the node still stops.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalSwarm } from '../src/testing/index.js'

type After = { after: (fn: () => Promise<void>) => void }

async function tempDir (t: After): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-encrypted-out-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('get LINK keeps an existing file unless forced, one of two concurrent gets wins, and the node still stops', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)
  const plaintext = new TextEncoder().encode('first draft\n'.repeat(20_000))
  const src = join(dir, 'draft.txt')
  await writeFile(src, plaintext)
  const shared = await alice!.share(src, { encrypt: true })
  const out = join(dir, 'out')
  await mkdir(out)

  const first = await bob!.get(shared.link!, { output: out + '/' })
  assert.equal(first.path, join(out, 'draft.txt'))
  await writeFile(first.path, 'my edits')
  await assert.rejects(bob!.get(shared.link!, { output: out + '/' }), { name: 'OutputExistsError' })
  assert.equal(await readFile(first.path, 'utf8'), 'my edits', 'the refused get left the file alone')

  const forced = await bob!.get(shared.link!, { output: out + '/', force: true })
  assert.deepEqual(new Uint8Array(await readFile(forced.path)), plaintext)

  // two gets of the link into an empty folder at once: one writes, the other is refused; no temp file stays
  const race = join(dir, 'race')
  await mkdir(race)
  const results = await Promise.allSettled([bob!.get(shared.link!, { output: race + '/' }), bob!.get(shared.link!, { output: race + '/' })])
  assert.deepEqual(results.map(r => r.status).sort(), ['fulfilled', 'rejected'])
  const refused = results.find(r => r.status === 'rejected') as PromiseRejectedResult
  assert.equal(refused.reason.name, 'OutputExistsError')
  assert.deepEqual(await readdir(race), ['draft.txt'])
  assert.deepEqual(new Uint8Array(await readFile(join(race, 'draft.txt'))), plaintext)

  // the refused gets closed their store readers: stop() completes and releases the repository
  await bob!.stop()
  assert.equal(bob!.isStarted(), false)
})

test('a decrypted file may have a name of 254 bytes (the temp file beside it is short)', async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)
  const name = 'é'.repeat(125) + '.txt'
  assert.equal(Buffer.byteLength(name), 254)
  const src = join(dir, name)
  await writeFile(src, 'a long name')
  const shared = await alice!.share(src, { encrypt: true })
  const out = join(dir, 'out')
  await mkdir(out)
  const got = await bob!.get(shared.link!, { output: out + '/' })
  assert.equal(got.name, name)
  assert.equal(await readFile(join(out, name), 'utf8'), 'a long name')
  assert.equal((await stat(join(out, name))).mode & 0o777, 0o666 & ~process.umask(), 'the mode of any new file (0666 less the umask)')
})
