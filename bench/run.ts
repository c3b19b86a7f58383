/**
 * `npm run bench -- NAME [args]`: runs bench/NAME.ts (compiled to dist/bench/NAME.js).
 * Without a name, lists the benchmarks; `NAME --help` prints what the benchmark's header says
 * (what it measures, its usage).
 */
import '../src/polyfill.js'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const names = (await readdir(here)).filter(f => f.endsWith('.js') && f !== 'run.js').map(f => f.slice(0, -3)).sort()
const name = process.argv[2]
if (name == null || !names.includes(name)) {
  process.stderr.write(`${name != null ? `no benchmark named "${name}"\n` : ''}usage: npm run bench -- NAME [args]\nbenchmarks: ${names.join(', ')}\n`)
  process.exitCode = 2
} else if (process.argv.includes('--help') || process.argv.includes('-h')) {
  const source = await readFile(new URL(`./${name}.js`, import.meta.url), 'utf8')
  const header = /^\/\*\*\n([\s\S]*?)\n \*\//m.exec(source)?.[1] ?? `(bench/${name}.ts has no header comment)`
  process.stdout.write(header.split('\n').map(l => l.replace(/^ \* ?/, '')).join('\n') + '\n')
} else {
  process.argv.splice(2, 1)
  await import(new URL(`./${name}.js`, import.meta.url).href)
}
