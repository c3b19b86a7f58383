/**
 * The store without a node (issue 14, acceptance 5): `ls`, `status`, `pin ls`,
 * `unpin`, `gc`, `rm` run by the real CLI in child processes on a repository
 * no node runs on; `unpin` + `gc` frees the blocks of a fetched `--copy` file
 * (bytes counted); a `get` of a CID complete in the store writes the file
 * without any network node: the process loads no libp2p transport or core
 * module at all (so it cannot listen or dial), and `--json` says `local: true`.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLocalSwarm } from '../src/testing/index.js'
import { BIN, runCli, tempDir } from './helpers/cli.js'
import { MiB, pattern } from './fixtures/storage-pattern.js'

const TRACE = fileURLToPath(new URL('./fixtures/trace-imports.js', import.meta.url))
/** Modules only a network node loads: libp2p itself and its transports. */
const NETWORK_MODULES = /\/node_modules\/(libp2p|@libp2p\/tcp|@chainsafe\/libp2p-noise|@chainsafe\/libp2p-yamux|@libp2p\/mdns)\//

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

test('acceptance 5: ls, status, pin ls, unpin + gc (bytes counted), rm and a local get work with no node running', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-offline-')
  const { nodes: [alice, bob] } = await createLocalSwarm({ size: 2, dir }, t)
  const copied = pattern(3 * MiB + 9, 31)
  const referenced = pattern(2 * MiB + 1, 32)
  await fsp.writeFile(join(dir, 'copied.bin'), copied)
  await fsp.writeFile(join(dir, 'referenced.bin'), referenced)
  const a = await alice!.share(join(dir, 'copied.bin'))
  const b = await alice!.share(join(dir, 'referenced.bin'))
  await fsp.mkdir(join(dir, 'bob'))
  const gotA = await bob!.get(a.cid, { output: join(dir, 'bob') + '/', copy: true })
  const gotB = await bob!.get(b.cid, { output: join(dir, 'bob') + '/' })
  assert.deepEqual([gotA.byReference, gotB.byReference], [false, true])
  const repo = bob!.repo
  await bob!.stop()
  const cli = async (...args: string[]): Promise<any> => {
    const r = await runCli(['--repo', repo, ...args, '--json'], { cwd: dir })
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return r.json()
  }

  const ls = await cli('ls')
  assert.equal(ls.running, false)
  const byCid = new Map<string, any>(ls.files.map((f: any) => [f.cid, f]))
  assert.deepEqual([byCid.get(a.cid)?.local, byCid.get(a.cid)?.pinned, byCid.get(a.cid)?.reference], [true, true, undefined])
  assert.deepEqual(byCid.get(b.cid)?.reference, { path: gotB.path, state: 'ok' })
  assert.deepEqual((await cli('pin', 'ls')).pins.map((p: any) => p.cid).sort(), [a.cid, b.cid].sort(), 'fetched files are pinned')

  // a get of a CID complete here: no network node (no libp2p module loaded), the file written at once
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, '--repo', repo, 'get', a.cid, '-o', join(dir, 'again.bin'), '--copy', '--timeout', '1', '--json'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).local, true)
  assert.doesNotMatch(r.stderr, NETWORK_MODULES, 'no network module was loaded')
  assert.doesNotMatch(r.stderr, /temporary/)
  assert.equal(sha256(await fsp.readFile(join(dir, 'again.bin'))), sha256(copied))

  // unpin + gc frees the --copy file's blocks: status says how much first, gc frees exactly that
  const before = await cli('status')
  assert.equal(before.running, false)
  assert.equal(before.store.freeable, 0, 'pinned files are kept')
  assert.ok(before.store.bytes > copied.byteLength, 'the --copy file is in the store')
  await cli('unpin', a.cid)
  const planned = await cli('status')
  assert.ok(planned.store.freeable >= copied.byteLength, `gc would free ${planned.store.freeable} bytes`)
  const gc = await cli('gc')
  assert.equal(gc.removedBytes, planned.store.freeable)
  const after = await cli('status')
  assert.equal(after.store.bytes, before.store.bytes - gc.removedBytes)
  assert.ok(after.store.bytes < referenced.byteLength / 100, `what is left is small: ${after.store.bytes} bytes`)

  // rm: the record and its blocks go; the file it was read from is never touched
  await cli('rm', b.cid)
  assert.deepEqual((await cli('ls')).files, [])
  assert.equal(sha256(await fsp.readFile(gotB.path)), sha256(referenced))
  assert.deepEqual((await cli('status')).store.bytes, 0)
})
