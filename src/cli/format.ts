/** Pure formatting helpers of the command line (no I/O). */
import { createHash } from 'node:crypto'
import type { ControlLogEvent } from '../control/handlers.js'

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 → "1.5 KiB". */
export function formatBytes (n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?'
  let i = 0
  let v = n
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]!}`
}

/**
 * The one average rate of the CLI, bytes per second: `bytes` over `ms`. Bars, summaries, the
 * node's log and --json all take their figure from here, so they agree.
 */
export function averageRate (bytes: number, ms: number): number {
  return bytes / Math.max(ms, 1) * 1000
}

/** Bytes per second → "12.3 MiB/s". */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`
}

/** Durations in ms within a message said as people say them: "(waited 30000 ms)" → "(waited 30 s)". */
export function humaneDurations (message: string): string {
  return message.replace(/\b(\d{4,}) ms\b/g, (_, ms: string) => formatDuration(Number(ms)).replace(/\.0 s$/, ' s'))
}

/** Milliseconds → "850 ms", "3.2 s", "2m05s". */
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** A swarm key's fingerprint: the first 8 bytes of its SHA-256, as 4 groups of hex (tells keys apart, reveals nothing). */
export function keyFingerprint (key: Uint8Array | string): string {
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 16)
  return hex.match(/.{4}/g)!.join(':')
}

/** The swarm as the banner, status, id and peers show it: `team`, or `team (private, key a1b2:…)`. */
export function swarmLabel (swarm: string, fingerprint?: string): string {
  return fingerprint != null ? `${swarm} (private, key ${fingerprint})` : swarm
}

export { shortId } from '../util/strings.js'

/** Rows of cells → aligned text lines (first row is the header). */
export function formatTable (rows: readonly (readonly string[])[], options: { align?: ('left' | 'right')[], gap?: number } = {}): string[] {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, [...cell].length) })
  }
  const gap = ' '.repeat(options.gap ?? 2)
  return rows.map(row => row.map((cell, i) => {
    const pad = (widths[i] ?? 0) - [...cell].length
    const last = i === row.length - 1
    if (options.align?.[i] === 'right') return ' '.repeat(pad) + cell
    return last ? cell : cell + ' '.repeat(pad)
  }).join(gap))
}

/**
 * Text from other peers (file names, nicknames, messages) made safe to print on a
 * terminal: control characters (escape sequences included) and bidi overrides become `?`.
 */
export function printable (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?')
}

/**
 * A control request's log event as `swarmdrop start` prints it: the fields of
 * its `--json` line and its human line. (A decrypted file's name stays out of
 * the JSON log: it is the plaintext name the swarm never saw.)
 */
export function describeControlEvent (e: ControlLogEvent): { detail: Record<string, unknown>, human: string } {
  const { event: _, ...detail } = e
  switch (e.event) {
    case 'file:shared':
      return { detail, human: `shared       ${printable(e.name)} (${formatBytes(e.size)}${e.encrypted ? ', encrypted' : ''}) ${e.cid}` }
    case 'file:removed':
      return { detail, human: `removed      ${e.cid}` }
    case 'fetch:start':
      return { detail, human: `fetching     ${e.cid}` }
    case 'fetch:progress': {
      const quarter = e.total != null && e.total > 0 ? Math.floor(e.bytes / e.total * 4) : 0
      return { detail, human: `fetching     ${e.cid} ${quarter * 25}% from ${e.providers} peer(s)` }
    }
    case 'fetch:done':
      return {
        detail: { ...detail, name: e.decrypted ? undefined : e.name },
        human: `fetched      ${printable(e.name)} (${formatBytes(e.size)}) in ${formatDuration(e.elapsed)}, ${formatRate(averageRate(e.received, e.elapsed))}, to ${e.path}`
      }
    case 'fetch:failed':
      return { detail, human: e.cancelled ? `cancelled    fetch of ${e.cid} (the client stopped it)` : `fetch failed ${e.cid}: ${humaneDurations(e.error)}` }
  }
}

/**
 * `text` broken into lines of at most `max` columns at spaces (a word longer than a line is cut
 * where it must); lines after the first start with `indent`.
 */
export function wrapWords (text: string, max: number, indent = '  '): string[] {
  const lines: string[] = []
  let line = ''
  const room = (): number => max - (lines.length === 0 ? 0 : indent.length)
  for (let word of text.split(' ')) {
    while ([...word].length > room()) {
      if (line !== '') { lines.push(line); line = '' }
      const chars = [...word]
      lines.push(chars.slice(0, room()).join(''))
      word = chars.slice(room()).join('')
    }
    if (line === '') line = word
    else if ([...line].length + 1 + [...word].length <= room()) line += ' ' + word
    else { lines.push(line); line = word }
  }
  if (line !== '') lines.push(line)
  return lines.map((l, i) => i === 0 ? l : indent + l)
}
