/**
 * LayerGradientShap: GradientShap in the space of an internal tensor a = a(x). The gradient is
 * taken w.r.t. the layer while the model runs on the *input-space* point b + α(x̃ − b), and is
 * multiplied by a(x̃) − a(b):
 *
 *   LGS(x) = E_{b, ε, α}[(a(x̃) − a(b)) ⊙ ∂F/∂a |_{input b + α(x̃ − b)}].
 *
 * Pipelines: LayerInputBaselineXGradient = `randomPoint ∘ grad(layer) ∘ quadrature ∘
 * scaleByLayerDelta(layer)` (∘ `completenessDelta`); LayerGradientShap =
 * `noise(draw) ∘ apply(LayerInputBaselineXGradient) ∘ sampleMean`.
 *
 * Captum: `LayerGradientShap(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * baselines, n_samples=5, stdevs=0.0, target, additional_forward_args, return_convergence_delta,
 * attribute_to_layer_input=False)`. The layer is named by its tensor; `attribute_to_layer_input` is
 * expressed by naming the layer's input tensor.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { PositiveInt, Stdevs } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { gradientShapDefaults } from './gradientShap.js'


export const LayerGradientShapOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string }),
    t.partial({ nSamples: PositiveInt, stdevs: Stdevs, multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean }),
  ]),
)
export type LayerGradientShapOptions = t.TypeOf<typeof LayerGradientShapOptions>

/** The layer gradient at one random input-space point of the path, times a(x) − a(x′). */
export const layerInputBaselineXGradient = (o: { readonly layer: string; readonly multiplyByInputs?: boolean; readonly returnConvergenceDelta?: boolean }): Pipeline =>
  pipeline(
    'LayerInputBaselineXGradient',
    stage.randomPoint(),
    stage.grad({ layer: o.layer }),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByLayerDelta({ layer: o.layer })] : []),
    ...(o.returnConvergenceDelta === true ? [stage.completenessDelta()] : []),
  )

/** The LayerGradientShap pipeline for a layer tensor (Captum's defaults filled in). */
export const layerGradientShap = (o: LayerGradientShapOptions): Pipeline => {
  const opts = { ...gradientShapDefaults, ...o }
  return pipeline(
    'LayerGradientShap',
    stage.noise({ nSamples: opts.nSamples, stdevs: opts.stdevs, baselines: 'draw' }),
    stage.apply(layerInputBaselineXGradient({ layer: o.layer, multiplyByInputs: opts.multiplyByInputs, returnConvergenceDelta: opts.returnConvergenceDelta })),
    stage.sampleMean({ type: 'smoothgrad' }),
  )
}
