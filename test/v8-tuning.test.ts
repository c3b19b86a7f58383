/**
 * tuneV8ForTransfers (src/util/v8-tuning.ts): the `swarmdrop` command's V8 settings, and their
 * opt-outs. Each case runs in a node process of its own (the settings are the whole process's),
 * which runs one full garbage collection on exit with --trace-gc-verbose: V8 then prints the
 * growth factor it applied to the old generation's next limit.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { HEAP_GROWING_PERCENT, optimizeLaterFlag } from '../src/util/v8-tuning.js'

const TUNING = fileURLToPath(new URL('../src/util/v8-tuning.js', import.meta.url))
const CLI = fileURLToPath(new URL('../../bin/swarmdrop.js', import.meta.url))
const GC_ON_EXIT = ['--expose-gc', '--trace-gc-verbose', '--import', "data:text/javascript,process.on('exit',()=>globalThis.gc())"]
const FACTOR = 1 + HEAP_GROWING_PERCENT / 100
const run = promisify(execFile)

/**
 * The factor V8 applied at the process's last full collection: Node 20 and 22 print it at the end
 * of the "[HeapController] Limit: …" line, Node 24 in "[HeapController] factor F based on …".
 */
function appliedFactor (trace: string): number | undefined {
  let factor: number | undefined
  for (const line of trace.split('\n')) {
    const limit = /\[HeapController\] Limit: .*\((\d+\.\d)\)\s*$/.exec(line)
    const based = /\[HeapController\] factor (\d+\.\d) based on/.exec(line)
    if (limit != null) factor = Number(limit[1])
    else if (based != null) factor = Number(based[1])
  }
  return factor
}

async function node (args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, SWARMDROP_V8_TUNING: '', ...env } })
  return stdout
}

/** A script that tunes twice (with `options`) and prints what each call returned. */
const tuneTwice = (options = '{}'): string[] => ['--input-type=module', '-e',
  `const { tuneV8ForTransfers } = await import(${JSON.stringify(TUNING)}); console.log(JSON.stringify([tuneV8ForTransfers(${options}), tuneV8ForTransfers(${options})]))`]

const both = (heap: boolean, jit: boolean): string => JSON.stringify([{ heap, jit }, { heap, jit }])

test('tuneV8ForTransfers sets the heap growth and the optimization budget, once per process', async () => {
  const out = await node([...GC_ON_EXIT, ...tuneTwice()])
  assert.ok(out.includes(both(true, true)), out)
  assert.equal(appliedFactor(out), FACTOR, out)
  const heapOnly = await node([...GC_ON_EXIT, ...tuneTwice('{ jit: false }')])
  assert.ok(heapOnly.includes(both(true, false)), heapOnly)
  assert.equal(appliedFactor(heapOnly), FACTOR, heapOnly)
})

test('SWARMDROP_V8_TUNING=0, or the flag given to node itself, keep the setting alone', async () => {
  const optOut = await node(tuneTwice(), { SWARMDROP_V8_TUNING: '0' })
  assert.ok(optOut.includes(both(false, false)), optOut)
  const own = await node([...GC_ON_EXIT, '--heap-growing-percent=50', String(optimizeLaterFlag()).replace(/=.*/, '=5000'), ...tuneTwice()])
  assert.ok(own.includes(both(false, false)), own)
  assert.equal(appliedFactor(own), 1.5, own)
})

test('the optimization flag is one this V8 knows: node starts with it, and setting it prints nothing', async () => {
  assert.match(String(optimizeLaterFlag('11.3.244.8-node.33')), /^--interrupt-budget=\d+$/)
  assert.match(String(optimizeLaterFlag('12.4.254.21-node.33')), /^--invocation-count-for-turbofan=\d+$/)
  assert.match(String(optimizeLaterFlag('13.6.233.10-node.28')), /^--invocation-count-for-turbofan=\d+$/)
  assert.equal(optimizeLaterFlag('11.8.172.17-node.18'), undefined)
  const flag = optimizeLaterFlag()
  assert.ok(flag != null, `Node ${process.version} (V8 ${process.versions.v8}) has a known flag`)
  const { stderr } = await run(process.execPath, [flag, '-e', '0'])
  assert.equal(stderr, '')
  const { stderr: tuned } = await run(process.execPath, tuneTwice(), { env: { ...process.env, SWARMDROP_V8_TUNING: '' } })
  assert.equal(tuned, '')
})

test('the swarmdrop command runs with the heap growth set', async () => {
  const out = await node([...GC_ON_EXIT, CLI, '--version'])
  assert.match(out, /swarmdrop \d/)
  assert.equal(appliedFactor(out), FACTOR, out)
})
