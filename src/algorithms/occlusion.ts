/**
 * Occlusion (Zeiler & Fergus 2014, arXiv:1311.2901): a window slides over each input; every
 * placement is replaced by the baseline, and each element gets the mean output change over the
 * placements covering it,
 *
 *   attr_e = Σ_{w ∋ e} (F(x) − F(x with w occluded)) / #{w ∋ e}.
 *
 * Pipeline: `reference ∘ perturb(windows) ∘ forward ∘ diff(average)`.
 *
 * Captum: `Occlusion(forward_func).attribute(inputs, sliding_window_shapes, strides=None,
 * baselines=None, target, additional_forward_args, perturbations_per_eval=1)`. Same grid: per
 * non-batch dim ⌈(size − window)/stride⌉ + 1 placements at multiples of the stride, cropped at the
 * end; windows larger than the input, or strides that would skip elements, are errors.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

const Dims = t.readonlyArray(t.number)

export const OcclusionOptions = t.readonly(
  t.intersection([
    t.type({ slidingWindowShapes: t.union([Dims, t.readonlyArray(Dims)]) }),
    t.partial({ strides: t.union([t.number, Dims, t.readonlyArray(t.union([t.number, Dims]))]) }),
  ]),
)
export type OcclusionOptions = t.TypeOf<typeof OcclusionOptions>

const isNested = (u: readonly unknown[]): boolean => u.length > 0 && u.every((v) => Array.isArray(v))

/** The Occlusion pipeline. `slidingWindowShapes`: one shape (one input) or one per input; `strides`: a number, one per dim, or one per input. */
export const occlusion = (o: OcclusionOptions): Pipeline => {
  const shapes = (isNested(o.slidingWindowShapes) ? o.slidingWindowShapes : [o.slidingWindowShapes]) as readonly (readonly number[])[]
  const s = o.strides
  // A flat list is per-dim for one input, per-input for several (Captum's tuple conventions).
  const strides = s === undefined || typeof s === 'number' ? s : shapes.length === 1 && !isNested(s) ? [s as readonly number[]] : (s as readonly (number | readonly number[])[])
  return pipeline(
    'Occlusion',
    stage.reference(),
    stage.perturb({ features: { _tag: 'windows', shapes, ...(strides !== undefined ? { strides } : {}) }, design: { _tag: 'ablation', replaceWith: 'baseline' } }),
    stage.forward(),
    stage.diff({ average: true }),
  )
}
