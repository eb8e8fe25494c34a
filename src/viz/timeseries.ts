/**
 * Time-series attributions as SVG line plots (Captum's `visualize_timeseries_attr`): the signal
 * drawn as lines, the normalised attribution as coloured background spans behind them
 * (`overlay_individual`: one panel per channel; `overlay_combined`: one panel, attribution summed
 * over channels) or as the colour of the line itself (`colored_graph`). The normalisation is
 * Captum's (`normalize.ts`) over the whole attribution, without a channel reduction except for
 * `overlay_combined`.
 *
 * Captum: same methods, signs, outlier percentile (2) and `alpha_overlay` (0.7); inputs here are
 * `[T][C]` arrays (time major, Captum's `channels_last=True`).
 *
 * @category viz
 * @since 0.2.0
 */
import { captumColormap, colourFor, cssRgb, defaultColormap, type Colormap } from './colormaps.js'
import { normalizeAttr, type Sign } from './normalize.js'
import { el, fmtValue, svgDoc } from './svg.js'

export type TimeSeriesMethod = 'overlay_individual' | 'overlay_combined' | 'colored_graph'

export interface TimeSeriesOptions {
  /** Default `overlay_individual`. */
  readonly method?: TimeSeriesMethod
  /** Default `absolute_value`. */
  readonly sign?: Sign
  readonly outlierPerc?: number
  /** A colour map, `captum` (Captum's default for the sign) or absent (colour-blind safe default). */
  readonly colormap?: Colormap | 'captum'
  /** Opacity of the background spans; default 0.7. */
  readonly alphaOverlay?: number
  readonly channelLabels?: readonly string[]
  /** x coordinate of each time step (default 0…T−1). */
  readonly xValues?: readonly number[]
  readonly title?: string
  readonly width?: number
  /** Height of one panel; default 120. */
  readonly panelHeight?: number
}

const LINE_COLOURS = ['#222222', '#e69f00', '#56b4e9', '#009e73', '#cc79a7', '#0072b2', '#d55e00', '#f0e442']

/** The time-series picture as an SVG document. `data` and `attr` are [T][C]. Throws a RangeError on shape mismatches. */
export const timeSeriesSvg = (data: readonly (readonly number[])[], attr: readonly (readonly number[])[], o: TimeSeriesOptions = {}): string => {
  const T = data.length
  const C = data[0]?.length ?? 0
  if (T < 2 || C === 0) throw new RangeError(`timeSeriesSvg: need at least 2 time steps and 1 channel, got ${T} × ${C}`)
  if (attr.length !== T || attr.some((r) => r.length !== C) || data.some((r) => r.length !== C)) throw new RangeError(`timeSeriesSvg: data and attributions must both be ${T} × ${C} ([time][channel])`)
  if (o.xValues !== undefined && o.xValues.length !== T) throw new RangeError(`timeSeriesSvg: ${o.xValues.length} x values for ${T} time steps`)
  const method = o.method ?? 'overlay_individual'
  const sign = o.sign ?? 'absolute_value'
  const cmap = o.colormap === undefined ? defaultColormap(sign) : o.colormap === 'captum' ? captumColormap(sign) : o.colormap
  const alpha = o.alphaOverlay ?? 0.7
  const xs = o.xValues ?? data.map((_, t) => t)
  // Normalised attribution: [T][C] (or [T][1] summed over channels for overlay_combined).
  const combined = method === 'overlay_combined'
  const flat = combined ? attr.map((r) => r.reduce((a, v) => a + v, 0)) : attr.flat()
  const norm = normalizeAttr(flat, sign, o.outlierPerc ?? 2).values
  const normAt = (t: number, c: number): number => (combined ? norm[t]! : norm[t * C + c]!)
  const panels = combined ? 1 : C
  const width = o.width ?? 640
  const panelH = o.panelHeight ?? 120
  const left = 60
  const right = 16
  const top = o.title !== undefined ? 30 : 10
  const plotW = width - left - right
  const gap = 18
  const xLo = Math.min(...xs)
  const xHi = Math.max(...xs)
  const px = (x: number): number => left + (xHi === xLo ? 0.5 : (x - xLo) / (xHi - xLo)) * plotW
  const spanW = plotW / (T - 1)
  const panel = (p: number): ReturnType<typeof el> => {
    const y0 = top + p * (panelH + gap)
    const channels = combined ? Array.from({ length: C }, (_, c) => c) : [p]
    const vals = channels.flatMap((c) => data.map((r) => r[c]!)).filter(Number.isFinite)
    let lo = Math.min(...vals)
    let hi = Math.max(...vals)
    if (lo === hi) {
      lo -= 1
      hi += 1
    }
    const py = (v: number): number => y0 + panelH - ((v - lo) / (hi - lo)) * panelH
    const spans = method === 'colored_graph' ? null : data.map((_, t) => el('rect', {
      x: Math.max(left, px(xs[t]!) - spanW / 2), y: y0, width: Math.min(spanW, left + plotW - Math.max(left, px(xs[t]!) - spanW / 2)), height: panelH,
      fill: cssRgb(colourFor(cmap, normAt(t, p))), 'fill-opacity': alpha,
    }))
    const lines = channels.map((c) => method === 'colored_graph'
      ? data.slice(1).map((r, k) => el('line', { x1: px(xs[k]!), y1: py(data[k]![c]!), x2: px(xs[k + 1]!), y2: py(r[c]!), stroke: cssRgb(colourFor(cmap, normAt(k + 1, c))), 'stroke-width': 2.5 }))
      : el('polyline', { points: data.map((r, t) => `${px(xs[t]!).toFixed(2)},${py(r[c]!).toFixed(2)}`).join(' '), fill: 'none', stroke: LINE_COLOURS[c % LINE_COLOURS.length]!, 'stroke-width': 1.5 }))
    const label = combined ? (o.channelLabels ?? []).join(', ') : o.channelLabels?.[p] ?? `channel ${p}`
    return el('g', {},
      el('rect', { x: left, y: y0, width: plotW, height: panelH, fill: 'none', stroke: '#ccc' }),
      spans, lines,
      el('text', { x: left - 4, y: y0 + 10, 'text-anchor': 'end', 'font-size': 10 }, fmtValue(hi)),
      el('text', { x: left - 4, y: y0 + panelH, 'text-anchor': 'end', 'font-size': 10 }, fmtValue(lo)),
      label !== '' ? el('text', { x: left + 4, y: y0 + 12, fill: '#333' }, label) : null,
    )
  }
  const yEnd = top + panels * (panelH + gap)
  const id = `clarus-ts-${cmap.name}`
  return svgDoc(width, yEnd + 40,
    o.title !== undefined ? el('text', { x: 8, y: 18, 'font-weight': 600 }, o.title) : null,
    Array.from({ length: panels }, (_, p) => panel(p)),
    el('text', { x: left, y: yEnd, 'font-size': 10 }, fmtValue(xLo)),
    el('text', { x: left + plotW, y: yEnd, 'font-size': 10, 'text-anchor': 'end' }, fmtValue(xHi)),
    el('defs', {}, el('linearGradient', { id }, cmap.stops.map((s) => el('stop', { offset: s.at, 'stop-color': cssRgb(s.rgb as [number, number, number]) })))),
    el('rect', { x: left, y: yEnd + 12, width: 160, height: 10, fill: `url(#${id})`, stroke: '#888', 'stroke-width': 0.5 }),
    el('text', { x: left + 168, y: yEnd + 21, 'font-size': 10 }, `${cmap.kind === 'diverging' ? '−1 … 1' : '0 … 1'} (attribution / threshold, sign ${sign})`),
  )
}

