/**
 * Token heat maps: each token's background is its attribution on a diverging colour map, with a
 * legend; as an HTML fragment or a standalone SVG. Every token is escaped (captum#1226: Captum's
 * `visualize_text` put tokens into HTML unescaped).
 *
 * Scale: by default the largest |score| maps to full colour (Captum expects callers to normalise
 * first; Captum Insights divides by the maximum too); `{ min, max }` fixes the range instead, e.g.
 * to share it across sentences.
 *
 * Captum: `visualize_text(VisualizationDataRecord…)` (HTML table, green for positive, red for
 * negative, `<x>` tokens shown as `#x`). Here the default map is colour-blind safe (blue–red), the
 * tokens are shown as given, and the output is a fragment or an SVG rather than IPython display.
 *
 * @category viz
 * @since 0.2.0
 */
import { COLORMAPS, colourFor, cssRgb, type Colormap } from './colormaps.js'
import { el, fmtValue, svgDoc, type Markup } from './svg.js'

export interface TokenHeatmapOptions {
  /** Default `blueRed` (diverging). */
  readonly colormap?: Colormap
  /** Fixed range (diverging maps centre it); default ±max |score|. */
  readonly scale?: { readonly min: number; readonly max: number }
  /** Show the legend (default true). */
  readonly legend?: boolean
  /** A caption above the tokens (escaped). */
  readonly title?: string
}

/** Each score as a position on the colour map: [−1, 1] for diverging maps, [0, 1] for sequential ones. */
export const tokenPositions = (scores: readonly number[], o: TokenHeatmapOptions = {}): { readonly values: readonly number[]; readonly min: number; readonly max: number } => {
  const map = o.colormap ?? COLORMAPS.blueRed
  const finite = scores.map((s) => (Number.isFinite(s) ? s : 0))
  const m = Math.max(0, ...finite.map(Math.abs))
  const min = o.scale?.min ?? (map.kind === 'diverging' ? -m : 0)
  const max = o.scale?.max ?? m
  if (!(min < max)) return { values: finite.map(() => 0), min, max }
  const values = finite.map((s) => {
    const f = Math.max(0, Math.min(1, (s - min) / (max - min)))
    return map.kind === 'diverging' ? 2 * f - 1 : f
  })
  return { values, min, max }
}

/** Black or white text, whichever reads better on the background. */
const inkOn = ([r, g, b]: readonly [number, number, number]): string => (0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#111' : '#fff')

const check = (tokens: readonly string[], scores: readonly number[]): void => {
  if (tokens.length !== scores.length) throw new RangeError(`token heat map: ${tokens.length} tokens but ${scores.length} scores`)
}

/** The legend as HTML: a gradient strip with its ends labelled. */
const legendHtml = (map: Colormap, min: number, max: number): Markup => {
  const gradient = map.stops.map((s) => `${cssRgb(s.rgb as [number, number, number])} ${(s.at * 100).toFixed(1)}%`).join(', ')
  return el('div', { class: 'clarus-legend', style: 'display:flex;align-items:center;gap:.5rem;margin-top:.4rem;font-size:.85em' },
    el('span', {}, fmtValue(min)),
    el('span', { style: `display:inline-block;width:10rem;height:.8rem;background:linear-gradient(to right, ${gradient})` }),
    el('span', {}, fmtValue(max)),
    el('span', { style: 'color:#555' }, map.kind === 'diverging' ? '(negative … positive attribution)' : '(attribution)'),
  )
}

/** An HTML fragment: one `<span>` per token (score in its tooltip), and a legend. */
export const tokenHeatmapHtml = (tokens: readonly string[], scores: readonly number[], o: TokenHeatmapOptions = {}): string => {
  check(tokens, scores)
  const map = o.colormap ?? COLORMAPS.blueRed
  const pos = tokenPositions(scores, o)
  return el('div', { class: 'clarus-tokens' },
    o.title !== undefined ? el('div', { style: 'font-weight:600;margin-bottom:.3rem' }, o.title) : null,
    el('div', { style: 'line-height:2' },
      tokens.map((tok, i) => {
        const c = colourFor(map, pos.values[i]!)
        return [el('span', { title: String(scores[i]), style: `background:${cssRgb(c)};color:${inkOn(c)};padding:.1rem .25rem;border-radius:.2rem;white-space:pre` }, String(tok)), ' ']
      }),
    ),
    o.legend === false ? null : legendHtml(map, pos.min, pos.max),
  ).html
}

/** Rough width of a token in pixels at 14px (no font metrics available without a browser). */
const textWidth = (s: string): number => Math.max(8, Array.from(s).length * 8 + 8)

/** A standalone SVG: tokens wrapped into lines of at most `width` pixels, and a legend strip. */
export const tokenHeatmapSvg = (tokens: readonly string[], scores: readonly number[], o: TokenHeatmapOptions & { readonly width?: number } = {}): string => {
  check(tokens, scores)
  const map = o.colormap ?? COLORMAPS.blueRed
  const pos = tokenPositions(scores, o)
  const width = o.width ?? 640
  const lineH = 26
  let x = 8
  let y = o.title !== undefined ? 30 : 8
  const boxes = tokens.map((tok, i) => {
    const w = textWidth(String(tok))
    if (x + w > width - 8 && x > 8) {
      x = 8
      y += lineH
    }
    const c = colourFor(map, pos.values[i]!)
    const g = el('g', {},
      el('title', {}, `${String(tok)}: ${String(scores[i])}`),
      el('rect', { x, y, width: w, height: 20, rx: 3, fill: cssRgb(c) }),
      el('text', { x: x + w / 2, y: y + 14, 'text-anchor': 'middle', fill: inkOn(c), 'font-size': 14, 'xml:space': 'preserve' }, String(tok)),
    )
    x += w + 4
    return g
  })
  const legendY = y + lineH + 8
  const id = `clarus-tok-${map.name}`
  const legend = o.legend === false ? null : el('g', {},
    el('defs', {}, el('linearGradient', { id }, map.stops.map((s) => el('stop', { offset: s.at, 'stop-color': cssRgb(s.rgb as [number, number, number]) })))),
    el('text', { x: 8, y: legendY + 10 }, fmtValue(pos.min)),
    el('rect', { x: 60, y: legendY, width: 160, height: 12, fill: `url(#${id})`, stroke: '#888', 'stroke-width': 0.5 }),
    el('text', { x: 228, y: legendY + 10 }, fmtValue(pos.max)),
  )
  const height = legendY + (o.legend === false ? 0 : 24)
  return svgDoc(width, height, o.title !== undefined ? el('text', { x: 8, y: 18, 'font-weight': 600 }, o.title) : null, boxes, legend)
}
