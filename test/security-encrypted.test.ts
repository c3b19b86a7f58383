/**
 * Issue 7, acceptance 2, through the real binary: an encrypted share is
 * replicated by a --replicate node that has no link and learns nothing from
 * it; the link decrypts it exactly; a tampered block gives an error and no
 * output file.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startNode } from './helpers/cli.js'

async function * walk (dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) yield * walk(p)
    else if (e.isFile()) yield p
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

test('an encrypted share replicates as ciphertext only; the link decrypts it; a tampered block yields an error and no file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-encrypted-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const repoA = join(dir, 'sharer')
  const repoR = join(dir, 'replicator')
  const sharer = await startNode(t, ['--repo', repoA, '--name', 'sharer'])
  const replicator = await startNode(t, ['--repo', repoR, '--name', 'keeper', '--replicate', '--peer', sharer.ready.addrs[0]])
  await sharer.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'keeper')

  const marker = 'TOP-SECRET-MARKER-7f3a9c'
  const plaintext = Buffer.from(`${marker} `.repeat(Math.ceil(2.5 * 1024 * 1024 / (marker.length + 1))))
  const file = join(dir, 'secret-plan.txt')
  await writeFile(file, plaintext)

  const shared = await runCli(['share', '--encrypt', file, '--json', '--repo', repoA])
  assert.equal(shared.code, 0, shared.stderr)
  const [entry] = shared.json().files
  assert.match(entry.link, /^swarmdrop:bafy[a-z2-7]+#[A-Za-z0-9_-]{43}$/)
  assert.ok(entry.link.includes(entry.cid))

  // the replicator fetches and pins it without the link
  await replicator.proc.waitForJson(m => m.event === 'replicate:done' && m.cid === entry.cid, { timeout: 30_000 })
  const ls = await runCli(['ls', '--json', '--repo', repoR])
  const listed = ls.json().files.find((f: any) => f.cid === entry.cid)
  assert.equal(listed.local, true)
  assert.equal(listed.encrypted, true)
  assert.ok(!String(listed.name).includes('secret-plan'), 'the real name is not announced')

  // nothing in the replicator's repository contains the plaintext or the name
  let scanned = 0
  for await (const path of walk(repoR)) {
    if (path.endsWith('.sock')) continue
    const bytes = await readFile(path)
    scanned += bytes.byteLength
    assert.equal(bytes.indexOf(marker), -1, `plaintext marker found in ${path}`)
    assert.equal(bytes.indexOf('secret-plan'), -1, `file name found in ${path}`)
  }
  assert.ok(scanned > plaintext.byteLength, 'the replicator holds the ciphertext')

  // with the link, get yields the exact plaintext under its real name
  const outDir = join(dir, 'out')
  await mkdir(outDir)
  const got = await runCli(['get', entry.link, '--json', '--repo', repoR], { cwd: outDir })
  assert.equal(got.code, 0, got.stderr)
  const result = got.json()
  assert.equal(result.decrypted, true)
  assert.equal(result.name, 'secret-plan.txt')
  assert.deepEqual(await readFile(result.path), plaintext)

  // the sharer goes away (no honest copy to repair from), then a ciphertext block is tampered with on disk
  sharer.proc.kill('SIGTERM')
  await sharer.proc.waitForExit()
  const blocks: string[] = []
  for await (const path of walk(join(repoR, 'store', 'blocks'))) blocks.push(path)
  assert.ok(blocks.length >= 3, 'a multi-block file')
  const victim = blocks.find(p => p.includes('bafk')) ?? blocks[0]!
  const bytes = await readFile(victim)
  bytes[Math.floor(bytes.byteLength / 2)]! ^= 0x01
  await writeFile(victim, bytes)

  const target = join(outDir, 'tampered.txt')
  const bad = await runCli(['get', entry.link, '-o', target, '--repo', repoR, '--timeout', '3'], { cwd: outDir })
  assert.equal(bad.code, 1, `exit 1 on a tampered block: ${bad.stderr}`)
  const errors = bad.stderr.split('\n').filter(l => l.startsWith('swarmdrop: error'))
  assert.equal(errors.length, 1, `one error line: ${bad.stderr}`)
  assert.match(errors[0]!, /tampered|corrupt/)
  assert.equal(await exists(target), false, 'no output file')
})
