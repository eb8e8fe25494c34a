/**
 * Captum's image pictures (`visualize_image_attr`) as pure functions to RGBA images: the methods
 * `heat_map`, `blended_heat_map`, `masked_image`, `alpha_scaling` and `original_image`, each with a
 * sign (`all`, `positive`, `negative`, `absolute_value`) and the outlier-percentile normalisation of
 * `normalize.ts`; grids of methods × examples with a shared, per-image or fixed scale; colour bars.
 *
 * Captum: `visualize_image_attr(attr, original_image, method, sign, outlier_perc=2, cmap,
 * alpha_overlay=0.5)` and `visualize_image_attr_multiple`. Same normalisation and methods; the
 * default colour maps here are colour-blind safe (`colormap: 'captum'` gives Captum's), pictures are
 * pixel arrays (no matplotlib figure), and text (titles) lives in the SVG form of a grid.
 *
 * @category viz
 * @since 0.2.0
 */
import * as t from 'io-ts'
import type { HostTensor } from '../core/tensor.js'
import { captumColormap, COLORMAPS, ColormapNameCodec, colourFor, defaultColormap, type Colormap } from './colormaps.js'
import type { Rgba } from './heatmap.js'
import { normalizeBy, normalizeRange, SignCodec, thresholdFor, type Normalized, type Sign } from './normalize.js'

/** Captum's picture methods. */
export const ImageMethodCodec = t.keyof({ heat_map: null, blended_heat_map: null, masked_image: null, alpha_scaling: null, original_image: null }, 'ImageMethod')
export type ImageMethod = t.TypeOf<typeof ImageMethodCodec>

/** A fixed value range for a scale (see `normalizeRange`). */
export const RangeCodec = t.readonly(t.type({ min: t.number, max: t.number }), 'Range')

/** How pictures are scaled: one threshold over all of them, one per picture, or a fixed range. */
export const ScaleCodec = t.union([t.literal('shared'), t.literal('per-image'), RangeCodec], 'Scale')
export type Scale = t.TypeOf<typeof ScaleCodec>

const Percent = t.refinement(t.number, (n) => n >= 0 && n <= 100, 'Percent')
const Fraction = t.refinement(t.number, (n) => n >= 0 && n <= 1, 'Fraction')

/** io-ts codec for the options of {@link imageAttr} (every field optional; defaults below). */
export const ImageAttrOptions = t.partial({
  /** Default `heat_map`. */
  method: ImageMethodCodec,
  /** Default `absolute_value` (Captum's). */
  sign: SignCodec,
  /** Percentage of the attribution mass clipped to full colour; default 2 (Captum's). */
  outlierPerc: Percent,
  /** A map name, `captum` (Captum's default for the sign), or absent: colour-blind safe default for the sign. */
  colormap: t.union([ColormapNameCodec, t.literal('captum')]),
  /** Weight of the heat map over the grey image in `blended_heat_map`; default 0.5 (Captum's). */
  alphaOverlay: Fraction,
  /** Default `per-image`; `shared` only matters for several pictures (see {@link attributionGrid}). */
  scale: ScaleCodec,
})
export type ImageAttrOptions = t.TypeOf<typeof ImageAttrOptions>

/** One map of values per pixel (row-major, `width × height`), e.g. from `pixelMap`. */
export interface PixelMap {
  readonly width: number
  readonly height: number
  readonly values: ArrayLike<number>
}

/** The colour map the options name, for a sign. */
export const colormapOf = (o: ImageAttrOptions, sign: Sign): Colormap =>
  o.colormap === undefined ? defaultColormap(sign) : o.colormap === 'captum' ? captumColormap(sign) : COLORMAPS[o.colormap]

/** The normalised map for the options: fixed range, or the cumulative-sum threshold of `thresholdSource` (default: the map itself). */
export const normalizeFor = (values: ArrayLike<number>, o: ImageAttrOptions, thresholdSource: ArrayLike<number> = values): Normalized => {
  const sign = o.sign ?? 'absolute_value'
  if (typeof o.scale === 'object') return normalizeRange(values, sign, o.scale)
  return normalizeBy(values, sign, thresholdFor(thresholdSource, sign, o.outlierPerc ?? 2))
}

/** Mean over R, G, B of each pixel (Captum's grey version of the original image). */
const greyOf = (img: Rgba, p: number): number => (img.data[p * 4]! + img.data[p * 4 + 1]! + img.data[p * 4 + 2]!) / 3

/**
 * Colours an already-normalised map with one of Captum's methods. `image` is required for every
 * method but `heat_map`; `masked_image` and `alpha_scaling` refuse sign `all` (as Captum does: a
 * negative mask means nothing). Throws a RangeError on a bad combination or mismatched sizes.
 */
export const renderNormalized = (norm: ArrayLike<number>, width: number, height: number, method: ImageMethod, sign: Sign, colormap: Colormap, image?: Rgba, alphaOverlay = 0.5): Rgba => {
  if (norm.length !== width * height) throw new RangeError(`imageAttr: the map has ${norm.length} values, not ${width} × ${height}`)
  if (method !== 'heat_map' && image === undefined) throw new RangeError(`imageAttr: method ${method} needs the original image`)
  if (image !== undefined && (image.width !== width || image.height !== height)) {
    throw new RangeError(`imageAttr: the image is ${image.width} × ${image.height} but the attribution map is ${width} × ${height}; resize one of them first`)
  }
  if ((method === 'masked_image' || method === 'alpha_scaling') && sign === 'all') {
    throw new RangeError(`imageAttr: method ${method} needs sign positive, negative or absolute_value, not all (a mask cannot be negative)`)
  }
  if (!(alphaOverlay >= 0 && alphaOverlay <= 1)) throw new RangeError(`imageAttr: alphaOverlay must lie in [0, 1], got ${String(alphaOverlay)}`)
  const data = new Uint8ClampedArray(width * height * 4)
  for (let p = 0; p < width * height; p++) {
    const v = norm[p]!
    const o = p * 4
    if (method === 'heat_map' || method === 'blended_heat_map') {
      const [r, g, b] = colourFor(colormap, v)
      const grey = method === 'blended_heat_map' ? greyOf(image!, p) : 0
      const a = method === 'blended_heat_map' ? alphaOverlay : 1
      data[o] = (1 - a) * grey + a * r
      data[o + 1] = (1 - a) * grey + a * g
      data[o + 2] = (1 - a) * grey + a * b
      data[o + 3] = 255
    } else {
      const img = image!
      const scale = method === 'masked_image' ? v : 1
      // Captum casts the masked image to int: truncation, then clipping to 0..255.
      for (let k = 0; k < 3; k++) data[o + k] = Math.trunc(img.data[o + k]! * scale)
      data[o + 3] = method === 'alpha_scaling' ? Math.trunc(v * 255) : 255
    }
  }
  return { width, height, data }
}

/**
 * One picture of one attribution map (Captum's `visualize_image_attr`): normalise (sign, outlier
 * percentile or fixed range), then colour with `method`. Returns the picture and the normalisation
 * threshold (for a colour bar's labels).
 */
export const imageAttr = (map: PixelMap, image?: Rgba, options: ImageAttrOptions = {}): { readonly image: Rgba; readonly threshold: number } => {
  const sign = options.sign ?? 'absolute_value'
  const method = options.method ?? 'heat_map'
  const norm = normalizeFor(map.values, options)
  return { image: renderNormalized(norm.values, map.width, map.height, method, sign, colormapOf(options, sign), image, options.alphaOverlay ?? 0.5), threshold: norm.threshold }
}

/**
 * An input image tensor as a picture, Captum's way: values whose maximum is ≤ 1 are multiplied by
 * 255; then truncated and clipped to 0..255. `layout`: `NCHW` (default) or `NHWC`; one or three
 * channels (one is drawn grey). Throws a RangeError for other shapes.
 */
export const imageFromTensor = (x: HostTensor, index = 0, layout: 'NCHW' | 'NHWC' = 'NCHW'): Rgba => {
  if (x.shape.length !== 4) throw new RangeError(`imageFromTensor needs a tensor of shape [N, C, H, W] or [N, H, W, C], got [${x.shape.join(', ')}]`)
  const [n, a, b, c] = x.shape as [number, number, number, number]
  const [C, H, W] = layout === 'NHWC' ? [c, a, b] : [a, b, c]
  if (!(Number.isInteger(index) && index >= 0 && index < n)) throw new RangeError(`imageFromTensor: example ${String(index)} is out of range 0..${n - 1}`)
  if (C !== 1 && C !== 3) throw new RangeError(`imageFromTensor: need 1 or 3 channels, got ${C} (layout ${layout})`)
  const at = (ch: number, p: number): number => Number(x.data[index * C * H * W + (layout === 'NHWC' ? p * C + ch : ch * H * W + p)])
  let max = -Infinity
  for (let p = 0; p < H * W; p++) for (let ch = 0; ch < C; ch++) max = Math.max(max, at(ch, p))
  const k = max <= 1 ? 255 : 1
  const data = new Uint8ClampedArray(H * W * 4)
  for (let p = 0; p < H * W; p++) {
    for (let ch = 0; ch < 3; ch++) data[p * 4 + ch] = Math.trunc(at(C === 1 ? 0 : ch, p) * k)
    data[p * 4 + 3] = 255
  }
  return { width: W, height: H, data }
}

/** A horizontal (default) or vertical colour bar of a map: low values left (bottom), high right (top). */
export const colourBar = (colormap: Colormap, width = 256, height = 16, orientation: 'horizontal' | 'vertical' = 'horizontal'): Rgba => {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`colourBar: size must be positive integers, got ${String(width)} × ${String(height)}`)
  const data = new Uint8ClampedArray(width * height * 4)
  const lo = colormap.kind === 'diverging' ? -1 : 0
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const f = orientation === 'horizontal' ? (width === 1 ? 0.5 : x / (width - 1)) : height === 1 ? 0.5 : 1 - y / (height - 1)
      const [r, g, b] = colourFor(colormap, lo + f * (1 - lo))
      data.set([r, g, b, 255], (y * width + x) * 4)
    }
  }
  return { width, height, data }
}
