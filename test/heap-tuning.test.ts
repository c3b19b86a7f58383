/**
 * tuneHeapForTransfers (src/util/heap.ts): the `swarmdrop` command's V8 heap growth, and its
 * opt-outs. Each case runs in a node process of its own (the setting is the whole process's),
 * which runs one full garbage collection on exit with --trace-gc-verbose: V8 then prints the
 * growth factor it applied to the old generation's next limit.
 */
import { test } from 'node:test'
import * as assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { HEAP_GROWING_PERCENT } from '../src/util/heap.js'

const HEAP = fileURLToPath(new URL('../src/util/heap.js', import.meta.url))
const CLI = fileURLToPath(new URL('../../bin/swarmdrop.js', import.meta.url))
const GC_ON_EXIT = ['--expose-gc', '--trace-gc-verbose', '--import', "data:text/javascript,process.on('exit',()=>globalThis.gc())"]
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
  const { stdout } = await run(process.execPath, args, { env: { ...process.env, SWARMDROP_HEAP_TUNING: '', ...env } })
  return stdout
}

const CALL_TWICE = `const { tuneHeapForTransfers } = await import(${JSON.stringify(HEAP)}); console.log(JSON.stringify([tuneHeapForTransfers(), tuneHeapForTransfers()]))`
const FACTOR = 1 + HEAP_GROWING_PERCENT / 100

test('tuneHeapForTransfers sets the old generation to grow by 1 + HEAP_GROWING_PERCENT / 100, once per process', async () => {
  const out = await node([...GC_ON_EXIT, '--input-type=module', '-e', CALL_TWICE])
  assert.ok(out.includes('[true,true]'), out)
  assert.equal(appliedFactor(out), FACTOR, out)
})

test('SWARMDROP_HEAP_TUNING=0, or node given its own --heap-growing-percent, keep the setting alone', async () => {
  const optOut = await node(['--input-type=module', '-e', CALL_TWICE], { SWARMDROP_HEAP_TUNING: '0' })
  assert.ok(optOut.includes('[false,false]'), optOut)
  const own = await node([...GC_ON_EXIT, '--heap-growing-percent=50', '--input-type=module', '-e', CALL_TWICE])
  assert.ok(own.includes('[false,false]'), own)
  assert.equal(appliedFactor(own), 1.5, own)
})

test('the swarmdrop command runs with the heap growth set', async () => {
  const out = await node([...GC_ON_EXIT, CLI, '--version'])
  assert.match(out, /swarmdrop \d/)
  assert.equal(appliedFactor(out), FACTOR, out)
})
