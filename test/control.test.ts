/**
 * The control API (issue 11, point 7 and acceptance 5): its edge checks
 * (version, method, params) as named errors, and a real `swarmdrop start`
 * process driven through the exported client `connectControl`.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { once } from 'node:events'
// the client through the package root, as a script would import it
import {
  connectControl, controlSocketPath as socketPath, CONTROL_VERSION,
  ControlConnectionError, InvalidParamsError, MalformedRequestError, NoNodeError, RemoteError, RequestTooLargeError, UnknownMethodError, UnsupportedVersionError
} from '../src/index.js'
import { parseRequest, validateParams } from '../src/control/index.js'
import { describeControlEvent } from '../src/cli/format.js'
import { startNode, tempDir } from './helpers/cli.js'

test('every control error class carries its name', () => {
  const errors = [
    [ControlConnectionError, new ControlConnectionError('x')],
    [InvalidParamsError, new InvalidParamsError('get', 'x')],
    [MalformedRequestError, new MalformedRequestError('x')],
    [NoNodeError, new NoNodeError('/r')],
    [RemoteError, new RemoteError('X', 'y')],
    [RequestTooLargeError, new RequestTooLargeError()],
    [UnknownMethodError, new UnknownMethodError('x')],
    [UnsupportedVersionError, new UnsupportedVersionError(2)]
  ] as const
  for (const [Cls, err] of errors) {
    assert.equal(err.name, Cls.name)
    assert.ok(err instanceof Cls)
  }
})

test('the server edge: requests of another version, unknown methods and bad params are named errors', () => {
  const line = (req: unknown): string => JSON.stringify(req)
  assert.deepEqual(parseRequest(line({ v: CONTROL_VERSION, method: 'ls', params: {} })), { method: 'ls', params: {} })
  assert.deepEqual(parseRequest(line({ v: CONTROL_VERSION, method: 'ls' })), { method: 'ls', params: {} }, 'no params: none')
  assert.throws(() => parseRequest(line({ v: 2, method: 'ls' })), { name: 'UnsupportedVersionError', message: /version 1, the request has 2/ })
  assert.throws(() => parseRequest(line({ method: 'ls' })), { name: 'UnsupportedVersionError', message: /has none/ })
  assert.throws(() => parseRequest(line({ v: CONTROL_VERSION, method: 'frobnicate' })), { name: 'UnknownMethodError', message: /"frobnicate"/ })
  assert.throws(() => parseRequest(line({ v: CONTROL_VERSION, method: 'toString' })), { name: 'UnknownMethodError' }, 'no inherited names')
  assert.throws(() => parseRequest('{nope'), { name: 'MalformedRequestError' })
  assert.throws(() => parseRequest('[1]'), { name: 'MalformedRequestError' })
  assert.throws(() => parseRequest(line({ v: CONTROL_VERSION, method: 7 })), { name: 'MalformedRequestError' })

  // params: missing, unknown, mistyped; optional null is absent
  assert.deepEqual(validateParams('get', { cid: 'c', cwd: '/', output: null, timeout: 5 }), { cid: 'c', cwd: '/', timeout: 5 })
  assert.deepEqual(validateParams('share', { paths: ['/a', '/b'], encrypt: true }), { paths: ['/a', '/b'], encrypt: true })
  const bad: Array<[Parameters<typeof validateParams>[0], unknown, RegExp]> = [
    ['get', { cwd: '/' }, /invalid params for "get": missing "cid"/],
    ['get', { cid: 'c', cwd: '/', bogus: true }, /unknown param "bogus" \(it takes cid, key, output, cwd, timeout, force, copy\)/],
    ['get', { cid: 'c', cwd: '/', timeout: 'soon' }, /"timeout" must be a number, got string/],
    ['get', { cid: 'c', cwd: '/', timeout: null, key: 3 }, /"key" must be a string, got number/],
    ['share', { paths: '/a' }, /"paths" must be an array of strings, got string/],
    ['share', { paths: ['/a', 1] }, /"paths" must be an array of strings/],
    ['share', { paths: null }, /"paths" must be an array of strings, got null/],
    ['ls', { all: true }, /unknown param "all" \(it takes cid, providers\)/],
    ['gc', { all: true }, /unknown param "all" \(it takes none\)/],
    ['pin', [], /params must be an object, got array/],
    ['pub', { topic: 'chat', message: 5 }, /"message" must be a string/]
  ]
  for (const [method, params, message] of bad) {
    assert.throws(() => validateParams(method, params), (err: Error) => err.name === 'InvalidParamsError' && message.test(err.message), `${method} ${JSON.stringify(params)}`)
  }
})

test('the CLI formats the handlers\' log events: the --json fields and the human line', () => {
  const shared = describeControlEvent({ event: 'file:shared', cid: 'bafyx', name: 'a\u001b[2Jb.txt', size: 1536, encrypted: true })
  assert.deepEqual(shared.detail, { cid: 'bafyx', name: 'a\u001b[2Jb.txt', size: 1536, encrypted: true })
  assert.equal(shared.human, 'shared       a?[2Jb.txt (1.5 KiB, encrypted) bafyx', 'names from the swarm are made printable')
  const progress = describeControlEvent({ event: 'fetch:progress', cid: 'bafyx', bytes: 600, total: 1000, received: 600, providers: 2, rate: 10 })
  assert.equal(progress.human, 'fetching     bafyx 50% from 2 peer(s)')
  assert.deepEqual(progress.detail, { cid: 'bafyx', bytes: 600, total: 1000, received: 600, providers: 2, rate: 10 })
  const file = { cid: 'bafyx', name: 'secret plan.txt', nameFrom: 'link' as const, size: 2048, path: '/tmp/secret plan.txt', received: 2048, providers: 1, elapsed: 1000, encrypted: true, decrypted: true, local: false, byReference: false }
  const done = describeControlEvent({ event: 'fetch:done', ...file })
  assert.equal(done.human, 'fetched      secret plan.txt (2.0 KiB) in 1.0 s, 2.0 KiB/s, to /tmp/secret plan.txt')
  assert.equal(JSON.parse(JSON.stringify(done.detail)).name, undefined, 'a decrypted file\'s real name stays out of the JSON log')
  assert.equal(JSON.parse(JSON.stringify(describeControlEvent({ event: 'fetch:done', ...file, decrypted: false }).detail)).name, 'secret plan.txt')
  assert.equal(describeControlEvent({ event: 'file:removed', cid: 'bafyx' }).human, 'removed      bafyx')
  assert.equal(describeControlEvent({ event: 'fetch:start', cid: 'bafyx' }).human, 'fetching     bafyx')
})

test('connectControl without a running node rejects with NoNodeError naming the repository', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-control-none-')
  await assert.rejects(connectControl(join(dir, 'repo')), (err: Error) => err.name === 'NoNodeError' && err.message.includes(join(dir, 'repo')))
})

/** One raw request line on the node's socket; resolves with the parsed reply lines. */
async function rawRequest (repo: string, line: string): Promise<any[]> {
  const socket = connect(socketPath(repo))
  await once(socket, 'connect')
  socket.end(line + '\n')
  const replies: any[] = []
  for await (const l of createInterface({ input: socket })) replies.push(JSON.parse(l))
  return replies
}

test('a running `swarmdrop start` driven through connectControl: status, share, ls, get, pin, rm, named errors, stop', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-control-')
  const repo = join(dir, 'repo')
  const { proc, ready } = await startNode(t, ['--repo', repo, '--name', 'ctl'])
  const client = await connectControl(repo)
  t.after(() => { client.close() })
  assert.equal(client.repo, repo)

  const status = await client.status()
  assert.equal(status.peerId, ready.peerId)
  assert.equal(status.name, 'ctl')
  assert.equal(status.repo, repo)
  assert.equal(status.peers, 0)
  assert.equal(status.files, 0)
  assert.deepEqual(status.addrs, ready.addrs)
  assert.equal((await client.id()).peerId, ready.peerId)
  assert.deepEqual(await client.peers(), [])

  // share a file (a relative path resolves against this process's folder)
  const text = 'hello from the control client\n'
  await writeFile(join(dir, 'note.txt'), text)
  const [shared, ...more] = await client.share([join(dir, 'note.txt')])
  assert.equal(more.length, 0)
  assert.equal(shared?.name, 'note.txt')
  assert.equal(shared.size, text.length)
  assert.equal(shared.link, undefined)
  // the node logged it, as data in its --json log
  const logged = await proc.waitForJson(m => m.event === 'file:shared')
  assert.deepEqual({ cid: logged.cid, name: logged.name, size: logged.size, encrypted: logged.encrypted }, { cid: shared.cid, name: 'note.txt', size: text.length, encrypted: false })

  const listed = await client.ls()
  assert.deepEqual(listed.map(f => ({ cid: f.cid, name: f.name, size: f.size, local: f.local, encrypted: f.encrypted })), [{ cid: shared.cid, name: 'note.txt', size: text.length, local: true, encrypted: false }])
  assert.equal((await client.status()).local, 1)

  // get writes the file where the client says
  const fetched = await client.get(shared.cid, { output: join(dir, 'copy.txt') })
  assert.equal(fetched.path, join(dir, 'copy.txt'))
  assert.equal(fetched.size, text.length)
  assert.equal(fetched.decrypted, false)
  assert.equal(await readFile(join(dir, 'copy.txt'), 'utf8'), text)
  const done = await proc.waitForJson(m => m.event === 'fetch:done')
  assert.equal(done.path, join(dir, 'copy.txt'))

  // bad params: a named error from the node's edge, the node keeps serving
  await assert.rejects(client.request('share', { paths: join(dir, 'note.txt') } as any), (err: Error) =>
    err instanceof InvalidParamsError && err.name === 'InvalidParamsError' && /"paths" must be an array of strings, got string/.test(err.message))
  await assert.rejects(client.request('get', { cid: shared.cid } as any), { name: 'InvalidParamsError', message: /missing "cwd"/ })
  await assert.rejects(client.request('frobnicate' as any, {}), { name: 'UnknownMethodError', message: /"frobnicate"/ })
  // an error of the node itself comes back as a RemoteError with its name
  await assert.rejects(client.pin('not-a-cid'), (err: RemoteError) => err.name === 'RemoteError' && err.remoteName === 'InvalidCidError')
  // a request of another protocol version, on the raw socket
  const [reply] = await rawRequest(repo, JSON.stringify({ v: CONTROL_VERSION + 1, method: 'ls', params: {} }))
  assert.equal(reply.error.name, 'UnsupportedVersionError')

  await client.pin(shared.cid)
  await client.rm(shared.cid)
  assert.deepEqual(await client.ls(), [])
  assert.equal((await proc.waitForJson(m => m.event === 'file:removed')).cid, shared.cid)

  await client.stop()
  assert.deepEqual(await proc.waitForExit(), { code: 0, signal: null })
  await assert.rejects(client.status(), { name: 'NoNodeError' })
})
