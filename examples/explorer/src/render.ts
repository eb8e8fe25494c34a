/**
 * How a result is shown: an image attribution as a heat map and an overlay on the picture, a
 * tabular one as one bar per feature, a text one as a token heat map. Every panel is drawn on one
 * shared colour scale, computed over all results on the page, so their colours compare.
 */
import type { HostTensor } from 'clarus'
import { colourOf, heatmap, hstack, overlay, pixelMap, tokenHeatmapHtml, upscale, type ColourScale, type Rgba } from 'clarus/viz'
import type { WireTensor } from './protocol.js'

/** What a result looks like once reduced for display. */
export type View =
  | { readonly kind: 'image'; readonly width: number; readonly height: number; readonly values: Float64Array; readonly picture?: Rgba }
  | { readonly kind: 'bars'; readonly names: readonly string[]; readonly values: readonly number[] }
  | { readonly kind: 'tokens'; readonly tokens: readonly string[]; readonly values: readonly number[] }

/** What the page knows about the input that a view needs. */
export interface InputContext {
  readonly kind: 'image' | 'csv' | 'text'
  readonly layout?: 'NCHW' | 'NHWC'
  /** The preprocessed picture (the size the model saw). */
  readonly picture?: Rgba
  readonly featureNames?: readonly string[]
  readonly tokens?: readonly string[]
}

/** At most this many bars (the largest by |value| when there are more). */
const MAX_BARS = 48

const numbers = (t: WireTensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number)

/** Sum over every dimension after the first `keep` (one value per leading index). */
const sumTrailing = (t: WireTensor, keep: number): number[] => {
  const lead = t.shape.slice(0, keep).reduce((a, b) => a * b, 1)
  const rest = t.shape.slice(keep).reduce((a, b) => a * b, 1)
  const v = numbers(t)
  return Array.from({ length: lead }, (_, i) => v.slice(i * rest, (i + 1) * rest).reduce((a, b) => a + b, 0))
}

/** The view of a result's first attribution (the input's, or the layer's for layer methods). */
export const viewOf = (attr: WireTensor, ctx: InputContext): View => {
  if (ctx.kind === 'image' && attr.shape.length === 4) {
    const m = pixelMap(attr as HostTensor, 0, ctx.layout === 'NHWC')
    const fits = ctx.picture !== undefined && ctx.picture.width === m.width && ctx.picture.height === m.height
    return { kind: 'image', width: m.width, height: m.height, values: m.values, ...(fits && ctx.picture !== undefined ? { picture: ctx.picture } : {}) }
  }
  if (ctx.kind === 'text' && ctx.tokens !== undefined && attr.shape.length >= 2 && attr.shape[1]! >= ctx.tokens.length) {
    const perPosition = sumTrailing({ ...attr, shape: attr.shape.slice(1) } as WireTensor, 1)
    return { kind: 'tokens', tokens: ctx.tokens, values: perPosition.slice(0, ctx.tokens.length) }
  }
  const values = numbers(attr)
  const names = ctx.featureNames !== undefined && ctx.featureNames.length === values.length ? ctx.featureNames : values.map((_, i) => `#${i}`)
  if (values.length <= MAX_BARS) return { kind: 'bars', names, values }
  const top = values.map((_, i) => i).sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!)).slice(0, MAX_BARS).sort((a, b) => a - b)
  return { kind: 'bars', names: top.map((i) => names[i]!), values: top.map((i) => values[i]!) }
}

/**
 * The scale shared by all views: the largest of the views' own ranges, where an image's range is
 * the 99th percentile of |pixel| (a few extreme pixels would wash out every other map) and a bar
 * chart's or token map's range is its largest |value|.
 */
export const sharedScale = (views: readonly View[]): ColourScale => {
  const rangeOf = (v: View): number => {
    const abs = Float64Array.from(v.values, (x) => Math.abs(x)).sort()
    if (abs.length === 0) return 0
    return v.kind === 'image' ? abs[Math.floor(0.99 * (abs.length - 1))]! : abs[abs.length - 1]!
  }
  const max = Math.max(0, ...views.map(rangeOf))
  return { kind: 'signed', max: max > 0 ? max : 1 }
}

/** Pixels per attribution cell, so a 32×32 map is drawn about 160 px wide. */
const zoomFor = (width: number): number => Math.max(1, Math.round(160 / width))

const putImage = (canvas: HTMLCanvasElement, img: Rgba): void => {
  canvas.width = img.width
  canvas.height = img.height
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0)
}

/** Draws an image view: the heat map, and beside it the map over the picture when it has one. */
const drawImage = (canvas: HTMLCanvasElement, v: Extract<View, { kind: 'image' }>, scale: ColourScale): void => {
  const map = heatmap(v.values, v.width, v.height, scale)
  const zoom = zoomFor(v.width)
  const parts = v.picture !== undefined ? [map, overlay(v.picture, map, 0.6)] : [map]
  putImage(canvas, hstack(parts.map((p) => upscale(p, zoom)), 8))
}

const css = ([r, g, b]: readonly number[]): string => `rgb(${r ?? 0},${g ?? 0},${b ?? 0})`

/** Draws a bar view: one row per feature, bars from a centre line, coloured on the shared scale. */
const drawBars = (canvas: HTMLCanvasElement, v: Extract<View, { kind: 'bars' }>, scale: ColourScale): void => {
  const row = 18
  const labelW = 130
  const barW = 220
  canvas.width = labelW + barW + 70
  canvas.height = v.values.length * row + 8
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  ctx.fillStyle = '#fff'
  ctx.fillRect(0, 0, canvas.width, canvas.height)
  ctx.font = '12px system-ui, sans-serif'
  ctx.textBaseline = 'middle'
  const mid = labelW + barW / 2
  v.values.forEach((x, i) => {
    const y = 4 + i * row
    ctx.fillStyle = '#222'
    ctx.textAlign = 'right'
    ctx.fillText(v.names[i]!.slice(0, 20), labelW - 6, y + row / 2)
    const len = Math.min(1, Math.abs(x) / scale.max) * (barW / 2)
    ctx.fillStyle = css(colourOf(x >= 0 ? scale.max : -scale.max, scale))
    ctx.fillRect(x >= 0 ? mid : mid - len, y + 3, len, row - 6)
    ctx.fillStyle = '#555'
    ctx.textAlign = 'left'
    ctx.fillText(x.toPrecision(3), labelW + barW + 4, y + row / 2)
  })
  ctx.strokeStyle = '#888'
  ctx.beginPath()
  ctx.moveTo(mid + 0.5, 0)
  ctx.lineTo(mid + 0.5, canvas.height)
  ctx.stroke()
}

/** Fills a panel's body with a view on the shared scale. */
export const drawView = (body: HTMLElement, v: View, scale: ColourScale): void => {
  body.replaceChildren()
  if (v.kind === 'tokens') {
    const div = document.createElement('div')
    // tokenHeatmapHtml escapes every token.
    div.innerHTML = tokenHeatmapHtml(v.tokens, v.values, { scale: { min: -scale.max, max: scale.max } })
    body.append(div)
    return
  }
  const canvas = document.createElement('canvas')
  canvas.className = 'attr'
  if (v.kind === 'image') drawImage(canvas, v, scale)
  else drawBars(canvas, v, scale)
  body.append(canvas)
}

/** The colour bar of a scale on a canvas, −max … 0 … +max. */
export const drawLegend = (canvas: HTMLCanvasElement, scale: ColourScale): void => {
  const w = 240
  const h = 12
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d')
  if (ctx === null) return
  for (let x = 0; x < w; x++) {
    ctx.fillStyle = css(colourOf(((x / (w - 1)) * 2 - 1) * scale.max, scale))
    ctx.fillRect(x, 0, 1, h)
  }
}
