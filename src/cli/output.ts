/**
 * The output layer: the only module of src/ that writes to the terminal.
 *
 * - stdout a TTY: readable lines with colours; progress bars on stderr.
 * - stdout piped: the same lines without colours; progress as a few plain lines on stderr.
 * - `--json`: commands call `data()` once (or `event()` per line for streams); no bars, no human lines.
 * Errors always go to stderr, one line; the stack only with DEBUG set.
 */
import { formatBytes, formatDuration, formatRate } from './format.js'

export interface OutputInit {
  json?: boolean
  stdout?: NodeJS.WriteStream | NodeJS.WritableStream
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream
  env?: Record<string, string | undefined>
}

export interface ProgressInfo {
  /** Bytes known so far (may grow when the size was unknown). */
  total?: number
  /** Peers serving the transfer. */
  providers?: number
  /** Short status shown instead of the rate (e.g. "looking for providers"). */
  status?: string
  /** Current rate in bytes/s, when the source measures it (else: average since the first bytes). */
  rate?: number
}

export interface ProgressBar {
  update: (done: number, info?: ProgressInfo) => void
  /** Marks the bar complete (or failed) and draws it a last time. */
  finish: (note?: string) => void
}

type Colour = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan'
const CODES: Record<Colour, [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] }

const BAR_WIDTH = 24
const REDRAW_MS = 100

interface Bar {
  label: string
  done: number
  total?: number
  providers?: number
  status?: string
  rate?: number
  /** First update that had bytes: rates count from there (not from start-up, not resumed bytes). */
  first?: { done: number, at: number }
  finished?: string
  /** Last 10 % step printed in plain mode. */
  step: number
}

export class Output {
  readonly json: boolean
  /** stdout is a terminal. */
  readonly tty: boolean
  readonly colour: boolean
  private readonly stdout: NodeJS.WritableStream
  private readonly stderr: NodeJS.WritableStream
  private readonly stderrTty: boolean
  private readonly debug: boolean
  private bars: Bar[] = []
  private drawn = 0
  private lastDraw = 0

  constructor (init: OutputInit = {}) {
    const env = init.env ?? process.env
    this.stdout = init.stdout ?? process.stdout
    this.stderr = init.stderr ?? process.stderr
    this.json = init.json ?? false
    this.tty = (this.stdout as NodeJS.WriteStream).isTTY === true
    this.stderrTty = (this.stderr as NodeJS.WriteStream).isTTY === true
    this.colour = this.tty && env.NO_COLOR == null && env.TERM !== 'dumb'
    this.debug = env.DEBUG != null && env.DEBUG !== ''
    // `swarmdrop ls | head -1`: the reader went away; drop further output instead of crashing
    for (const stream of [this.stdout, this.stderr]) {
      stream.on?.('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err
      })
    }
  }

  /** Resolves once everything written so far was handed to the OS (call before exiting). */
  async flush (): Promise<void> {
    await Promise.all([this.stdout, this.stderr].map(async s => { await new Promise<void>(resolve => { s.write('', () => { resolve() }) }) }))
  }

  /** Wraps text in a colour when colours are on. */
  style (colour: Colour, text: string): string {
    if (!this.colour) return text
    const [on, off] = CODES[colour]
    return `\x1b[${on}m${text}\x1b[${off}m`
  }

  /** One human-readable line on stdout (nothing in --json mode). */
  print (line = ''): void {
    if (this.json) return
    this.withBarsCleared(() => { this.stdout.write(line + '\n') })
  }

  /** The command's one JSON document (only in --json mode). */
  data (value: unknown): void {
    if (!this.json) return
    this.stdout.write(JSON.stringify(value, null, 2) + '\n')
  }

  /** One JSON line (streams: `sub`, `start --json` events). */
  event (value: unknown): void {
    this.stdout.write(JSON.stringify(value) + '\n')
  }

  /** A note for people on stderr (not in --json mode). */
  note (line: string): void {
    if (this.json) return
    this.withBarsCleared(() => { this.stderr.write(this.styleErr('dim', line) + '\n') })
  }

  /** An error: one line on stderr, the stack too when DEBUG is set. */
  error (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    this.withBarsCleared(() => {
      this.stderr.write(`${this.styleErr('red', 'swarmdrop: error:')} ${message}\n`)
      if (this.debug && err instanceof Error && err.stack != null) this.stderr.write(err.stack + '\n')
    })
  }

  /** Usage text on stderr (after a usage error). */
  usage (text: string): void {
    this.withBarsCleared(() => { this.stderr.write(text.endsWith('\n') ? text : text + '\n') })
  }

  /** Raw text on stdout (help, key material). */
  raw (text: string): void {
    this.withBarsCleared(() => { this.stdout.write(text) })
  }

  /**
   * A progress bar for `total` bytes: drawn on stderr when it is a terminal,
   * a plain line every 10 % otherwise, nothing in --json mode.
   */
  progress (label: string, total?: number): ProgressBar {
    const bar: Bar = { label, done: 0, step: -1, status: 'waiting…' }
    if (total != null) bar.total = total
    if (this.json) return { update: () => {}, finish: () => {} }
    if (this.stderrTty) {
      this.bars.push(bar)
      this.draw(true)
    }
    return {
      update: (done, info = {}) => {
        bar.done = done
        if (bar.first == null && done > 0) bar.first = { done, at: Date.now() }
        if (info.total != null) bar.total = info.total
        if (info.providers != null) bar.providers = info.providers
        bar.rate = info.rate
        bar.status = info.status
        if (this.stderrTty) {
          this.draw(false)
        } else if (done > 0 && bar.total != null && bar.total > 0) {
          const step = Math.floor(done / bar.total * 10)
          if (step > bar.step) {
            bar.step = step
            this.stderr.write(`${label}: ${Math.min(100, step * 10)}% (${formatBytes(done)} of ${formatBytes(bar.total)})\n`)
          }
        }
      },
      finish: (note) => {
        bar.finished = note ?? 'done'
        if (!this.stderrTty) return
        this.draw(true)
        if (this.bars.every(b => b.finished != null)) {
          this.bars = []
          this.drawn = 0
        }
      }
    }
  }

  private styleErr (colour: Colour, text: string): string {
    return this.stderrTty && this.colour ? this.style(colour, text) : text
  }

  private barLine (b: Bar): string {
    const average = b.first == null ? 0 : (b.done - b.first.done) / Math.max(1, Date.now() - b.first.at) * 1000
    const rate = b.finished == null && b.rate != null ? b.rate : average
    const frac = b.total != null && b.total > 0 ? Math.min(1, b.done / b.total) : 0
    const filled = Math.round(frac * BAR_WIDTH)
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled)
    const parts = [b.label, this.styleErr(b.finished != null ? 'green' : 'cyan', bar), `${String(Math.floor(frac * 100)).padStart(3)}%`,
      `${formatBytes(b.done)}${b.total != null ? ` / ${formatBytes(b.total)}` : ''}`]
    if (b.finished != null) {
      parts.push(formatRate(rate), b.finished)
    } else if (b.status != null) {
      parts.push(b.status)
    } else {
      parts.push(formatRate(rate))
      if (b.providers != null) parts.push(`${b.providers} peer${b.providers === 1 ? '' : 's'}`)
      if (b.total != null && rate > 0) parts.push(`ETA ${formatDuration((b.total - b.done) / rate * 1000)}`)
    }
    return parts.join('  ')
  }

  private draw (force: boolean): void {
    const now = Date.now()
    if (!force && now - this.lastDraw < REDRAW_MS) return
    this.lastDraw = now
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : ''
    for (const b of this.bars) text += `\x1b[2K${this.barLine(b)}\n`
    this.drawn = this.bars.length
    this.stderr.write(text)
  }

  private withBarsCleared (fn: () => void): void {
    if (this.drawn === 0) {
      fn()
      return
    }
    this.stderr.write(`\x1b[${this.drawn}F\x1b[0J`)
    this.drawn = 0
    fn()
    this.draw(true)
  }
}
