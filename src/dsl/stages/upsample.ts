/**
 * `upsample`: resizes each computed map's spatial dims, as PyTorch's `F.interpolate(map, size, mode)`
 * (Captum's `LayerAttribution.interpolate`), so a layer-resolution map (LayerGradCam's (N, 1, h, w))
 * can be laid over the input. `size` is the output's spatial size, or `'input'`: the spatial dims
 * of the first attributed input read in the same `layout` (for an (N, C, H, W) image and the
 * default `NCHW`, [H, W]); when that input and the maps have no spatial dims at all ((N, F) and
 * (N, 1)), there is nothing to resize and the maps pass unchanged. Modes and their exact arithmetic are those of `core/resize.ts`:
 * `nearest` (default, as Captum), and `linear` / `bilinear` / `trilinear` with align_corners=False.
 *
 * The maps are resized on the host (they are small: one channel per example after Grad-CAM) and
 * returned to the backend. The result no longer has the shape of the tensors it was computed
 * from, so the anchor (x and x′ of an expansion) is dropped: no later stage can combine the two.
 *
 * @category stages
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { resize } from '../../core/resize.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

export const InterpolateModeCodec = t.keyof({ nearest: null, linear: null, bilinear: null, trilinear: null }, 'InterpolateMode')

/** The output's spatial size: one length per spatial dim, or `'input'` (the first input's spatial size). */
export const UpsampleSize = t.union([t.literal('input'), t.readonlyArray(PositiveInt)], 'UpsampleSize')

export const UpsampleParams = t.readonly(
  t.intersection([
    t.type({ size: UpsampleSize }),
    t.partial({ mode: InterpolateModeCodec, layout: t.keyof({ NCHW: null, NHWC: null }) }),
  ]),
)
export type UpsampleParams = t.TypeOf<typeof UpsampleParams>

export const upsample: MapStageDef<'upsample', UpsampleParams> = {
  tag: 'upsample',
  kind: 'map',
  params: UpsampleParams,
  validate: (p) =>
    p.size !== 'input' && (p.size.length < 1 || p.size.length > 3)
      ? [{ path: ['size'], message: `upsample resizes 1 to 3 spatial dims; got ${p.size.length} sizes` }]
      : [],
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['values'], 'upsample resizes computed maps (attributions)')], () => ({ ...f, slots: withSlots(f, [], ['anchor', 'anchorBaseline']) })),
  summary: (p) => `${p.mode ?? 'nearest'} to ${p.size === 'input' ? 'the input size' : `[${p.size.join(', ')}]`}${p.layout === 'NHWC' ? ' (NHWC)' : ''}`,
  run: <T>(p: UpsampleParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const b = ctx.backend
    const layout = p.layout ?? 'NCHW'
    let size: readonly number[]
    if (p.size === 'input') {
      const x = ctx.inputs[0]
      const shape = x === undefined ? [] : b.shapeOf(x)
      // an input without spatial dims, and maps without them (a Grad-CAM map (N, 1) of a flat layer): nothing to resize
      if (shape.length === 2 && flow.value.every((v) => b.shapeOf(v).length === 2)) {
        const { anchor: _unused, ...kept } = flow
        return TE.right(kept)
      }
      if (shape.length < 3) {
        return TE.left(err('ShapeMismatch', `upsample to the input size needs an input with spatial dims (e.g. (N, C, H, W)); the first input has shape [${shape.join(', ')}]: give the size explicitly`, ['size']))
      }
      size = layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1)
    } else size = p.size
    const { anchor: _anchor, ...rest } = flow
    return async () => {
      const value: T[] = []
      for (const v of flow.value) {
        const r = resize(await b.toHost(v), size, { mode: p.mode ?? 'nearest', layout })
        if (E.isLeft(r)) return E.left({ ...r.left, message: `upsample: ${r.left.message}` })
        value.push(ctx.track(b.fromHost(r.right)))
      }
      return E.right({ ...rest, value })
    }
  },
}
