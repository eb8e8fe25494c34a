/**
 * Image preprocessing as data: how a picture becomes a model input tensor. A small io-ts codec
 * (every field has a default) and a pure function from an RGBA image to a float32 host tensor of
 * one example:
 *
 *   x[c] = (pixel[c] · scale − mean[c]) / std[c]
 *
 * after an optional bilinear resize to `size` = [height, width], with channels in `channelOrder`
 * (`RGB` or `BGR`; `grey` = one channel, the mean of R, G and B) and laid out `NCHW` or `NHWC`.
 * Example (ImageNet models): `{ "size": [224, 224], "mean": [0.485, 0.456, 0.406], "std": [0.229,
 * 0.224, 0.225] }` (scale 1/255 is the default).
 *
 * @category viz
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith } from '../core/codecs.js'
import { invalidSpec, type AttributionError } from '../core/errors.js'
import { float32, type HostTensor } from '../core/tensor.js'
import type { Rgba } from './heatmap.js'

const PositiveSize = t.refinement(t.number, (n) => Number.isInteger(n) && n > 0, 'PositiveInteger')
const Positive = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'PositiveNumber')

/** The codec; absent fields take the defaults listed in {@link PREPROCESS_DEFAULTS}. */
export const ImagePreprocessingCodec = t.exact(t.partial({
  /** [height, width] to resize to (bilinear); default: the image's own size. */
  size: t.tuple([PositiveSize, PositiveSize]),
  /** Multiplies raw 0..255 pixel values first; default 1/255. */
  scale: t.number,
  /** Per-channel mean subtracted after scaling (one entry per channel); default zeros. */
  mean: t.array(t.number),
  /** Per-channel divisor after the mean; default ones. */
  std: t.array(Positive),
  layout: t.keyof({ NCHW: null, NHWC: null }),
  channelOrder: t.keyof({ RGB: null, BGR: null, grey: null }),
}), 'ImagePreprocessing')
export type ImagePreprocessing = t.TypeOf<typeof ImagePreprocessingCodec>

export const PREPROCESS_DEFAULTS = { scale: 1 / 255, layout: 'NCHW', channelOrder: 'RGB' } as const

/** Decodes a preprocessing spec (e.g. parsed JSON); errors name the bad field. */
export const decodePreprocessing = (u: unknown): E.Either<AttributionError, ImagePreprocessing> => {
  const d = decodeWith(ImagePreprocessingCodec, u)
  if (E.isLeft(d)) return d
  const channels = d.right.channelOrder === 'grey' ? 1 : 3
  const issues = (['mean', 'std'] as const).flatMap((f) => {
    const v = d.right[f]
    return v !== undefined && v.length !== channels && v.length !== 1
      ? [{ path: [f], message: `${f} has ${v.length} entries; give 1 or ${channels} (one per channel of ${d.right.channelOrder ?? 'RGB'})` }]
      : []
  })
  return issues.length > 0 ? E.left(invalidSpec(issues)) : E.right(d.right)
}

/** Bilinear resize of an RGBA image (pixel centres aligned, edges clamped). */
export const resizeRgba = (img: Rgba, width: number, height: number): Rgba => {
  if (img.width === width && img.height === height) return img
  const data = new Uint8ClampedArray(width * height * 4)
  for (let y = 0; y < height; y++) {
    const sy = Math.max(0, Math.min(img.height - 1, ((y + 0.5) * img.height) / height - 0.5))
    const y0 = Math.floor(sy)
    const y1 = Math.min(img.height - 1, y0 + 1)
    const fy = sy - y0
    for (let x = 0; x < width; x++) {
      const sx = Math.max(0, Math.min(img.width - 1, ((x + 0.5) * img.width) / width - 0.5))
      const x0 = Math.floor(sx)
      const x1 = Math.min(img.width - 1, x0 + 1)
      const fx = sx - x0
      for (let c = 0; c < 4; c++) {
        const at = (yy: number, xx: number): number => img.data[(yy * img.width + xx) * 4 + c]!
        data[(y * width + x) * 4 + c] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
      }
    }
  }
  return { width, height, data }
}

/** The preprocessed image as a [1, C, H, W] (or [1, H, W, C]) float32 tensor, and the resized picture. */
export const preprocessImage = (img: Rgba, p: ImagePreprocessing = {}): { readonly tensor: HostTensor; readonly image: Rgba } => {
  const [h, w] = p.size ?? [img.height, img.width]
  const im = resizeRgba(img, w, h)
  const order = p.channelOrder ?? PREPROCESS_DEFAULTS.channelOrder
  const C = order === 'grey' ? 1 : 3
  const scale = p.scale ?? PREPROCESS_DEFAULTS.scale
  const mean = (c: number): number => p.mean?.[p.mean.length === 1 ? 0 : c] ?? 0
  const std = (c: number): number => p.std?.[p.std.length === 1 ? 0 : c] ?? 1
  const nhwc = (p.layout ?? PREPROCESS_DEFAULTS.layout) === 'NHWC'
  const data = new Float32Array(C * h * w)
  for (let q = 0; q < h * w; q++) {
    for (let c = 0; c < C; c++) {
      const raw = order === 'grey'
        ? (im.data[q * 4]! + im.data[q * 4 + 1]! + im.data[q * 4 + 2]!) / 3
        : im.data[q * 4 + (order === 'BGR' ? 2 - c : c)]!
      data[nhwc ? q * C + c : c * h * w + q] = (raw * scale - mean(c)) / std(c)
    }
  }
  return { tensor: float32(nhwc ? [1, h, w, C] : [1, C, h, w], data), image: im }
}
