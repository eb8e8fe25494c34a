/**
 * Charts of feature attributions for tabular models, as standalone SVG: a bar chart of one
 * example's attributions, a waterfall from the baseline's output to the prediction, and a
 * beeswarm summary of many examples (one row per feature, one dot per example, coloured by the
 * feature's value). Feature names are escaped.
 *
 * Captum has no tabular charts (its tutorials use matplotlib bars); the waterfall and beeswarm
 * follow the conventions of the SHAP library's plots.
 *
 * @category viz
 * @since 0.2.0
 */
import { COLORMAPS, colourFor, cssRgb } from './colormaps.js'
import { el, fmtValue, svgDoc, type Markup } from './svg.js'

export interface BarChartOptions {
  readonly title?: string
  /** Order of the bars: by |value| (default, largest first) or as given. */
  readonly sort?: 'magnitude' | 'none'
  /** Show only the `topK` bars after sorting (default all). */
  readonly topK?: number
  readonly width?: number
}

const POS = cssRgb(colourFor(COLORMAPS.blueRed, 0.8))
const NEG = cssRgb(colourFor(COLORMAPS.blueRed, -0.8))

const checkLengths = (names: readonly string[], n: number, what: string): void => {
  if (names.length !== n) throw new RangeError(`${what}: ${names.length} feature names but ${n} values`)
}

/** Indices in display order. */
const order = (values: readonly number[], sort: 'magnitude' | 'none' = 'magnitude', topK?: number): number[] => {
  const idx = values.map((_, i) => i)
  if (sort === 'magnitude') idx.sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b)
  return topK === undefined ? idx : idx.slice(0, Math.max(0, topK))
}

/** A horizontal axis with ticks at min, 0 and max. */
const axis = (x0: number, y: number, w: number, lo: number, hi: number): Markup => {
  const at = (v: number): number => x0 + ((v - lo) / (hi - lo)) * w
  // 0 is left out when it would print over the end ticks' labels
  const ticks = [...new Set([lo, 0, hi])].filter((v) => v >= lo && v <= hi && (v !== 0 || v === lo || v === hi || (at(0) - x0 > 44 && x0 + w - at(0) > 44)))
  return el('g', { class: 'axis', fill: '#444' },
    el('line', { x1: x0, y1: y, x2: x0 + w, y2: y, stroke: '#888' }),
    ticks.map((v) => [el('line', { x1: at(v), y1: y, x2: at(v), y2: y + 4, stroke: '#888' }), el('text', { x: at(v), y: y + 16, 'text-anchor': 'middle' }, fmtValue(v))]),
  )
}

/** Room left of the plot for the longest label (about 7.5 px a character at the charts' font size). */
const labelMargin = (labels: readonly string[], min: number): number =>
  Math.min(360, Math.max(min, 14 + Math.ceil(7.5 * Math.max(0, ...labels.map((l) => [...l].length)))))

/** The value range of a chart, always containing 0 and never empty. */
const range = (vs: readonly number[]): [number, number] => {
  const finite = vs.filter(Number.isFinite)
  let lo = Math.min(0, ...finite)
  let hi = Math.max(0, ...finite)
  if (lo === hi) {
    lo -= 1
    hi += 1
  }
  return [lo, hi]
}

/** One example's attributions as horizontal bars (red positive, blue negative), labelled with names and values. */
export const barChartSvg = (names: readonly string[], values: readonly number[], o: BarChartOptions = {}): string => {
  checkLengths(names, values.length, 'barChartSvg')
  const idx = order(values, o.sort, o.topK)
  const width = o.width ?? 560
  const left = labelMargin(idx.map((i) => names[i]!), 150)
  const right = 70
  const top = o.title !== undefined ? 30 : 10
  const rowH = 22
  const plotW = width - left - right
  const [lo, hi] = range(idx.map((i) => values[i]!))
  const at = (v: number): number => left + ((v - lo) / (hi - lo)) * plotW
  const bars = idx.map((i, r) => {
    const v = Number.isFinite(values[i]!) ? values[i]! : 0
    const y = top + r * rowH
    return el('g', {},
      el('text', { x: left - 6, y: y + 14, 'text-anchor': 'end' }, names[i]!),
      el('rect', { x: Math.min(at(0), at(v)), y: y + 3, width: Math.abs(at(v) - at(0)), height: rowH - 6, fill: v >= 0 ? POS : NEG }),
      el('text', { x: Math.max(at(0), at(v)) + 4, y: y + 14, fill: '#333' }, fmtValue(values[i]!)),
    )
  })
  const yAxis = top + idx.length * rowH + 4
  return svgDoc(width, yAxis + 24,
    o.title !== undefined ? el('text', { x: 8, y: 18, 'font-weight': 600 }, o.title) : null,
    el('line', { x1: at(0), y1: top, x2: at(0), y2: yAxis, stroke: '#bbb' }),
    bars,
    axis(left, yAxis, plotW, lo, hi),
  )
}

export interface WaterfallOptions extends BarChartOptions {
  /** Label of the start bar (default `baseline output`). */
  readonly baseLabel?: string
}

/**
 * A waterfall: starting at `base` (the model's output at the baseline, E[f] for SHAP), each
 * feature's attribution moves the running total, ending at base + Σ attributions, which for a
 * complete method (IG, DeepLift, Shapley values) is the prediction. Features beyond `topK` are
 * merged into one step ("n other features").
 */
export const waterfallSvg = (names: readonly string[], values: readonly number[], base: number, o: WaterfallOptions = {}): string => {
  checkLengths(names, values.length, 'waterfallSvg')
  const all = order(values, o.sort, undefined)
  const shown = o.topK === undefined ? all : all.slice(0, o.topK)
  const rest = all.slice(shown.length)
  const steps: { label: string; v: number }[] = shown.map((i) => ({ label: names[i]!, v: Number.isFinite(values[i]!) ? values[i]! : 0 }))
  if (rest.length > 0) steps.push({ label: `${rest.length} other feature${rest.length === 1 ? '' : 's'}`, v: rest.reduce((a, i) => a + (Number.isFinite(values[i]!) ? values[i]! : 0), 0) })
  const totals: number[] = [base]
  for (const s of steps) totals.push(totals[totals.length - 1]! + s.v)
  const end = totals[totals.length - 1]!
  const width = o.width ?? 600
  const left = labelMargin([o.baseLabel ?? 'baseline output', 'baseline + Σ attributions', ...steps.map((st) => st.label)], 160)
  const right = 80
  const top = o.title !== undefined ? 30 : 10
  const rowH = 22
  const plotW = width - left - right
  const [lo0, hi0] = range(totals)
  const at = (v: number): number => left + ((v - lo0) / (hi0 - lo0)) * plotW
  const rows = [
    el('g', {},
      el('text', { x: left - 6, y: top + 14, 'text-anchor': 'end' }, o.baseLabel ?? 'baseline output'),
      el('line', { x1: at(base), y1: top + 2, x2: at(base), y2: top + rowH - 2, stroke: '#333', 'stroke-width': 2 }),
      el('text', { x: at(base) + 4, y: top + 14 }, fmtValue(base))),
    ...steps.map((s, r) => {
      const y = top + (r + 1) * rowH
      const a = totals[r]!
      const b = totals[r + 1]!
      return el('g', {},
        el('text', { x: left - 6, y: y + 14, 'text-anchor': 'end' }, s.label),
        el('rect', { x: Math.min(at(a), at(b)), y: y + 3, width: Math.max(1, Math.abs(at(b) - at(a))), height: rowH - 6, fill: s.v >= 0 ? POS : NEG }),
        el('text', { x: Math.max(at(a), at(b)) + 4, y: y + 14, fill: '#333' }, `${s.v >= 0 ? '+' : ''}${fmtValue(s.v)}`),
      )
    }),
  ]
  const yEnd = top + (steps.length + 1) * rowH
  const yAxis = yEnd + rowH + 4
  return svgDoc(width, yAxis + 24,
    o.title !== undefined ? el('text', { x: 8, y: 18, 'font-weight': 600 }, o.title) : null,
    rows,
    el('g', {},
      el('text', { x: left - 6, y: yEnd + 14, 'text-anchor': 'end', 'font-weight': 600 }, 'baseline + Σ attributions'),
      el('line', { x1: at(end), y1: yEnd + 2, x2: at(end), y2: yEnd + rowH - 2, stroke: '#333', 'stroke-width': 2 }),
      el('text', { x: at(end) + 4, y: yEnd + 14, 'font-weight': 600 }, fmtValue(end))),
    axis(left, yAxis, plotW, lo0, hi0),
  )
}

export interface BeeswarmOptions {
  readonly title?: string
  /** Feature values, same shape as the attributions ([examples][features]): dots coloured low → high per feature. */
  readonly featureValues?: readonly (readonly number[])[]
  readonly topK?: number
  readonly width?: number
}

/**
 * A beeswarm summary over many examples: one row per feature (by mean |attribution|, largest
 * first), one dot per example at its attribution, stacked up and down where dots would overlap;
 * dots coloured by the feature's value (viridis, low → high per feature) when `featureValues` is
 * given, grey otherwise. `attributions` is [examples][features].
 */
export const beeswarmSvg = (names: readonly string[], attributions: readonly (readonly number[])[], o: BeeswarmOptions = {}): string => {
  attributions.forEach((row, i) => {
    if (row.length !== names.length) throw new RangeError(`beeswarmSvg: example ${i} has ${row.length} attributions for ${names.length} features`)
  })
  if (o.featureValues !== undefined && (o.featureValues.length !== attributions.length || o.featureValues.some((r) => r.length !== names.length))) {
    throw new RangeError('beeswarmSvg: featureValues must have the shape of the attributions ([examples][features])')
  }
  const meanAbs = names.map((_, j) => attributions.reduce((a, r) => a + (Number.isFinite(r[j]!) ? Math.abs(r[j]!) : 0), 0) / Math.max(1, attributions.length))
  const idx = order(meanAbs, 'magnitude', o.topK)
  const width = o.width ?? 640
  const left = labelMargin(idx.map((j) => names[j]!), 150)
  const right = 30
  const top = o.title !== undefined ? 30 : 10
  const rowH = 36
  const r = 3
  const plotW = width - left - right
  const [lo, hi] = range(attributions.flatMap((row) => idx.map((j) => row[j]!)))
  const at = (v: number): number => left + ((v - lo) / (hi - lo)) * plotW
  const rows = idx.map((j, k) => {
    const yMid = top + k * rowH + rowH / 2
    const vals = o.featureValues?.map((fv) => fv[j]!)
    const vLo = vals ? Math.min(...vals) : 0
    const vHi = vals ? Math.max(...vals) : 1
    // Stack dots in pixel bins: the n-th dot of a bin goes alternately up and down from the row's middle.
    const bins = new Map<number, number>()
    const dots = attributions.map((row, i) => {
      const v = Number.isFinite(row[j]!) ? row[j]! : 0
      const x = at(v)
      const bin = Math.round(x / (2 * r))
      const n = bins.get(bin) ?? 0
      bins.set(bin, n + 1)
      const dy = Math.min(rowH / 2 - r, (n % 2 === 0 ? 1 : -1) * Math.ceil(n / 2) * 2 * r * 0.9)
      const fill = vals ? cssRgb(colourFor(COLORMAPS.viridis, vHi > vLo ? (vals[i]! - vLo) / (vHi - vLo) : 0.5)) : '#666'
      return el('circle', { cx: x, cy: yMid + dy, r, fill, 'fill-opacity': 0.85 })
    })
    return el('g', {}, el('text', { x: left - 6, y: yMid + 4, 'text-anchor': 'end' }, names[j]!), el('line', { x1: left, y1: yMid, x2: left + plotW, y2: yMid, stroke: '#eee' }), dots)
  })
  const yAxis = top + idx.length * rowH + 4
  const legend = o.featureValues === undefined ? null : el('g', {},
    el('text', { x: left, y: yAxis + 40 }, 'dot colour: feature value, low'),
    [0, 0.25, 0.5, 0.75, 1].map((f, i) => el('rect', { x: left + 190 + i * 14, y: yAxis + 31, width: 14, height: 10, fill: cssRgb(colourFor(COLORMAPS.viridis, f)) })),
    el('text', { x: left + 265, y: yAxis + 40 }, 'high'),
  )
  return svgDoc(width, yAxis + (legend ? 50 : 24),
    o.title !== undefined ? el('text', { x: 8, y: 18, 'font-weight': 600 }, o.title) : null,
    el('line', { x1: at(0), y1: top, x2: at(0), y2: yAxis, stroke: '#bbb' }),
    rows,
    axis(left, yAxis, plotW, lo, hi),
    legend,
  )
}
