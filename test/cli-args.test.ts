/** The command line's pure parts: argument parsing, formatting, help, and what --help loads. */
import '../src/polyfill.js'
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { flag, parse } from '../src/cli/args.js'
import { ExitError, InterruptedError, NoNodeError, RemoteError, UsageError } from '../src/cli/errors.js'
import { formatBytes, formatDuration, formatTable, printable, shortId, wrapWords } from '../src/cli/format.js'
import { commandHelp } from '../src/cli/help.js'
import { run } from '../src/cli/main.js'
import { Output } from '../src/cli/output.js'
import { COMMANDS } from '../src/cli/spec.js'
import { BIN } from './helpers/cli.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const FLAGS = {
  name: flag.string('NICK', 'nickname'),
  listen: flag.list('MULTIADDR', 'listen'),
  'no-mdns': flag.boolean('no mdns'),
  output: flag.string('PATH', 'out', { short: 'o' }),
  nodes: flag.number('N', 'nodes')
}

test('the parser maps argument lists to typed options', () => {
  const a = parse(['CID', '--name', 'alice', '--listen', '/ip4/1', '--listen=/ip4/2', '--no-mdns', '-o', 'out.bin', '--nodes', '5'], FLAGS, [{ name: 'CID', description: '' }])
  assert.deepEqual(a.positionals, ['CID'])
  assert.deepEqual(a.flags, { name: 'alice', listen: ['/ip4/1', '/ip4/2'], 'no-mdns': true, output: 'out.bin', nodes: 5 })
  const b = parse([], FLAGS, [])
  assert.deepEqual(b.flags, { name: undefined, listen: [], 'no-mdns': false, output: undefined, nodes: undefined })
  const c = parse(['a', 'b', '--', '--name'], FLAGS, [{ name: 'PATH', description: '', variadic: true }])
  assert.deepEqual(c.positionals, ['a', 'b', '--name'])
  assert.equal(parse(['-o=x'], FLAGS, []).flags.output, 'x')
  assert.equal(parse(['--output', '-'], FLAGS, []).flags.output, '-')
})

test('the parser rejects what it does not know with UsageErrors that name the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /unknown option --bogus/],
    [['-x'], /unknown option -x/],
    [['--name'], /--name needs a value \(NICK\)/],
    [['--name', '--no-mdns'], /--name needs a value/],
    [['--nodes', 'many'], /--nodes must be a number, got "many"/],
    [['--no-mdns=yes'], /--no-mdns takes no value/],
    [['CID', 'extra'], /unexpected argument "extra"/],
    [[], /missing CID/]
  ]
  for (const [argv, re] of cases) {
    assert.throws(() => parse(argv, FLAGS, [{ name: 'CID', description: '' }], 'get'), (err: Error) => err.name === 'UsageError' && re.test(err.message) && err.message.startsWith('get: '), argv.join(' '))
  }
})

test('every error class carries its name', () => {
  for (const [Cls, err] of [[ExitError, new ExitError(1)], [UsageError, new UsageError('x')], [NoNodeError, new NoNodeError('/r')], [RemoteError, new RemoteError('X', 'y')], [InterruptedError, new InterruptedError()]] as const) {
    assert.equal(err.name, Cls.name)
    assert.ok(err instanceof Error)
  }
  assert.match(new NoNodeError('/some/repo').message, /\/some\/repo.*swarmdrop start/)
})

test('formatting helpers', () => {
  assert.equal(formatBytes(0), '0 B')
  assert.equal(formatBytes(1536), '1.5 KiB')
  assert.equal(formatBytes(16 * 1024 * 1024), '16.0 MiB')
  assert.equal(formatBytes(300 * 1024 * 1024), '300 MiB')
  assert.equal(formatDuration(850), '850 ms')
  assert.equal(formatDuration(3200), '3.2 s')
  assert.equal(formatDuration(125_000), '2m05s')
  assert.equal(shortId('12D3KooWLfKDYJQspYG988Fg6NNKxk7HcPH4XMPDP1Br4F7e4DLG'), '12D3Ko…7e4DLG')
  assert.deepEqual(formatTable([['A', 'BB'], ['ccc', 'd']]), ['A    BB', 'ccc  d'])
  // names from peers cannot drive the terminal
  assert.equal(printable('cat\x1b]0;pwned\x07.jpg\u202egpj'), 'cat?]0;pwned?.jpg?gpj')
})

test('every command has help with a usage line, its options and an example', () => {
  for (const name of Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>) {
    const text = commandHelp(name)
    assert.match(text, new RegExp(`^usage: swarmdrop ${name}`))
    assert.match(text, /--repo DIR/)
    assert.match(text, /Examples?:\n {2}swarmdrop /)
  }
})

test('run() maps outcomes to exit codes without exiting the process', async () => {
  const lines: string[] = []
  const sink = { write: (s: string, cb?: () => void) => { lines.push(s); cb?.(); return true } } as unknown as NodeJS.WritableStream
  const out = new Output({ stdout: sink, stderr: sink, env: {} })
  assert.equal(await run(['--version'], { out }), 0)
  assert.equal(await run(['nope'], { out }), 2)
  assert.equal(await run(['ls', '--bogus'], { out }), 2)
  assert.equal(await run(['ls', '--repo', join(ROOT, 'no-such-repo')], { out }), 2)
  assert.match(lines.join(''), /unknown command "nope"/)
  assert.match(lines.join(''), /no swarmdrop node is running on the repository .*no-such-repo/)
})

test('`swarmdrop --help` loads no libp2p module', () => {
  const trace = fileURLToPath(new URL('./fixtures/trace-imports.js', import.meta.url))
  for (const args of [['--help'], ['get', '--help']]) {
    const r = spawnSync(process.execPath, ['--import', trace, BIN, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    assert.doesNotMatch(r.stderr, /^loaded /m, `${args.join(' ')} loaded: ${r.stderr}`)
  }
  // the tracer works: a command that starts a node does load libp2p
  const r = spawnSync(process.execPath, ['--import', trace, BIN, 'start', '--repo', join(ROOT, 'dist', 'no-repo-x'), '--listen', 'not-an-addr', '--no-mdns'], { encoding: 'utf8' })
  assert.match(r.stderr, /^loaded .*libp2p/m)
  assert.equal(r.status, 2)
})

test('only the output layer writes to the terminal, and only main() exits', async () => {
  const dir = join(ROOT, 'src')
  const files = (await readdir(dir, { recursive: true })).filter(f => f.endsWith('.ts'))
  for (const f of files) {
    // code only: doc comments may show console.log in examples
    const text = (await readFile(join(dir, f), 'utf8')).split('\n').filter(l => !/^\s*(\*|\/\/|\/\*)/.test(l)).join('\n')
    if (f !== join('cli', 'output.ts')) assert.doesNotMatch(text, /console\.|process\.(stdout|stderr)/, f)
    if (f !== join('cli', 'main.ts')) assert.doesNotMatch(text, /process\.exit\(/, f)
  }
})

test('wrapWords: lines never longer than asked, words kept whole when they fit, later lines indented', () => {
  const text = '! /tmp/some/long/folder/holiday.jpg, shared as bafybeiayvpx6drsllbnisuympud2v4s2varryku5r44buz2ykxcyrywlwe, is gone: it is not served.'
  for (const max of [20, 40, 79]) {
    const lines = wrapWords(text, max)
    assert.ok(lines.every(l => [...l].length <= max), `${max}: ${JSON.stringify(lines)}`)
    assert.ok(lines.slice(1).every(l => l.startsWith('  ')))
    assert.equal(lines.map(l => l.trim()).join(' ').replace(/\s+/g, ''), text.replace(/\s+/g, ''), 'nothing lost')
  }
  assert.deepEqual(wrapWords('short line', 79), ['short line'])
})
