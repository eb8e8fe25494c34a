/**
 * Resizes an attribution map's spatial dims on the host, exactly as PyTorch's `F.interpolate(x,
 * size, mode)` does (what Captum's `LayerAttribution.interpolate` calls), so a layer map such as
 * LayerGradCam's (N, 1, h, w) can be laid over an (N, C, H, W) input.
 *
 * - `nearest` (torch's `nearest`, not `nearest-exact`): output index o reads input index
 *   min(⌊o · s⌋, in − 1), s = in / out in float32; out = in copies and out = 2·in reads o >> 1.
 * - `linear` / `bilinear` / `trilinear` with `align_corners=False` (1, 2 or 3 spatial dims): per
 *   axis, the source coordinate is max(0, s · (o + ½) − ½), i₀ = ⌊that⌋, i₁ = min(i₀ + 1, in − 1),
 *   λ₁ = coordinate − i₀, λ₀ = 1 − λ₁ (in float32); the axes are combined from the outermost in,
 *   each as round(t₀·λ₀ + round(t₁·λ₁)), the fused multiply-add of torch's CPU kernel (an axis whose
 *   size does not change is copied). That is torch 1.13's CPU kernel for channels-first maps, matched
 *   bit for bit in the tests; for one-channel maps torch runs its channels-last kernel, which sums
 *   the four (eight) weighted corners in another order, so results there differ by a float32 ulp or two.
 * Nearest is exact in every case.
 *
 * Layout: `NCHW` (default) reads the spatial dims after the channel dim (dims 2…), `NHWC` those
 * between the batch and the channel dims (dims 1…rank−2). The batch and channel dims are kept.
 *
 * @category core
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from './errors.js'
import { sizeOf, type HostTensor } from './tensor.js'

/** Resampling modes, as torch names them; the linear family needs as many spatial dims as its name says. */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'trilinear'

export interface InterpolateOptions {
  /** Default `nearest`, as Captum's `LayerAttribution.interpolate`. */
  readonly mode?: InterpolateMode
  /** Where the channel dim is (default `NCHW`: dim 1; `NHWC`: the last dim). */
  readonly layout?: 'NCHW' | 'NHWC'
}

const LINEAR_DIMS: Readonly<Record<Exclude<InterpolateMode, 'nearest'>, number>> = { linear: 1, bilinear: 2, trilinear: 3 }

const f = Math.fround

/** torch's nearest source index for every output index of one axis. */
const nearestIndex = (inSize: number, outSize: number): Int32Array => {
  const idx = new Int32Array(outSize)
  const scale = f(inSize / outSize)
  for (let o = 0; o < outSize; o++) {
    idx[o] = outSize === inSize ? o : outSize === 2 * inSize ? o >> 1 : Math.min(Math.floor(f(o * scale)), inSize - 1)
  }
  return idx
}

interface LinearAxis {
  readonly i0: Int32Array
  readonly i1: Int32Array
  readonly l0: Float32Array
  readonly l1: Float32Array
}

/** torch's (align_corners=False) source indices and weights for every output index of one axis. */
const linearAxis = (inSize: number, outSize: number): LinearAxis => {
  const i0 = new Int32Array(outSize)
  const i1 = new Int32Array(outSize)
  const l0 = new Float32Array(outSize)
  const l1 = new Float32Array(outSize)
  const scale = f(inSize / outSize)
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) {
      i0[o] = o
      i1[o] = o
      l0[o] = 1
      l1[o] = 0
      continue
    }
    // the source coordinate stays in double precision; only the weights are rounded to float32
    const src = Math.max(0, scale * (o + 0.5) - 0.5)
    const a = Math.floor(src)
    i0[o] = a
    i1[o] = a < inSize - 1 ? a + 1 : a
    const w1 = Math.min(Math.max(f(src - a), 0), 1)
    l1[o] = w1
    l0[o] = f(1 - w1)
  }
  return { i0, i1, l0, l1 }
}

/** Row-major strides of a shape. */
const stridesOf = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1)
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!
  return s
}

/** The largest map `resize` builds: 2^28 float32 elements (1 GiB). */
export const MAX_RESIZED_ELEMENTS = 2 ** 28

/** How many elements the spatial dims of a map of `shape` hold (dims after N, C for NCHW; between N and C for NHWC). */
const spatialElements = (shape: readonly number[], layout: 'NCHW' | 'NHWC'): number =>
  (layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1)).reduce((a, b) => a * b, 1)

/**
 * The map resized to `size` (one entry per spatial dim; a single number is used for every spatial
 * dim, as torch does), or a typed error: a map that is not float32, has no spatial dim, a `size`
 * whose length does not match the spatial dims, a size that is not a positive integer, or a linear
 * mode with the wrong number of spatial dims.
 */
export const resize = (attr: HostTensor, size: number | readonly number[], options: InterpolateOptions = {}): E.Either<AttributionError, HostTensor<'float32'>> => {
  const mode = options.mode ?? 'nearest'
  const layout = options.layout ?? 'NCHW'
  if (layout !== 'NCHW' && layout !== 'NHWC') return E.left(err('Unsupported', `layout ${JSON.stringify(layout)} is not one clarus resizes; use 'NCHW' (channels on dim 1) or 'NHWC' (channels last)`, ['layout']))
  if (attr.dtype !== 'float32') return E.left(err('DTypeMismatch', `interpolate needs a float32 map; got ${attr.dtype}`, ['attr']))
  const rank = attr.shape.length
  const nSpatial = rank - 2
  if (nSpatial < 1) {
    return E.left(err('ShapeMismatch', `interpolate needs a map with a batch dim, a channel dim and 1–3 spatial dims (e.g. (N, 1, h, w)); got shape [${attr.shape.join(', ')}]: reshape a (N, h, w) map to (N, 1, h, w) first`, ['attr']))
  }
  const sizes = typeof size === 'number' ? new Array<number>(nSpatial).fill(size) : [...size]
  if (sizes.length !== nSpatial) {
    return E.left(err('ShapeMismatch', `size [${sizes.join(', ')}] has ${sizes.length} entr${sizes.length === 1 ? 'y' : 'ies'} but the map of shape [${attr.shape.join(', ')}] (${layout}) has ${nSpatial} spatial dim(s): give one size per spatial dim`, ['size']))
  }
  const bad = sizes.findIndex((s) => !Number.isInteger(s) || s < 1)
  if (bad >= 0) return E.left(err('ShapeMismatch', `size[${bad}] = ${sizes[bad]} is not a positive integer: sizes are output lengths in elements`, ['size', String(bad)]))
  const outElements = (attr.data.length / Math.max(1, spatialElements(attr.shape, layout))) * sizes.reduce((a, b) => a * b, 1)
  if (outElements > MAX_RESIZED_ELEMENTS) {
    return E.left(err('ShapeMismatch', `size [${sizes.join(', ')}] would make a map of ${outElements.toExponential(2)} elements, more than the ${MAX_RESIZED_ELEMENTS} (1 GiB of float32) clarus resizes on the host; give the size of the image the map is laid over`, ['size']))
  }
  if (mode !== 'nearest' && !(mode in LINEAR_DIMS)) {
    return E.left(err('Unsupported', `interpolation mode ${JSON.stringify(mode)} is not supported; use 'nearest', 'linear', 'bilinear' or 'trilinear'`, ['mode']))
  }
  if (mode !== 'nearest' && LINEAR_DIMS[mode] !== nSpatial) {
    return E.left(err('ShapeMismatch', `mode '${mode}' needs ${LINEAR_DIMS[mode]} spatial dim(s) (a rank-${LINEAR_DIMS[mode] + 2} map), but the map of shape [${attr.shape.join(', ')}] has ${nSpatial}; use ${nSpatial <= 3 ? `'${['linear', 'bilinear', 'trilinear'][nSpatial - 1]!}' or ` : ''}'nearest'`, ['mode']))
  }
  const axes = Array.from({ length: nSpatial }, (_, i) => (layout === 'NCHW' ? i + 2 : i + 1))
  const outShape = [...attr.shape]
  axes.forEach((a, i) => {
    outShape[a] = sizes[i]!
  })
  const src = attr.data as Float32Array
  const out = new Float32Array(sizeOf(outShape))
  const inStrides = stridesOf(attr.shape)
  const outStrides = stridesOf(outShape)
  const isSpatial = attr.shape.map((_, d) => axes.indexOf(d))

  if (mode === 'nearest') {
    const maps = axes.map((a, i) => nearestIndex(attr.shape[a]!, sizes[i]!))
    for (let j = 0; j < out.length; j++) {
      let rest = j
      let from = 0
      for (let d = 0; d < rank; d++) {
        const o = Math.floor(rest / outStrides[d]!)
        rest -= o * outStrides[d]!
        const k = isSpatial[d]!
        from += (k < 0 ? o : maps[k]![o]!) * inStrides[d]!
      }
      out[j] = src[from]!
    }
    return E.right({ dtype: 'float32', shape: outShape, data: out })
  }

  const lin = axes.map((a, i) => linearAxis(attr.shape[a]!, sizes[i]!))
  const coord = new Array<number>(rank).fill(0)
  /** The value at output spatial position `coord`, interpolating spatial axis k onwards from input offset `base`. */
  const interp = (k: number, base: number): number => {
    if (k === nSpatial) return src[base]!
    const ax = lin[k]!
    const o = coord[axes[k]!]!
    const stride = inStrides[axes[k]!]!
    const t0 = interp(k + 1, base + ax.i0[o]! * stride)
    const t1 = interp(k + 1, base + ax.i1[o]! * stride)
    // t0·λ0 + round(t1·λ1), rounded once: the fused multiply-add torch's CPU build performs
    return f(t0 * ax.l0[o]! + f(t1 * ax.l1[o]!))
  }
  for (let j = 0; j < out.length; j++) {
    let rest = j
    let base = 0
    for (let d = 0; d < rank; d++) {
      const o = Math.floor(rest / outStrides[d]!)
      rest -= o * outStrides[d]!
      coord[d] = o
      if (isSpatial[d]! < 0) base += o * inStrides[d]!
    }
    out[j] = interp(0, base)
  }
  return E.right({ dtype: 'float32', shape: outShape, data: out })
}
