/**
 * Progress bars on a real terminal (issue 15 point 2): a pseudo-terminal of 80 columns that is
 * resized to 50 while a bar is drawn; every bar line drawn after the resize fits the new width.
 */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LOOPBACK, runCli, spawnCli, startNode, tempDir } from './helpers/cli.js'
import { runInPty, screen } from './helpers/pty.js'

const BAR = /[█░]{6,}/

test('a resized terminal (SIGWINCH): the bar is redrawn to the new width, later lines fit it', async (t) => {
  const { CID } = await import('multiformats/cid')
  const { sha256 } = await import('multiformats/hashes/sha2')
  const nobodyHas = CID.createV1(0x55, await sha256.digest(randomBytes(32))).toString()
  const dir = await tempDir(t, 'swarmdrop-cli-progress-')
  await startNode(t, ['--repo', join(dir, 'repo')])
  // nobody has the CID: the bar waits for providers until the idle timeout
  const r = await runInPty(['get', nobodyHas, '--timeout', '3', '--repo', join(dir, 'repo')], {
    cols: 80,
    cwd: dir,
    env: { NO_COLOR: '1' },
    resize: { when: '░', cols: 50 }
  })
  assert.equal(r.code, 1, r.raw)
  assert.ok(r.after !== '', `the terminal was resized:\n${r.raw}`)
  const before = screen(r.before, 80)
  assert.deepEqual(before.wrapped, [], 'at 80 columns no line wraps')
  assert.ok(before.lines.some(l => BAR.test(l) && [...l].length > 50), `the first bar used the 80 columns:\n${before.lines.join('\n')}`)
  // after the resize: every bar line fits 50 columns (the error line is text, and may wrap)
  const after = screen(r.after, 50)
  const bars = after.lines.filter(l => BAR.test(l))
  assert.ok(bars.length > 0, `a bar was drawn after the resize:\n${after.lines.join('\n')}`)
  for (const l of bars) assert.ok([...l].length < 50, `${[...l].length} columns: ${l}`)
  for (const l of after.wrapped) assert.doesNotMatch(l, BAR, `a bar line wrapped: ${l}`)
  assert.match(bars[bars.length - 1]!, /failed$/)
  // and the resize itself redrew the bar (before the transfer ended): each draw starts with erase-line
  const drawn = r.after.split('\x1b[2K').slice(1).map(seg => seg.split('\n')[0]!.replace(/\r$/, '')).filter(l => BAR.test(l))
  assert.ok(drawn.some(l => !/failed$/.test(l)), `a redraw on resize:\n${drawn.join('\n')}`)
  for (const l of drawn) assert.ok([...l].length < 50, `${[...l].length} columns: ${l}`)
})

test('start --replicate shows the progress of each file it replicates, and its rate in the log line', async (t) => {
  const dir = await tempDir(t, 'swarmdrop-cli-progress-')
  const alice = await startNode(t, ['--repo', join(dir, 'a'), '--name', 'alice'])
  const bob = spawnCli(['start', ...LOOPBACK, '--replicate', '--repo', join(dir, 'b'), '--name', 'bob', '--peer', alice.ready.addrs[0]])
  t.after(async () => {
    if (bob.exit == null) {
      bob.kill('SIGKILL')
      await bob.waitForExit()
    }
  })
  await bob.waitForLine(/peer joined +alice/)
  await writeFile(join(dir, 'kept.bin'), randomBytes(3 * 1024 * 1024))
  const sh = await runCli(['share', join(dir, 'kept.bin'), '--repo', join(dir, 'a')])
  assert.equal(sh.code, 0, sh.stderr)
  // stderr is piped: plain progress lines, every 10 %, then done
  await bob.waitForLine(/^kept\.bin: 100% \(3\.0 MiB of 3\.0 MiB\)$/, { stream: 'stderr' })
  await bob.waitForLine(/^kept\.bin: done$/, { stream: 'stderr' })
  await bob.waitForLine(/replicated +kept\.bin \(3\.0 MiB\) in [\d.]+ m?s, [\d.]+ [KMG]?i?B\/s$/)
})

test('a bar shows no ETA until bytes have flowed for a second, and the summary\'s rate once done', async (t) => {
  const { PassThrough } = await import('node:stream')
  const { Output } = await import('../src/cli/output.js')
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
  const tty = (): any => Object.assign(new PassThrough(), { isTTY: true, columns: 80 })
  const stdout = tty()
  const stderr = tty()
  let raw = ''
  stderr.on('data', (c: Buffer) => { raw += c.toString() })
  const out = new Output({ stdout, stderr, env: { NO_COLOR: '1' } })
  const MiB = 1024 * 1024
  const bar = out.progress('movie.mkv', 100 * MiB)
  const last = (): string => screen(raw, 80).lines.filter(l => BAR.test(l)).at(-1)!
  assert.match(last(), /waiting…$/)
  bar.update(1 * MiB)
  t.mock.timers.tick(500)
  bar.update(6 * MiB)
  assert.match(last(), / {2}10\.0 MiB\/s$/, 'a rate, no ETA yet')
  t.mock.timers.tick(600)
  bar.update(12 * MiB)
  assert.match(last(), / {2}10\.0 MiB\/s {2}ETA 8\.8 s$/, 'the ETA once bytes flowed for a second')
  bar.finish('done', { rate: 7 * MiB })
  assert.match(last(), /^movie\.mkv .* {2}7\.0 MiB\/s {2}done$/, 'the summary\'s figure at the end')
  assert.ok(screen(raw, 80).widest <= 80)
})
