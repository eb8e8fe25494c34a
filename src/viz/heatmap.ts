/**
 * Image attributions as pictures: reduce an attribution of shape [C, H, W] (NCHW, one example) to
 * one value per pixel, map it through a diverging (signed) or sequential (absolute) colour scale,
 * and blend it over the original image. Pure functions on RGBA byte arrays; `png.ts` encodes them.
 *
 * Scales are explicit values so several maps can share one (Captum users ask for that, captum#1103).
 *
 * @category viz
 * @since 0.1.0
 */
import type { HostTensor } from '../core/tensor.js'

/** An RGBA image, 8 bits per channel, row-major. */
export interface Rgba {
  readonly width: number
  readonly height: number
  readonly data: Uint8ClampedArray
}

/** How pixel values map to colours: `signed` (blue → white → red around 0) or `absolute` (white → red). */
export interface ColourScale {
  readonly kind: 'signed' | 'absolute'
  /** The value mapped to full colour (values beyond are clipped). */
  readonly max: number
}

/**
 * One value per pixel: Σ over channels (signed) of example `index` of an NCHW attribution.
 * Throws a `RangeError` (as the rest of this module does for bad arguments) when `index` is not
 * an integer in [0, N): clamping would quietly draw another example's map.
 */
export const pixelMap = (attr: HostTensor, index = 0, channelsLast = false): { width: number; height: number; values: Float64Array } => {
  if (attr.shape.length !== 4) throw new RangeError(`pixelMap needs an attribution of shape [N, C, H, W], got [${attr.shape.join(', ')}]`)
  const n = attr.shape[0]!
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`pixelMap: example index ${String(index)} is out of range: the attribution has ${n} example${n === 1 ? '' : 's'} (valid indices 0..${n - 1})`)
  }
  const [, a, b, c] = attr.shape as [number, number, number, number]
  const [C, H, W] = channelsLast ? [c, a, b] : [a, b, c]
  const values = new Float64Array(H * W)
  const base = index * C * H * W
  for (let ch = 0; ch < C; ch++) {
    for (let p = 0; p < H * W; p++) {
      const i = channelsLast ? base + p * C + ch : base + ch * H * W + p
      values[p]! += Number(attr.data[i])
    }
  }
  return { width: W, height: H, values }
}

/** A scale whose `max` is the given quantile of |values| (robust to a few extreme pixels). */
export const scaleFor = (values: ArrayLike<number>, kind: ColourScale['kind'] = 'signed', quantile = 0.99): ColourScale => {
  const abs = Float64Array.from(values, Math.abs).sort()
  const max = abs.length === 0 ? 1 : abs[Math.min(abs.length - 1, Math.floor(quantile * (abs.length - 1)))]!
  return { kind, max: max > 0 ? max : 1 }
}

/** The colour of one value on a scale, as [r, g, b]. */
export const colourOf = (v: number, scale: ColourScale): [number, number, number] => {
  const x = scale.kind === 'absolute' ? Math.min(1, Math.abs(v) / scale.max) : Math.max(-1, Math.min(1, v / scale.max))
  if (x >= 0) return [255, Math.round(255 * (1 - x)), Math.round(255 * (1 - x))]
  return [Math.round(255 * (1 + x)), Math.round(255 * (1 + x)), 255]
}

/** The heat-map alone. */
export const heatmap = (values: ArrayLike<number>, width: number, height: number, scale: ColourScale): Rgba => {
  const data = new Uint8ClampedArray(width * height * 4)
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = colourOf(values[p]!, scale)
    data.set([r, g, b, 255], p * 4)
  }
  return { width, height, data }
}

/** The heat-map blended over a grey version of `image` (same size), `alpha` = weight of the map. */
export const overlay = (image: Rgba, map: Rgba, alpha = 0.6): Rgba => {
  if (image.width !== map.width || image.height !== map.height) throw new RangeError('overlay: image and map sizes differ')
  const data = new Uint8ClampedArray(image.data.length)
  for (let p = 0; p < image.width * image.height; p++) {
    const grey = 0.299 * image.data[p * 4]! + 0.587 * image.data[p * 4 + 1]! + 0.114 * image.data[p * 4 + 2]!
    for (let k = 0; k < 3; k++) data[p * 4 + k] = (1 - alpha) * grey + alpha * map.data[p * 4 + k]!
    data[p * 4 + 3] = 255
  }
  return { width: image.width, height: image.height, data }
}

/** Images side by side with a gap (white). */
export const hstack = (images: readonly Rgba[], gap = 4): Rgba => {
  const height = Math.max(...images.map((i) => i.height))
  const width = images.reduce((a, i) => a + i.width, 0) + gap * (images.length - 1)
  const data = new Uint8ClampedArray(width * height * 4).fill(255)
  let x0 = 0
  for (const img of images) {
    for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4), (y * width + x0) * 4)
    x0 += img.width + gap
  }
  return { width, height, data }
}

/** Nearest-neighbour upscaling by an integer factor (small inputs become visible). */
export const upscale = (img: Rgba, factor: number): Rgba => {
  const width = img.width * factor
  const height = img.height * factor
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (Math.floor(y / factor) * img.width + Math.floor(x / factor)) * 4
      data.set(img.data.subarray(s, s + 4), (y * width + x) * 4)
    }
  }
  return { width, height, data }
}
