/**
 * Issue 16 in the CLI: `swarmdrop start` serves the page and prints its URL (banner and
 * --json ready event), `--no-web` serves none, `swarmdrop open` prints the running node's URL.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LOOPBACK, runCli, spawnCli, startNode, tempDir } from './helpers/cli.js'
import { raw } from './helpers/web.js'

test('swarmdrop start serves the page; open prints its URL; --no-web serves none', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-web-cli-')
  const repo = join(dir, 'a')
  const { proc, ready } = await startNode(t, ['--repo', repo, '--name', 'web-a'])
  assert.match(ready.web, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/)
  const page = await raw(ready.web)
  assert.equal(page.status, 303)
  assert.equal((await raw(ready.web.replace('/?', '/api/state?'))).status, 200)
  assert.equal((await raw(ready.web.replace(/\?.*$/, 'api/state'))).status, 401)

  const opened = await runCli(['open', '--repo', repo])
  assert.equal(opened.code, 0, opened.stderr)
  assert.equal(opened.stdout.trim(), ready.web)
  assert.equal((await runCli(['open', '--repo', repo, '--json'])).json().url, ready.web)

  // stopping removes the URL file: open says no page is served
  assert.equal((await runCli(['stop', '--repo', repo])).code, 0)
  await proc.waitForExit()
  await assert.rejects(access(join(repo, 'web-url')), { code: 'ENOENT' })
  const none = await runCli(['open', '--repo', repo])
  assert.equal(none.code, 2)
  assert.match(none.stderr, /no web page is served/)

  // --no-web: no URL, nothing listening; the human banner of a web node shows its URL
  const quiet = await startNode(t, ['--repo', join(dir, 'b'), '--no-web'])
  assert.equal(quiet.ready.web, undefined)
  const human = spawnCli(['start', '--repo', join(dir, 'c'), ...LOOPBACK])
  t.after(async () => {
    if (human.exit == null) {
      human.kill('SIGKILL')
      await human.waitForExit()
    }
  })
  const line = await human.waitForLine(/^ {2}web page {2}http:\/\/127\.0\.0\.1:\d+\/\?token=/)
  assert.equal((await raw(line.trim().split(/\s+/).pop()!)).status, 303)
})

test('--gateway-listen serves the read-only gateway alone on that address, for any Host', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-web-cli-')
  const repo = join(dir, 'g')
  const { ready } = await startNode(t, ['--repo', repo, '--gateway-listen', '127.0.0.1:0'])
  assert.match(ready.gateway, /^http:\/\/127\.0\.0\.1:\d+\/ipfs\/$/)
  await writeFile(join(dir, 'hello.txt'), 'hello gateway')
  const shared = await runCli(['share', join(dir, 'hello.txt'), '--repo', repo, '--json'])
  assert.equal(shared.code, 0, shared.stderr)
  const cid = shared.json().files[0].cid
  const res = await raw(ready.gateway + cid, { headers: { Host: 'files.example.org' } })
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'hello gateway')
  // nothing else is there: no page, no API, token or not
  const api = await raw(ready.gateway.replace('/ipfs/', '/api/state?token=x'))
  assert.equal(api.status, 404)
  // the loopback page still refuses a foreign Host
  assert.equal((await raw(ready.web.replace(/\/\?.*$/, `/ipfs/${cid as string}`), { headers: { Host: 'files.example.org' } })).status, 403)
  const bad = await runCli(['start', '--repo', join(dir, 'h'), ...LOOPBACK, '--gateway-listen', 'nonsense'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /not a TCP port/)
})
