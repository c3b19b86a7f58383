/**
 * A repository another local user owns or can write is refused, as ssh refuses such a
 * `~/.ssh` (issue 18, "Repository in a shared folder"): that user could have planted
 * the identity key (and so hold this node's private key) or a control socket of theirs.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSwarmNode } from '../src/node/index.js'
import { connectControl, controlSocketPath } from '../src/index.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const notRoot = process.getuid?.() !== 0 ? 'chown to another user needs root' : false

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmdrop-private-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('a repository folder that other users can write is refused before anything is read from it', async (t) => {
  const repo = join(await tempDir(t), 'repo')
  await mkdir(repo)
  await chmod(repo, 0o777)
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), (err: any) => {
    assert.equal(err.name, 'RepoError')
    assert.match(err.message, /other users can write to it \(mode 0777\); run chmod go-w/)
    return true
  })
})

test('a repository folder owned by another user is refused', { skip: notRoot }, async (t) => {
  const repo = join(await tempDir(t), 'repo')
  await mkdir(repo, { mode: 0o700 })
  await chown(repo, 12345, 12345)
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), (err: any) => {
    assert.equal(err.name, 'RepoError')
    assert.match(err.message, /owned by uid 12345/)
    return true
  })
})

test('an identity key that other users can read is refused; chmod 600 makes it usable again with the same peer id', async (t) => {
  const repo = join(await tempDir(t), 'repo')
  const first = await createSwarmNode({ repo, listen: LOCAL, mdns: false })
  const id = first.peerId
  await first.stop()
  await chmod(join(repo, 'identity.key'), 0o644)
  await assert.rejects(createSwarmNode({ repo, listen: LOCAL, mdns: false }), (err: any) => {
    assert.equal(err.name, 'IdentityNotPrivateError')
    assert.match(err.message, /other users can read it \(mode 0644\); run chmod 600/)
    return true
  })
  await chmod(join(repo, 'identity.key'), 0o600)
  const again = await createSwarmNode({ repo, listen: LOCAL, mdns: false })
  t.after(async () => { await again.stop() })
  assert.equal(again.peerId, id)
})

test('the control client sends nothing to a socket in a repository another user owns', { skip: notRoot }, async (t) => {
  const repo = join(await tempDir(t), 'repo')
  await mkdir(repo, { mode: 0o700 })
  let received = 0
  const server = createServer((socket) => { socket.on('data', (d) => { received += d.byteLength }) })
  await new Promise<void>((resolve) => server.listen(controlSocketPath(repo), resolve))
  t.after(async () => { await new Promise<void>((resolve) => server.close(() => { resolve() })) })
  await chown(repo, 12345, 12345)
  await assert.rejects(connectControl(repo), (err: any) => {
    assert.equal(err.name, 'RepoError')
    assert.match(err.message, /owned by uid 12345/)
    return true
  })
  assert.equal(received, 0)
})
