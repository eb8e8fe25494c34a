/**
 * Upsampling a layer attribution to the input's resolution, as Captum's
 * `LayerAttribution.interpolate(layer_attribution, interpolate_dims, interpolate_mode="nearest")`,
 * which is PyTorch's `F.interpolate(attr, size, mode)`: `nearest` (floor(o · in / out), not
 * `nearest-exact`) and `linear` / `bilinear` / `trilinear` with align_corners=False, matched to torch
 * including its float32 arithmetic (see `core/resize.ts`). A pure function of a host tensor, for
 * results; inside a pipeline, the `upsample` stage does the same.
 *
 * @example
 * const cam = await new LayerGradCam(model, '/conv2/Conv_output_0').attribute(x, { target: 3 })  // (N, 1, 16, 16)
 * const big = interpolateAttribution(cam, [32, 32], { mode: 'bilinear' })                        // (N, 1, 32, 32)
 *
 * @category api
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { ClarusError } from '../core/errors.js'
import { resize, type InterpolateMode, type InterpolateOptions } from '../core/resize.js'
import type { HostTensor } from '../core/tensor.js'

export type { InterpolateMode, InterpolateOptions } from '../core/resize.js'

/**
 * `attr` with its spatial dims resized to `size` (one length per spatial dim, or one number for
 * all). Bad sizes, a map without spatial dims, a `size` whose length does not match them, or a
 * linear mode with the wrong number of spatial dims throw a {@link ClarusError} (typed error inside).
 */
export const interpolateAttribution = (attr: HostTensor, size: number | readonly number[], options: InterpolateOptions = {}): HostTensor<'float32'> => {
  const r = resize(attr, size, options)
  if (E.isLeft(r)) throw new ClarusError(r.left)
  return r.right
}

/**
 * Captum's `LayerAttribution` helpers. `LayerAttribution.interpolate(attr, size, mode)` has
 * Captum's positional signature (mode default `'nearest'`); `layout` is clarus's addition for
 * channels-last maps.
 */
export const LayerAttribution = {
  interpolate: (layerAttribution: HostTensor, interpolateDims: number | readonly number[], interpolateMode: InterpolateMode = 'nearest', layout: 'NCHW' | 'NHWC' = 'NCHW'): HostTensor<'float32'> =>
    interpolateAttribution(layerAttribution, interpolateDims, { mode: interpolateMode, layout }),
} as const
