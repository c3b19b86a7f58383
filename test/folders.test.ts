/**
 * Issue 14, first part: folders as UnixFS directories. A tree shared on one node and fetched
 * on another comes out identical, with the root CID ipfs-unixfs-importer gives for the
 * documented profile (computed here, not by swarmdrop's code); `get CID/sub/file` fetches
 * only that file's blocks and the directory nodes on its path; a hostile DAG (links named
 * `..`, `a/b`, absolute, duplicated) writes nothing outside the output folder.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { importer, type ImportCandidate } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createLocalSwarm } from '../src/testing/index.js'
import { createStore, createSwarmNode, type Store, type SwarmNode } from '../src/index.js'
import { LOOPBACK, runCli, spawnCli, startNode } from './helpers/cli.js'
import { decodeWire, encodeWire } from '../src/pubsub/codec.js'
import { Envelope } from '../src/pubsub/pb/messages.js'
import { waitFor } from '../src/util/wait.js'

type After = { after: (fn: () => Promise<void>) => void }

async function tempDir (t: After, prefix = 'swarmdrop-folders-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** The profile as docs/PROTOCOL.md ("Folders") writes it out, passed to the importer directly. */
const DOCUMENTED_PROFILE = {
  cidVersion: 1 as const,
  rawLeaves: true,
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: 1_048_576 }),
  layout: balanced({ maxChildrenPerNode: 1024 }),
  fieldOrder: 'links-first' as const,
  shardSplitThresholdBytes: 262_144,
  shardSplitStrategy: 'block-bytes' as const
}

function pattern (size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 >>> 0
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/**
 * A tree of 3 levels below its root with 50 files: one of 5 MiB, one of 2.5 MiB (3 leaves), one
 * empty, an empty folder, names with spaces and Unicode.
 */
async function makeTree (parent: string): Promise<{ root: string, files: number, bytes: number }> {
  const root = join(parent, 'Trip album ü')
  const dirs = ['docs', 'docs/notes', 'docs/notes/drafts ✎', 'pics ✓', 'pics ✓/raw', 'empty folder']
  for (const d of dirs) await mkdir(join(root, d), { recursive: true })
  const files: Array<[string, Uint8Array]> = [
    ['big file.bin', pattern(5 * 1_048_576, 1)],
    ['pics ✓/raw/wide.bin', pattern(2.5 * 1_048_576, 2)],
    ['docs/empty.txt', new Uint8Array(0)]
  ]
  const homes = ['', 'docs', 'docs/notes', 'docs/notes/drafts ✎', 'pics ✓', 'pics ✓/raw']
  for (let i = files.length; i < 50; i++) {
    const home = homes[i % homes.length]!
    const name = `note ${i} — naïve café 日本.txt`
    files.push([home === '' ? name : `${home}/${name}`, pattern(100 + i * 997, 10 + i)])
  }
  let bytes = 0
  for (const [rel, data] of files) {
    await writeFile(join(root, rel), data)
    bytes += data.byteLength
  }
  return { root, files: files.length, bytes }
}

/** Every entry under `dir`: relative path → 'dir' or the sha-256 and size of a file (independent of swarmdrop). */
async function snapshot (dir: string, rel = '', out = new Map<string, string>()): Promise<Map<string, string>> {
  const names = (await readdir(join(dir, rel))).sort()
  for (const n of names) {
    const r = rel === '' ? n : `${rel}/${n}`
    const st = await lstat(join(dir, r))
    if (st.isDirectory()) {
      out.set(r, 'dir')
      await snapshot(dir, r, out)
    } else {
      out.set(r, `${st.size}:${createHash('sha256').update(await readFile(join(dir, r))).digest('hex')}`)
    }
  }
  return out
}

/** The root CID ipfs-unixfs-importer gives the folder, walked here with node:fs (regular files and folders). */
async function importerRoot (dir: string, name: string): Promise<string> {
  const candidates: ImportCandidate[] = []
  const walk = async (rel: string): Promise<void> => {
    for (const n of await readdir(join(dir, rel))) {
      const r = rel === '' ? n : `${rel}/${n}`
      const st = await lstat(join(dir, r))
      if (st.isDirectory()) {
        candidates.push({ path: `${name}/${r}` })
        await walk(r)
      } else if (st.isFile()) {
        candidates.push({ path: `${name}/${r}`, content: await readFile(join(dir, r)) })
      }
    }
  }
  await walk('')
  const blocks = new Map<string, Uint8Array>()
  const store = { put: async (cid: any, bytes: Uint8Array) => { blocks.set(cid.toString(), bytes); return cid } }
  let root: string | undefined
  for await (const e of importer(candidates, store as any, DOCUMENTED_PROFILE)) if (e.path === name) root = e.cid.toString()
  assert.ok(root != null)
  return root
}

function received (node: SwarmNode): number {
  return node.transfer.stats().received.blocks
}

test('a 3-level folder of 50 files: shared on one node, fetched whole and by path on another; the root CID is the importer\'s', async (t) => {
  const dir = await tempDir(t)
  const { root, files, bytes } = await makeTree(dir)
  // a symbolic link is skipped, and said so
  await symlink(join(root, 'big file.bin'), join(root, 'docs', 'link to big'))
  const expectedCid = await importerRoot(root, 'Trip album ü')
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)

  const skipped: string[] = []
  const shared = await alice!.share(root, { onProgress: (evt) => { if (evt.type === 'store:import:skipped') skipped.push(`${evt.detail.path}: ${evt.detail.reason}`) } })
  assert.deepEqual(skipped, [`${join(root, 'docs', 'link to big')}: a symbolic link`])
  assert.equal(shared.cid, expectedCid, 'the root CID is ipfs-unixfs-importer\'s with the documented profile')
  assert.deepEqual({ name: shared.name, size: shared.size, files: shared.files }, { name: 'Trip album ü', size: bytes, files })
  await rm(join(root, 'docs', 'link to big'))
  assert.equal((await alice!.store.stat()).blocks, shared.record.blocks.total, 'the import wrote the DAG\'s blocks and no other')

  // the catalog names one entry for the folder, with its file count
  const listed = await alice!.ls()
  assert.deepEqual(listed.filter(f => f.cid === shared.cid).map(f => ({ name: f.name, size: f.size, files: f.files })), [{ name: 'Trip album ü', size: bytes, files }])

  // acceptance 2: one file deep inside, by path: its 4 blocks (3 leaves + its root) and the 3 folders on the path
  const out = join(dir, 'out')
  await mkdir(out)
  const before = received(bob!)
  const bytesBefore = bob!.transfer.stats().received.bytes
  const one = await bob!.get(`${shared.cid}/pics ✓/raw/wide.bin`, { output: out + '/' })
  assert.equal(one.path, join(out, 'wide.bin'))
  assert.deepEqual(await readFile(one.path), await readFile(join(root, 'pics ✓', 'raw', 'wide.bin')))
  assert.equal(received(bob!) - before, 3 + 4, 'only the path\'s folder nodes and the file\'s own blocks crossed the network')
  assert.equal(one.received, bob!.transfer.stats().received.bytes - bytesBefore, 'what get reports received counts the folder nodes too')
  // the written file is the copy: the store keeps the 3 folder nodes and the file's root, and reads the 3 leaves from wide.bin
  assert.equal(one.byReference, true)
  assert.equal((await bob!.store.stat()).blocks, 4, 'and nothing else is in the store')
  await assert.rejects(bob!.get(`${shared.cid}/pics ✓/../../etc`, { output: out + '/' }), { name: 'UnsafePathError' })
  await assert.rejects(bob!.get(`${shared.cid}/pics ✓/nothing here`, { output: out + '/' }), { name: 'PathNotInFolderError' })

  // a subfolder by path: the tree under it
  const sub = await bob!.get(`${shared.cid}/docs/notes`, { output: out + '/' })
  assert.equal(sub.path, join(out, 'notes'))
  assert.deepEqual(await snapshot(sub.path), await snapshot(join(root, 'docs', 'notes')))
  // fetched by path, the subfolder learns its file count once written, and is listed as a folder
  const subRecord = await bob!.store.get(sub.cid)
  assert.ok(sub.files != null && sub.files > 0)
  assert.deepEqual({ files: subRecord?.files, size: subRecord?.size, mediaType: subRecord?.mediaType }, { files: sub.files, size: sub.size, mediaType: 'inode/directory' })
  assert.equal((await bob!.ls()).find(f => f.cid === sub.cid)?.files, sub.files)

  // acceptance 1: the whole folder; what is already here is not fetched again
  const whole = await bob!.get(shared.cid, { output: out + '/' })
  assert.equal(whole.path, join(out, 'Trip album ü'))
  assert.equal(whole.files, files)
  assert.equal(whole.size, bytes)
  assert.deepEqual(await snapshot(whole.path), await snapshot(root), 'the trees are identical (empty file and empty folder included)')
  assert.deepEqual((await readdir(out)).sort(), ['Trip album ü', 'notes', 'wide.bin'], 'no .part folder is left')

  // again without --force: refused before anything is fetched; with force: replaced
  await assert.rejects(bob!.get(shared.cid, { output: out + '/' }), { name: 'OutputExistsError' })
  const again = await bob!.get(shared.cid, { output: out + '/', force: true })
  assert.equal(again.received, 0)
  assert.deepEqual(await snapshot(again.path), await snapshot(root))

  // an encrypted folder is refused, naming why
  await assert.rejects(alice!.share(root, { encrypt: true }), { name: 'EncryptFolderError' })
})

test('a hostile folder DAG (links named .., a/b, /abs, duplicates, a control character) writes nothing outside the output folder', async (t) => {
  const dir = await tempDir(t)
  const { nodes: [alice, bob] } = await createLocalSwarm(2, t)
  const put = async (bytes: Uint8Array, code: number): Promise<CID> => {
    const cid = CID.createV1(code, await sha256.digest(bytes))
    await alice!.store.putBlock(cid.toString(), bytes)
    return cid
  }
  const leaf = await put(new TextEncoder().encode('pwned'), 0x55)
  const folder = async (names: string[], sub?: { name: string, cid: CID }): Promise<CID> => {
    // the CID class of @ipld/dag-pb's multiformats: the same at run time
    const links: dagPb.PBLink[] = names.map(Name => ({ Name, Hash: leaf as any, Tsize: 5 }))
    if (sub != null) links.push({ Name: sub.name, Hash: sub.cid as any, Tsize: 100 })
    // dag-pb wants links sorted by name bytes (a stable sort keeps duplicates)
    links.sort((a, b) => Buffer.compare(Buffer.from(a.Name ?? ''), Buffer.from(b.Name ?? '')))
    return put(dagPb.encode({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: links }), 0x70)
  }
  const cases: Array<[string, CID]> = [
    ['parent', await folder(['ok.txt', '..'])],
    ['separator', await folder(['a/b'])],
    ['absolute', await folder(['/tmp/swarmdrop-pwned'])],
    ['backslash', await folder(['..\\..\\x'])],
    ['dot', await folder(['.'])],
    ['duplicate', await folder(['same.txt', 'same.txt'])],
    ['control', await folder(['bell\u0007.txt'])],
    ['nested', await folder(['fine.txt'], { name: 'inner', cid: await folder(['..']) })]
  ]
  const out = join(dir, 'out')
  await mkdir(out)
  for (const [name, cid] of cases) {
    await alice!.store.track(cid.toString(), { name })
    assert.equal((await alice!.store.get(cid.toString()))?.complete, true)
    await alice!.protocol.announce({ cid: cid.toString(), name, size: 5, mediaType: 'inode/directory', files: 1 })
    await assert.rejects(bob!.get(cid.toString(), { output: out + '/' }), (err: any) => {
      assert.equal(err.name, 'UnsafePathError', `${name}: ${err.message}`)
      return true
    })
    assert.deepEqual(await readdir(out), [], `${name}: nothing was written, no .part folder left`)
  }
  // one leaf linked 10 times, announced as 5 bytes: writing stops at the announced size, and nothing is left
  const bomb = await folder(Array.from({ length: 10 }, (_, i) => `copy ${i}.txt`))
  await alice!.store.track(bomb.toString(), { name: 'bomb' })
  await alice!.protocol.announce({ cid: bomb.toString(), name: 'bomb', size: 5, mediaType: 'inode/directory', files: 10 })
  await waitFor(() => bob!.protocol.entry(bomb.toString()) != null, { timeout: 10_000 })
  await assert.rejects(bob!.get(bomb.toString(), { output: out + '/' }), { name: 'TreeLimitError' })
  assert.deepEqual(await readdir(out), [], 'bomb: nothing was written, no .part folder left')
  assert.deepEqual((await readdir(dir)).sort(), ['out'], 'nothing landed beside the output folder')
  await assert.rejects(lstat('/tmp/swarmdrop-pwned'), { code: 'ENOENT' })
})

test('kill -9 of a CLI get mid-folder, then again: it resumes, only the missing blocks cross the network, the tree is identical, and never partial under its name', async (t) => {
  const dir = await tempDir(t)
  // 6 files of 4 MiB in 2 folders: 24 MiB in some 30 blocks
  const root = join(dir, 'shots')
  await mkdir(join(root, 'day 1'), { recursive: true })
  await mkdir(join(root, 'day 2'), { recursive: true })
  for (let i = 0; i < 6; i++) await writeFile(join(root, i < 3 ? 'day 1' : 'day 2', `img ${i}.raw`), pattern(4 * 1_048_576, 100 + i))

  // the sharer serves 20 blocks (its 9 folder and file nodes first), then holds every further read until the test lets it go
  const store = await createStore({ path: join(dir, 'sharer', 'store') })
  t.after(async () => { await store.close() })
  let served = 0
  let open = false
  let release = (): void => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  const gated = new Proxy(store, {
    get (target, prop) {
      if (prop === 'getBlock') {
        return async (...args: Parameters<Store['getBlock']>) => {
          if (!open && ++served > 20) await gate
          return target.getBlock(...args)
        }
      }
      const v = (target as any)[prop]
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
  const sharer = await createSwarmNode({ repo: join(dir, 'sharer'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }, { store: gated })
  t.after(async () => { open = true; release(); await sharer.stop() })
  const shared = await sharer.share(root)
  const peer = sharer.getMultiaddrs()[0]!
  const total = await store.stat()
  const blocks = (await store.get(shared.cid))?.blocks.total ?? 0
  assert.equal(total.blocks, blocks, 'the sharer\'s store holds this folder only')

  const repo = join(dir, 'getter')
  const out = join(dir, 'out')
  await mkdir(out)
  const args = ['get', shared.cid, '-o', out + '/', '--repo', repo, ...LOOPBACK, '--peer', peer]
  const first = spawnCli(args)
  t.after(() => { first.kill('SIGKILL') })
  // some of it is here (plain progress lines every 10 %), the rest is held by the sharer
  await first.waitForLine(/shots: [1-9]0% /, { stream: 'stderr', timeout: 60_000 })
  first.kill('SIGKILL')
  assert.equal((await first.waitForExit({ timeout: 30_000 })).signal, 'SIGKILL')
  assert.deepEqual(await readdir(out), [], 'nothing under the final name (nor a .part) while incomplete')

  // what the killed run kept: whole blocks only (a kill leaves no partial block under its name)
  const left = await createStore({ path: join(repo, 'store') })
  const kept = await left.stat()
  await left.close()
  assert.ok(kept.blocks > 0 && kept.blocks < blocks, `the killed run kept ${kept.blocks} of ${blocks} blocks`)

  open = true
  release()
  const again = await runCli([...args, '--json'], { timeout: 120_000 })
  assert.equal(again.code, 0, again.stderr)
  const got = again.json()
  assert.equal(got.files, 6)
  assert.equal(got.received, total.bytes - kept.bytes, 'only the blocks the killed run did not keep crossed the network')
  assert.deepEqual(await readdir(out), ['shots'])
  assert.deepEqual(await snapshot(join(out, 'shots')), await snapshot(root), 'the trees are identical')
})

test('the CLI: share DIR says which entries it skipped and lists NAME/ with its file count; ls too; get CID/PATH writes the one file', async (t) => {
  const dir = await tempDir(t)
  const root = join(dir, 'my stuff')
  await mkdir(join(root, 'sub', 'empty'), { recursive: true })
  await writeFile(join(root, 'a.txt'), 'alpha')
  await writeFile(join(root, 'sub', 'b.txt'), 'beta')
  await symlink('/etc/hostname', join(root, 'sub', 'host link'))
  const repo = join(dir, 'repo')
  await startNode(t, ['--repo', repo])

  const shared = await runCli(['share', root, '--repo', repo])
  assert.equal(shared.code, 0, shared.stderr)
  assert.match(shared.stderr, new RegExp(`skipped ${join(root, 'sub', 'host link')}: a symbolic link, not shared`))
  assert.match(shared.stdout, /my stuff\/ +9 B, 2 files/)
  const json = await runCli(['share', root, '--json', '--repo', repo])
  const [file] = json.json().files
  assert.deepEqual({ name: file.name, size: file.size, files: file.files }, { name: 'my stuff', size: 9, files: 2 })

  const ls = await runCli(['ls', '--repo', repo])
  assert.equal(ls.code, 0, ls.stderr)
  assert.match(ls.stdout, /my stuff\/ +9 B \(2 files\)/)
  assert.equal((await runCli(['ls', '--json', '--repo', repo])).json().files.find((f: any) => f.cid === file.cid)?.files, 2)

  const out = join(dir, 'out')
  await mkdir(out)
  const one = await runCli(['get', `${file.cid}/sub/b.txt`, '-o', out + '/', '--json', '--repo', repo])
  assert.equal(one.code, 0, one.stderr)
  assert.equal(await readFile(join(out, 'b.txt'), 'utf8'), 'beta')
  const bad = await runCli(['get', `${file.cid}/sub/../../x`, '-o', out + '/', '--repo', repo])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /UnsafePathError|unsafe name/)
  assert.deepEqual(await readdir(out), ['b.txt'])
})

test('a folder\'s announcement carries its file count in FileMeta field 6; an announcement without it (an older peer) is a file', async () => {
  const cid = 'bafybeidacripz6bk7awgs7w4bglobqjtsquz7t2oemvi3ktogou3izc6va'
  const meta = { cid, name: 'shots', size: 25_165_824, mediaType: 'inode/directory', encrypted: false }
  const bytes = encodeWire({ type: 'announce', files: [{ meta: { ...meta, files: 6 }, complete: true }] })
  assert.deepEqual(decodeWire('announce', bytes), { ok: true, message: { type: 'announce', files: [{ meta: { ...meta, files: 6 }, complete: true }] } })
  // field 6 on the wire: tag 0x30, varint 6
  assert.equal(Envelope.decode(bytes).announce?.files[0]?.meta?.files, 6)
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x30, 0x06])))
  // what a peer that predates the field sends: no field 6, decoded as a file (no `files`)
  const old = encodeWire({ type: 'announce', files: [{ meta, complete: true }] })
  assert.equal(Buffer.from(old).includes(Buffer.from([0x30])), false)
  assert.deepEqual(decodeWire('announce', old), { ok: true, message: { type: 'announce', files: [{ meta, complete: true }] } })
})
