/**
 * A small SVG line-chart generator for the benchmark figures (no dependency):
 * one chart is a titled frame with axes, ticks, a legend and one polyline with
 * dots per series. Output is plain text, stable for the same input.
 */

export interface Series {
  name: string
  colour: string
  values: number[]
  /** Dashed line (e.g. a target or a theoretical curve). */
  dashed?: boolean
}

export interface LineChartSpec {
  title: string
  xLabel: string
  yLabel: string
  /** X positions (shared by every series). */
  x: number[]
  series: Series[]
  /** Place x on a log2 scale (N = 1, 2, 4, 8, 16 spaced evenly). */
  logX?: boolean
  /** Formats a y tick / value (default: up to 2 decimals). */
  formatY?: (v: number) => string
}

export interface Box { x: number, y: number, width: number, height: number }

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'

export function escapeXml (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const fmt = (n: number): string => String(Math.round(n * 10) / 10)

/** A "nice" step for about `count` ticks up to `max` (1, 2, 2.5 or 5 × 10^k). */
export function niceStep (max: number, count = 5): number {
  if (!(max > 0)) return 1
  const raw = max / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag
  return 10 * mag
}

function defaultFormat (v: number): string {
  return String(Math.round(v * 100) / 100)
}

/** One chart inside `box`, as an SVG `<g>` element. */
export function lineChart (spec: LineChartSpec, box: Box): string {
  const formatY = spec.formatY ?? defaultFormat
  const pad = { left: 56, right: 16, top: 44, bottom: 46 }
  const plot = { x: box.x + pad.left, y: box.y + pad.top, width: box.width - pad.left - pad.right, height: box.height - pad.top - pad.bottom }
  const all = spec.series.flatMap(s => s.values).filter(Number.isFinite)
  const step = niceStep(Math.max(...all, 0))
  const yMax = Math.max(step, Math.ceil(Math.max(...all, 0) / step) * step)
  const tx = (v: number): number => {
    const xs = spec.logX === true ? spec.x.map(Math.log2) : spec.x
    const val = spec.logX === true ? Math.log2(v) : v
    const lo = Math.min(...xs)
    const hi = Math.max(...xs)
    return plot.x + (hi === lo ? plot.width / 2 : (val - lo) / (hi - lo) * plot.width)
  }
  const ty = (v: number): number => plot.y + plot.height - v / yMax * plot.height

  const out: string[] = [`<g ${FONT}>`]
  out.push(`<text x="${fmt(box.x + box.width / 2)}" y="${fmt(box.y + 18)}" text-anchor="middle" font-size="14" font-weight="600" fill="#222">${escapeXml(spec.title)}</text>`)
  // grid and y ticks
  for (let v = 0; v <= yMax + step / 1000; v += step) {
    const y = ty(v)
    out.push(`<line x1="${fmt(plot.x)}" y1="${fmt(y)}" x2="${fmt(plot.x + plot.width)}" y2="${fmt(y)}" stroke="#e5e5e5" stroke-width="1"/>`)
    out.push(`<text x="${fmt(plot.x - 6)}" y="${fmt(y + 4)}" text-anchor="end" font-size="11" fill="#555">${escapeXml(formatY(v))}</text>`)
  }
  // x ticks
  for (const v of spec.x) {
    const x = tx(v)
    out.push(`<line x1="${fmt(x)}" y1="${fmt(plot.y + plot.height)}" x2="${fmt(x)}" y2="${fmt(plot.y + plot.height + 4)}" stroke="#555"/>`)
    out.push(`<text x="${fmt(x)}" y="${fmt(plot.y + plot.height + 17)}" text-anchor="middle" font-size="11" fill="#555">${v}</text>`)
  }
  // axes
  out.push(`<path d="M${fmt(plot.x)},${fmt(plot.y)} V${fmt(plot.y + plot.height)} H${fmt(plot.x + plot.width)}" fill="none" stroke="#555" stroke-width="1"/>`)
  out.push(`<text x="${fmt(plot.x + plot.width / 2)}" y="${fmt(box.y + box.height - 8)}" text-anchor="middle" font-size="12" fill="#333">${escapeXml(spec.xLabel)}</text>`)
  const yLabelX = box.x + 14
  const yLabelY = plot.y + plot.height / 2
  out.push(`<text x="${fmt(yLabelX)}" y="${fmt(yLabelY)}" text-anchor="middle" font-size="12" fill="#333" transform="rotate(-90 ${fmt(yLabelX)} ${fmt(yLabelY)})">${escapeXml(spec.yLabel)}</text>`)
  // series
  for (const s of spec.series) {
    const points = spec.x.map((xv, i) => [xv, s.values[i]] as const).filter((p): p is readonly [number, number] => p[1] != null && Number.isFinite(p[1]))
    const d = points.map(([xv, yv], i) => `${i === 0 ? 'M' : 'L'}${fmt(tx(xv))},${fmt(ty(yv))}`).join(' ')
    out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2.5"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`)
    if (s.dashed !== true) {
      for (const [xv, yv] of points) {
        out.push(`<circle cx="${fmt(tx(xv))}" cy="${fmt(ty(yv))}" r="3.5" fill="${s.colour}"><title>${escapeXml(`${s.name}, N = ${xv}: ${formatY(yv)}`)}</title></circle>`)
      }
    }
  }
  // legend, top left inside the plot
  spec.series.forEach((s, i) => {
    const y = plot.y + 8 + i * 16
    out.push(`<line x1="${fmt(plot.x + 10)}" y1="${fmt(y)}" x2="${fmt(plot.x + 30)}" y2="${fmt(y)}" stroke="${s.colour}" stroke-width="2.5"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`)
    out.push(`<text x="${fmt(plot.x + 36)}" y="${fmt(y + 4)}" font-size="11" fill="#333">${escapeXml(s.name)}</text>`)
  })
  out.push('</g>')
  return out.join('\n')
}

/** A standalone SVG document of `width` × `height` holding `parts`, on a white background. */
export function svgDocument (width: number, height: number, parts: string[], options: { title?: string, note?: string } = {}): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">`,
    options.title != null ? `<title>${escapeXml(options.title)}</title>` : '',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    options.note != null ? `<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#777" ${FONT}>${escapeXml(options.note)}</text>` : '',
    '</svg>',
    ''
  ]
  return out.filter(l => l !== '').join('\n') + '\n'
}
