/**
 * Runs the real binary in a pseudo-terminal of a given size (python3's pty module: no npm
 * package) and reads back what a terminal would show: `screen()` interprets \r, \n and the
 * ANSI cursor/erase codes the output layer writes, and reports any line that wrapped.
 */
import { spawn } from 'node:child_process'
import { BIN } from './cli.js'

const PTY_RUNNER = `
import os, pty, sys, fcntl, termios, struct
rows, cols = int(sys.argv[1]), int(sys.argv[2])
# resize: when the output first holds this text, the window gets these columns (SIGWINCH, as stty cols does)
trigger, new_cols = sys.argv[3].encode(), int(sys.argv[4])
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(sys.argv[5], sys.argv[5:])
out = bytearray()
resized_at = -1
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
    if trigger and resized_at < 0 and trigger in out:
        resized_at = len(out)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, new_cols, 0, 0))
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stdout.buffer.write(b'\\x00RESIZED_AT=%d' % resized_at)
sys.stdout.flush()
sys.exit(os.waitstatus_to_exitcode(status))
`

export interface PtyResult {
  code: number | null
  raw: string
  /** With `resize`: the output before the window changed size, and after (empty when it never did). */
  before: string
  after: string
}

export interface PtyOptions {
  cols: number
  rows?: number
  cwd?: string
  env?: Record<string, string>
  timeout?: number
  /** Resize the terminal to `cols` columns once the output first contains `when`. */
  resize?: { when: string, cols: number }
}

/** Runs `swarmdrop ARGS...` with stdout and stderr on a terminal of `cols` columns. */
export async function runInPty (args: string[], options: PtyOptions): Promise<PtyResult> {
  const resize = options.resize ?? { when: '', cols: options.cols }
  const child = spawn('python3', ['-c', PTY_RUNNER, String(options.rows ?? 40), String(options.cols), resize.when, String(resize.cols), process.execPath, BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, DEBUG: '', TERM: 'xterm', ...options.env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const chunks: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => chunks.push(c))
  const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeout ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  const all = Buffer.concat(chunks)
  const mark = all.lastIndexOf('\x00RESIZED_AT=')
  const bytes = mark >= 0 ? all.subarray(0, mark) : all
  let at = mark >= 0 ? Number(all.subarray(mark + '\x00RESIZED_AT='.length).toString()) : -1
  // split on a character boundary (a read may end inside a UTF-8 sequence)
  while (at > 0 && at < bytes.length && (bytes[at]! & 0xc0) === 0x80) at++
  const raw = bytes.toString('utf8')
  return {
    code,
    raw,
    before: at >= 0 ? bytes.subarray(0, at).toString('utf8') : raw,
    after: at >= 0 ? bytes.subarray(at).toString('utf8') : ''
  }
}

export interface Screen {
  /** The final screen, one string per line, trailing spaces and blank lines dropped. */
  lines: string[]
  /** Lines that ran past the last column (a terminal wraps them). */
  wrapped: string[]
  /** The longest line ever drawn, in columns. */
  widest: number
}

/** What a terminal of `cols` columns shows after `raw`: CR, LF, CSI F/A/G/K/J/m (others ignored). */
export function screen (raw: string, cols: number): Screen {
  const lines: string[][] = [[]]
  const wrapped: string[] = []
  let row = 0
  let col = 0
  let widest = 0
  const line = (r: number): string[] => {
    while (lines.length <= r) lines.push([])
    return lines[r]!
  }
  const chars = [...raw]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!
    if (ch === '\r') {
      col = 0
    } else if (ch === '\n') {
      row++
      line(row)
    } else if (ch === '\x1b') {
      if (chars[i + 1] !== '[') {
        i++
        continue
      }
      let j = i + 2
      let params = ''
      while (j < chars.length && /[0-9;?]/.test(chars[j]!)) params += chars[j++]
      const cmd = chars[j]
      i = j
      const n = params === '' ? undefined : Number(params.split(';')[0])
      if (cmd === 'F') {
        row = Math.max(0, row - (n ?? 1))
        col = 0
      } else if (cmd === 'A') {
        row = Math.max(0, row - (n ?? 1))
      } else if (cmd === 'G') {
        col = (n ?? 1) - 1
      } else if (cmd === 'K') {
        const l = line(row)
        if ((n ?? 0) === 2) l.length = 0
        else if ((n ?? 0) === 0) l.length = Math.min(l.length, col)
      } else if (cmd === 'J' && (n ?? 0) === 0) {
        const l = line(row)
        l.length = Math.min(l.length, col)
        lines.length = row + 1
      }
    } else if (ch >= ' ') {
      if (col >= cols) {
        wrapped.push(line(row).join(''))
        row++
        col = 0
      }
      const l = line(row)
      while (l.length < col) l.push(' ')
      l[col] = ch
      col++
      widest = Math.max(widest, col)
    }
  }
  const text = lines.map(l => l.join('').trimEnd())
  while (text.length > 0 && text[text.length - 1] === '') text.pop()
  return { lines: text, wrapped, widest }
}
