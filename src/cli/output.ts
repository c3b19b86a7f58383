/**
 * The output layer: the only module of src/ that writes to the terminal.
 *
 * - stdout a TTY: readable lines with colours; progress bars on stderr.
 * - stdout piped: the same lines without colours; progress as a few plain lines on stderr.
 * - `--json`: commands call `data()` once (or `event()` per line for streams); no bars, no human lines.
 * Errors always go to stderr, one line; the stack only with DEBUG set.
 */
import { averageRate, formatBytes, formatDuration, formatRate, printable } from './format.js'

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
  /** A better label once known (the file's name instead of its CID). */
  label?: string
}

export interface ProgressBar {
  update: (done: number, info?: ProgressInfo) => void
  /**
   * Marks the bar complete (or "failed", "cancelled") and draws it a last time; `rate` is the
   * figure the command's summary prints, so the bar and the summary agree.
   */
  finish: (note?: string, final?: { rate?: number }) => void
}

type Colour = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan'
const CODES: Record<Colour, [number, number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] }

const MAX_BAR_WIDTH = 24
const MIN_BAR_WIDTH = 6
/** A label is cut to this many columns when the line is short of room (never below). */
const MIN_LABEL_WIDTH = 10
const REDRAW_MS = 100
/** No ETA until bytes have flowed this long: an early rate is noise. */
const ETA_AFTER_MS = 1000
/** Width when the terminal does not say. */
const DEFAULT_COLUMNS = 80

interface Bar {
  label: string
  done: number
  total?: number
  providers?: number
  status?: string
  /** First update that had bytes: the rate counts from there (not from start-up, not resumed bytes). */
  first?: { done: number, at: number }
  finished?: string
  finalRate?: number
  /** Last 10 % step printed in plain mode. */
  step: number
}

/** Visible width of plain text (one column per code point: labels are made printable first). */
function width (text: string): number {
  return [...text].length
}

/** Cuts `text` to `max` columns, marking the cut with "…". */
export function cut (text: string, max: number): string {
  const chars = [...text]
  if (chars.length <= max) return text
  if (max <= 1) return chars.slice(0, Math.max(0, max)).join('')
  return chars.slice(0, max - 1).join('') + '…'
}

/** A name a peer announced, as a line shows it: printable, cut to 60 columns, in quotes. */
export function quotedName (name: string): string {
  return `"${cut(printable(name), 60)}"`
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

  /** Columns of stdout when it is a terminal (undefined when piped). */
  get width (): number | undefined {
    const c = (this.stdout as NodeJS.WriteStream).columns
    return this.tty && c != null && c > 0 ? c : undefined
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

  /** A warning for people on stderr, `warning: ` first (not in --json mode: the document's fields carry it). */
  warn (line: string): void {
    if (this.json) return
    this.withBarsCleared(() => { this.stderr.write(`${this.styleErr('yellow', 'warning:')} ${line}\n`) })
  }

  /** An error: one line on stderr, the stack too when DEBUG is set. */
  error (err: unknown): void {
    // advice in the library's terms has a command-line wording (src/node/errors.ts)
    const cli = (err as { cliMessage?: unknown } | undefined)?.cliMessage
    const message = typeof cli === 'string' ? cli : err instanceof Error ? err.message : String(err)
    this.withBarsCleared(() => {
      this.stderr.write(`${this.styleErr('red', 'swarmdrop: error:')} ${message}\n`)
      if (this.debug && err instanceof Error && err.stack != null) this.stderr.write(err.stack + '\n')
    })
  }

  /** Usage text on stderr (after a usage error). */
  usage (text: string): void {
    this.withBarsCleared(() => { this.stderr.write(text.endsWith('\n') ? text : text + '\n') })
  }

  /** Bytes on stdout (`get -o -`), with backpressure. */
  async pipe (source: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const chunk of source) {
      if (!this.stdout.write(chunk)) await new Promise<void>(resolve => { this.stdout.once('drain', resolve) })
    }
  }

  /** Raw text on stdout (help, key material). */
  raw (text: string): void {
    this.withBarsCleared(() => { this.stdout.write(text) })
  }

  /**
   * A progress bar for `total` bytes: drawn on stderr when it is a terminal (fitted to
   * its width, redrawn on resize), a plain line every 10 % otherwise, nothing in --json mode.
   */
  progress (label: string, total?: number): ProgressBar {
    const bar: Bar = { label: printable(label), done: 0, step: -1, status: 'waiting…' }
    if (total != null) bar.total = total
    if (this.json) return { update: () => {}, finish: () => {} }
    if (this.stderrTty) {
      if (this.bars.length === 0) this.stderr.on('resize', this.onResize)
      this.bars.push(bar)
      this.draw(true)
    }
    return {
      update: (done, info = {}) => {
        bar.done = done
        if (bar.first == null && done > 0) bar.first = { done, at: Date.now() }
        if (info.total != null) bar.total = info.total
        if (info.providers != null) bar.providers = info.providers
        if (info.label != null) bar.label = printable(info.label)
        bar.status = info.status
        if (this.stderrTty) {
          this.draw(false)
        } else if (done > 0 && bar.total != null && bar.total > 0) {
          const step = Math.floor(done / bar.total * 10)
          if (step > bar.step) {
            bar.step = step
            this.stderr.write(`${bar.label}: ${Math.min(100, step * 10)}% (${formatBytes(done)} of ${formatBytes(bar.total)})\n`)
          }
        }
      },
      finish: (note, final = {}) => {
        if (bar.finished != null) return
        bar.finished = note ?? 'done'
        if (final.rate != null) bar.finalRate = final.rate
        if (!this.stderrTty) {
          // a bar that printed nothing yet stays silent on failure (the error says why), not on Ctrl-C
          if (note != null && (bar.step >= 0 || note === 'cancelled')) this.stderr.write(`${bar.label}: ${note}\n`)
          return
        }
        this.draw(true)
        if (this.bars.every(b => b.finished != null)) {
          this.bars = []
          this.drawn = 0
          this.stderr.off?.('resize', this.onResize)
        }
      }
    }
  }

  /** Columns of the terminal the bars are drawn on. */
  private columns (): number {
    const c = (this.stderr as NodeJS.WriteStream).columns
    return c != null && c > 0 ? c : DEFAULT_COLUMNS
  }

  private readonly onResize = (): void => {
    if (this.drawn === 0) return
    // the old lines may have been rewrapped: clear from the first of them down, then redraw
    this.stderr.write(`\x1b[${this.drawn}F\x1b[0J`)
    this.drawn = 0
    this.draw(true)
  }

  private styleErr (colour: Colour, text: string): string {
    return this.stderrTty && this.colour ? this.style(colour, text) : text
  }

  /** The rate a bar shows: the summary's figure once finished, else the average since the first bytes. */
  private rateOf (b: Bar, now: number): number | undefined {
    if (b.finalRate != null) return b.finalRate
    if (b.first == null) return undefined
    const ms = now - b.first.at
    return ms > 0 ? averageRate(b.done - b.first.done, ms) : undefined
  }

  /** One bar as a line of at most `columns - 1` columns (a full-width line would wrap on some terminals). */
  private barLine (b: Bar, labelWidth: number, columns: number): string {
    const now = Date.now()
    const max = Math.max(20, columns - 1)
    const rate = this.rateOf(b, now)
    const frac = b.total != null && b.total > 0 ? Math.min(1, b.done / b.total) : 0
    const pct = `${String(Math.floor(frac * 100)).padStart(3)}%`
    const size = `${formatBytes(b.done)}${b.total != null ? ` / ${formatBytes(b.total)}` : ''}`
    const tail: string[] = []
    const optional: string[] = []
    if (b.finished != null) {
      if (rate != null && b.finished === 'done') tail.push(formatRate(rate))
      tail.push(b.finished)
    } else if (b.status != null) {
      tail.push(b.status)
    } else {
      tail.push(rate != null ? formatRate(rate) : '…')
      if (b.providers != null) optional.push(`${b.providers} peer${b.providers === 1 ? '' : 's'}`)
      if (b.total != null && rate != null && rate > 0 && b.first != null && now - b.first.at >= ETA_AFTER_MS) {
        optional.push(`ETA ${formatDuration((b.total - b.done) / rate * 1000)}`)
      }
    }
    const gap = 2
    const fixed = (): number => [pct, size, ...tail, ...optional].reduce((n, p) => n + width(p) + gap, 0)
    // room for the label and the bar; drop the optional parts first when short of it
    while (optional.length > 0 && max - fixed() < MIN_LABEL_WIDTH + MIN_BAR_WIDTH + gap) optional.pop()
    const room = max - fixed()
    const label = Math.min(labelWidth, Math.max(MIN_LABEL_WIDTH, room - MIN_BAR_WIDTH - gap))
    const barWidth = Math.min(MAX_BAR_WIDTH, room - label - gap)
    const parts: string[] = [cut(b.label, label).padEnd(label)]
    let bar = ''
    if (barWidth >= MIN_BAR_WIDTH) {
      const filled = Math.round(frac * barWidth)
      bar = '█'.repeat(filled) + '░'.repeat(barWidth - filled)
      parts.push(bar)
    }
    parts.push(pct, size, ...tail, ...optional)
    // last resort on a very narrow terminal: cut the line itself (before colouring it)
    const line = cut(parts.join(' '.repeat(gap)), max)
    if (bar === '' || !line.includes(bar)) return line
    return line.replace(bar, this.styleErr(b.finished != null ? (b.finished === 'done' ? 'green' : 'red') : 'cyan', bar))
  }

  private draw (force: boolean): void {
    const now = Date.now()
    if (!force && now - this.lastDraw < REDRAW_MS) return
    this.lastDraw = now
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : ''
    const columns = this.columns()
    const labelWidth = Math.max(...this.bars.map(b => width(b.label)))
    for (const b of this.bars) text += `\x1b[2K${this.barLine(b, labelWidth, columns)}\n`
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
