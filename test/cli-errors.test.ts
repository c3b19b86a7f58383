/**
 * Error messages of issue 15 point 8, through the real binary: each is one line that says what
 * happened and what to do next, with the right exit code; nothing is half done.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { NotFoundInSwarmError } from '../src/transfer/errors.js'
import { fsReason, readFixHint } from '../src/util/fs-reason.js'
import { waitFor } from '../src/util/wait.js'
import { BIN, runCli, startNode, tempDir } from './helpers/cli.js'
import { runInPty, screen } from './helpers/pty.js'

/** The one line on stderr of a failed command (after `swarmdrop: error: `). */
function errorLine (stderr: string): string {
  const lines = stderr.split('\n').filter(l => l !== '')
  assert.ok(lines.length >= 1 && lines[0]!.startsWith('swarmdrop: error: '), stderr)
  return lines[0]!.slice('swarmdrop: error: '.length)
}

test('messages in words: file-system codes and a provider that is offline', () => {
  const cases: Array<[string, string]> = [
    [fsReason({ code: 'EACCES' }), 'permission denied (EACCES)'],
    [fsReason({ code: 'EIO' }), 'an input/output error (a failing disk or a network mount?) (EIO)'],
    [fsReason({ code: 'EWHATEVER' }), 'EWHATEVER'],
    [readFixHint({ code: 'EACCES' }, '/x/a.jpg'), "; give yourself read access (chmod u+r '/x/a.jpg') or run as its owner"],
    [new NotFoundInSwarmError('bafyX', 30_000, 0).message, 'no peer in the swarm provides bafyX (waited 30000 ms); check the CID, or wait until a peer that has it is online'],
    [new NotFoundInSwarmError('bafyX', 30_000, 1, 1).message, 'the only peer that provides bafyX is offline or unreachable (waited 30000 ms); try again when it is online'],
    [new NotFoundInSwarmError('bafyX', 30_000, 3, 3).message, 'all 3 peers that provide bafyX are offline or unreachable (waited 30000 ms); try again when one of them is online'],
    [new NotFoundInSwarmError('bafyX', 30_000, 1, 0).message, 'the 1 peer asked does not have bafyX (waited 30000 ms); check the CID, or wait until a peer that has it is online'],
    [new NotFoundInSwarmError('bafyX', 30_000, 3, 1).message, 'none of the 3 peers asked has bafyX (1 of them could not be reached) (waited 30000 ms); check the CID, or wait until a peer that has it is online']
  ]
  for (const [got, want] of cases) assert.equal(got, want)
})

test('error messages of the CLI: one line with a next step, the right exit code, nothing half done', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-errors-')
  const repoA = join(dir, 'a')
  const repoB = join(dir, 'b')
  const alice = await startNode(t, ['--repo', repoA, '--name', 'alice'])
  await startNode(t, ['--repo', repoB, '--name', 'bob', '--peer', alice.ready.addrs[0]])
  await alice.proc.waitForJson(m => m.event === 'peer:name' && m.name === 'bob')

  // an empty catalog says so (like `peers` says "no peers yet")
  const empty = await runCli(['ls', '--repo', repoB])
  assert.equal(empty.code, 0)
  assert.equal(empty.stdout, 'no files in the swarm yet; share one with `swarmdrop share PATH`')

  // a file the user cannot read: named, in words, with the fix (root reads anything: drop its capabilities)
  await writeFile(join(dir, 'secret.txt'), 'top secret')
  await chmod(join(dir, 'secret.txt'), 0o000)
  const asUser = (args: string[]): Promise<{ code: number | null, stderr: string }> => new Promise(resolve => {
    const root = process.getuid?.() === 0
    const cmd = root ? 'setpriv' : process.execPath
    const argv = root ? ['--inh-caps=-all', '--bounding-set=-all', process.execPath, BIN, ...args] : [BIN, ...args]
    const child = spawn(cmd, argv, { env: { ...process.env, NO_COLOR: '1', DEBUG: '' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.on('close', code => { resolve({ code, stderr }) })
  })
  const unreadable = await asUser(['share', join(dir, 'secret.txt'), '--repo', repoA])
  assert.equal(unreadable.code, 1, unreadable.stderr)
  assert.equal(errorLine(unreadable.stderr), `cannot share ${join(dir, 'secret.txt')}: cannot read it: permission denied (EACCES); give yourself read access (chmod u+r '${join(dir, 'secret.txt')}') or run as its owner`)

  // a name with control characters in a batch: the file is named, nothing of the batch is shared
  await writeFile(join(dir, 'fine.txt'), randomBytes(100))
  const bad = join(dir, 'bad\u0007name.txt')
  await writeFile(bad, randomBytes(100))
  const batch = await runCli(['share', join(dir, 'fine.txt'), bad, '--repo', repoA])
  assert.equal(batch.code, 1)
  assert.equal(errorLine(batch.stderr), `cannot share ${JSON.stringify(bad)}: the name contains control characters; rename the file (nothing was shared)`)
  assert.equal((await runCli(['ls', '--json', '--repo', repoA])).json().files.length, 0, 'fine.txt was not shared either')

  // get LINK into a folder that does not exist: the folder, not a temp path, and how to make it
  await writeFile(join(dir, 'enc.txt'), randomBytes(1000))
  const enc = await runCli(['share', '--encrypt', '--json', join(dir, 'enc.txt'), '--repo', repoA])
  const { link } = enc.json().files[0]
  const missing = await runCli(['get', link, '-o', join(dir, 'no', 'such') + '/', '--repo', repoB])
  assert.equal(missing.code, 1)
  assert.equal(errorLine(missing.stderr), `the folder ${join(dir, 'no', 'such')} does not exist; nothing was fetched. Create it (mkdir -p ${join(dir, 'no', 'such')}) or pick another folder with -o FOLDER/`)
  assert.doesNotMatch(missing.stderr, /ENOENT|\.part|probe/)

  // a long name: the ls table stays within 120 columns, also when piped
  await writeFile(join(dir, 'y'.repeat(200) + '.bin'), randomBytes(10))
  const long = await runCli(['share', '--json', join(dir, 'y'.repeat(200) + '.bin'), '--repo', repoA])
  const longCid: string = long.json().files[0].cid
  await waitFor(async () => (await runCli(['ls', '--json', '--repo', repoB])).json().files.some((f: any) => f.cid === longCid), { timeout: 15_000, interval: 0, message: 'bob lists the long name' })
  const piped = await runCli(['ls', '--repo', repoB])
  for (const l of piped.stdout.split('\n')) assert.ok([...l].length <= 120, `${[...l].length} columns: ${l}`)
  assert.match(piped.stdout, /yyyy…/)
  const wide = await runInPty(['ls', '--repo', repoB], { cols: 200, env: { NO_COLOR: '1' } })
  assert.ok(screen(wide.raw, 200).widest <= 120, wide.raw)

  // the only provider is offline: said so, not "none of the 1 peer(s) asked has"
  await writeFile(join(dir, 'gone.bin'), randomBytes(5000))
  const gone = await runCli(['share', '--json', join(dir, 'gone.bin'), '--repo', repoA])
  const goneCid: string = gone.json().files[0].cid
  await waitFor(async () => (await runCli(['ls', '--json', '--repo', repoB])).json().files.some((f: any) => f.cid === goneCid), { timeout: 15_000, interval: 0, message: 'bob lists gone.bin' })
  alice.proc.kill('SIGKILL')
  await alice.proc.waitForExit()
  const offline = await runCli(['get', goneCid, '--timeout', '2', '--repo', repoB], { cwd: await tempDir(t, 'dl-') })
  assert.equal(offline.code, 1)
  // the failure names the file (its name from the catalog)
  assert.equal(errorLine(offline.stderr), `cannot fetch "gone.bin": the only peer that provides ${goneCid} is offline or unreachable (waited 2 s); try again when it is online`)
})
