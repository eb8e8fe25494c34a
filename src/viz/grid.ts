/**
 * Grids of pictures: rows = methods (or anything else), columns = examples, each cell one of
 * Captum's picture methods of one attribution map, with one scale for the whole grid (`shared`),
 * one per cell (`per-image`) or a fixed range; and colour bars with labelled ends. The grid comes
 * back twice: as a plain RGBA image (no text) and as an SVG document with the titles and a colour
 * bar (cells embedded as PNG data URIs).
 *
 * Captum: `visualize_image_attr_multiple` draws one row of methods for one example with a scale per
 * picture; a shared scale is what users ask for when comparing methods (captum#1103).
 *
 * @category viz
 * @since 0.2.0
 */
import { toBase64 } from '../core/base64.js'
import { colourAt, type Colormap } from './colormaps.js'
import { upscale, type Rgba } from './heatmap.js'
import { colormapOf, normalizeFor, renderNormalized, type ImageAttrOptions, type PixelMap } from './image.js'
import { encodePng } from './png.js'
import { el, fmtNum, fmtValue, svgDoc, type Markup } from './svg.js'

/** One row of a grid: a title and one map per column (example). */
export interface GridRow {
  readonly title: string
  readonly maps: readonly PixelMap[]
  /** Per-row picture options (method, sign, colour map), over the grid's. */
  readonly options?: ImageAttrOptions
}

export interface GridInput {
  readonly rows: readonly GridRow[]
  /** The original image of each column (needed by every method but `heat_map`). */
  readonly images?: readonly Rgba[]
  readonly columnTitles?: readonly string[]
  /** Integer upscaling of every cell (nearest neighbour); default 1. */
  readonly cellScale?: number
  readonly gap?: number
}

export interface Grid {
  readonly image: Rgba
  readonly svg: string
  /** The normalisation threshold of every cell, [row][column] (one value repeated for `shared`). */
  readonly thresholds: readonly (readonly number[])[]
}

const upscaleBy = (img: Rgba, k: number): Rgba => (k === 1 ? img : upscale(img, k))

/** Pictures placed on a white canvas in rows and columns (cells of a row need not have equal sizes). */
export const tile = (cells: readonly (readonly Rgba[])[], gap = 4): Rgba => {
  const colW = (j: number): number => Math.max(0, ...cells.map((r) => r[j]?.width ?? 0))
  const rowH = cells.map((r) => Math.max(0, ...r.map((c) => c.height)))
  const cols = Math.max(0, ...cells.map((r) => r.length))
  const widths = Array.from({ length: cols }, (_, j) => colW(j))
  const width = Math.max(1, widths.reduce((a, w) => a + w, 0) + gap * Math.max(0, cols - 1))
  const height = Math.max(1, rowH.reduce((a, h) => a + h, 0) + gap * Math.max(0, cells.length - 1))
  const data = new Uint8ClampedArray(width * height * 4).fill(255)
  let y0 = 0
  cells.forEach((row, i) => {
    let x0 = 0
    row.forEach((c, j) => {
      for (let y = 0; y < c.height; y++) {
        for (let x = 0; x < c.width; x++) {
          const s = (y * c.width + x) * 4
          const d = ((y0 + y) * width + x0 + x) * 4
          // Transparent pixels (alpha_scaling) are composed over the white canvas.
          const a = c.data[s + 3]! / 255
          for (let k = 0; k < 3; k++) data[d + k] = a * c.data[s + k]! + (1 - a) * 255
          data[d + 3] = 255
        }
      }
      x0 += widths[j]! + gap
    })
    y0 += rowH[i]! + gap
  })
  return { width, height, data }
}

/** An SVG colour bar with its ends (and middle, for diverging maps) labelled with the values they stand for. */
export const colourBarSvg = (colormap: Colormap, range: { readonly lo: number; readonly hi: number }, width = 200, label = 'attribution'): Markup => {
  // Deterministic ids: equal maps give equal gradients, so a repeated id is harmless.
  const id = `clarus-cb-${colormap.name}`
  const { lo, hi } = range
  const stops = colormap.stops.map((s) => el('stop', { offset: fmtNum(s.at), 'stop-color': `rgb(${s.rgb.join(',')})` }))
  return el('g', { class: 'colour-bar' },
    el('defs', {}, el('linearGradient', { id }, stops)),
    el('rect', { x: 0, y: 0, width, height: 12, fill: `url(#${id})`, stroke: '#888', 'stroke-width': 0.5 }),
    el('text', { x: 0, y: 26 }, `≤ ${fmtValue(lo)}`),
    colormap.kind === 'diverging' ? el('text', { x: width / 2, y: 26, 'text-anchor': 'middle' }, fmtValue((lo + hi) / 2)) : null,
    el('text', { x: width, y: 26, 'text-anchor': 'end' }, `≥ ${fmtValue(hi)}`),
    el('text', { x: width / 2, y: 40, 'text-anchor': 'middle', fill: '#555' }, label),
  )
}

/** The colour of the map at its middle (used as a neutral background hint). */
export const neutralOf = (m: Colormap): readonly [number, number, number] => colourAt(m, m.kind === 'diverging' ? 0.5 : 0)

/**
 * A grid of pictures: every map of every row normalised (shared threshold over all maps of the
 * grid, per cell, or a fixed range) and coloured with its row's method. Throws a RangeError when
 * rows have different numbers of columns or a method lacks its image.
 */
export const attributionGrid = (input: GridInput, options: ImageAttrOptions = {}): Grid => {
  const cols = input.rows[0]?.maps.length ?? 0
  if (input.rows.length === 0 || cols === 0) throw new RangeError('attributionGrid: need at least one row with at least one map')
  input.rows.forEach((r, i) => {
    if (r.maps.length !== cols) throw new RangeError(`attributionGrid: row ${i} (${r.title}) has ${r.maps.length} maps, row 0 has ${cols}`)
  })
  const k = input.cellScale ?? 1
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`attributionGrid: cellScale must be a positive integer, got ${String(k)}`)
  const gap = input.gap ?? 4
  const scale = options.scale ?? 'per-image'
  // A shared threshold is computed per sign, over the concatenation of every map of the grid.
  const allValues = scale === 'shared' ? Float64Array.from(input.rows.flatMap((r) => r.maps.flatMap((m) => Array.from(m.values)))) : undefined
  const thresholds: number[][] = []
  const cells = input.rows.map((row) => {
    const o: ImageAttrOptions = { ...options, ...row.options }
    const sign = o.sign ?? 'absolute_value'
    const cmap = colormapOf(o, sign)
    const ths: number[] = []
    const pics = row.maps.map((m, j) => {
      const norm = normalizeFor(m.values, o, allValues ?? m.values)
      ths.push(norm.threshold)
      return upscaleBy(renderNormalized(norm.values, m.width, m.height, o.method ?? 'heat_map', sign, cmap, input.images?.[j], o.alphaOverlay ?? 0.5), k)
    })
    thresholds.push(ths)
    return pics
  })
  const image = tile(cells, gap)
  /** What the ends of a row's colour bar stand for: the shared threshold, the fixed range, or normalised units. */
  const barRange = (o: ImageAttrOptions, th: number): { lo: number; hi: number } => {
    const diverging = colormapOf(o, o.sign ?? 'absolute_value').kind === 'diverging'
    if (typeof o.scale === 'object') return { lo: o.scale.min, hi: o.scale.max }
    const hi = scale === 'shared' ? Math.abs(th) : 1
    return { lo: diverging ? -hi : 0, hi }
  }

  // SVG: column titles on top, row titles on the left, one colour bar per row (or one for shared).
  const left = 140
  const top = input.columnTitles ? 24 : 8
  const cellW = Math.max(...cells.flat().map((c) => c.width))
  const cellH = Math.max(...cells.flat().map((c) => c.height))
  const barW = 160
  const barRow = (scale === 'shared' ? 0 : 1) * (barW + 16)
  const width = left + cols * (cellW + gap) + barRow + 8
  const height = top + input.rows.length * (cellH + gap) + (scale === 'shared' ? 56 : 8)
  const body = [
    ...(input.columnTitles ?? []).slice(0, cols).map((s, j) => el('text', { x: left + j * (cellW + gap) + cellW / 2, y: 16, 'text-anchor': 'middle' }, s)),
    ...input.rows.flatMap((row, i) => {
      const o: ImageAttrOptions = { ...options, ...row.options }
      const y = top + i * (cellH + gap)
      return [
        el('text', { x: left - 8, y: y + cellH / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, row.title),
        ...cells[i]!.map((c, j) => el('image', { x: left + j * (cellW + gap), y, width: c.width, height: c.height, href: `data:image/png;base64,${toBase64(encodePng(c))}`, style: 'image-rendering:pixelated' })),
        scale === 'shared' || (o.method ?? 'heat_map') === 'original_image'
          ? null
          : el('g', { transform: `translate(${left + cols * (cellW + gap) + 8},${y + cellH / 2 - 20})` }, colourBarSvg(colormapOf(o, o.sign ?? 'absolute_value'), barRange(o, thresholds[i]![0]!), barW, typeof o.scale === 'object' ? 'attribution' : 'attribution / threshold')),
      ]
    }),
    scale === 'shared'
      ? el('g', { transform: `translate(${left},${top + input.rows.length * (cellH + gap) + 4})` }, colourBarSvg(colormapOf(options, options.sign ?? 'absolute_value'), barRange(options, thresholds[0]![0]!), barW, 'attribution (shared scale)'))
      : null,
  ]
  return { image, svg: svgDoc(width, height, body), thresholds }
}
