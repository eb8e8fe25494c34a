/**
 * Layer Integrated Gradients: Integrated Gradients in the space of an internal tensor a = a(x).
 * The layer's value is replaced along the straight line from a(x′) to a(x) while the model runs on
 * the original inputs, so baselines stay in input space (token ids for a text model):
 *
 *   LIG_j = (a_j(x) − a_j(x′)) Σ_k w_k ∂F/∂a_j |_{a = a(x′) + α_k (a(x) − a(x′))}
 *
 * Pipeline: `layerEndpoints ∘ interpolate ∘ grad(layer, inject) ∘ quadrature ∘ scaleByDelta`
 * (∘ `completenessDelta`, with F evaluated on the inputs and baselines as in Captum).
 *
 * Captum: `LayerIntegratedGradients(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * baselines, target, additional_forward_args, n_steps=50, method='gausslegendre',
 * internal_batch_size, return_convergence_delta)`. The layer is named by its tensor (for ONNX, the
 * tensor name in the graph). `attribute_to_layer_input` is expressed by naming the layer's input tensor.
 *
 * Axioms: completeness (w.r.t. the layer), linearity.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const LayerIntegratedGradientsOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string }),
    t.partial({ nSteps: PositiveInt, method: QuadratureRule, multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean }),
  ]),
)
export type LayerIntegratedGradientsOptions = t.TypeOf<typeof LayerIntegratedGradientsOptions>

/** The LayerIntegratedGradients pipeline for a layer tensor. */
export const layerIntegratedGradients = (o: LayerIntegratedGradientsOptions): Pipeline =>
  pipeline(
    'LayerIntegratedGradients',
    stage.layerEndpoints({ layer: o.layer }),
    stage.interpolate({ nSteps: o.nSteps ?? 50, method: o.method ?? 'gausslegendre' }),
    stage.grad({ layer: o.layer, inject: true }),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []),
    ...(o.returnConvergenceDelta ? [stage.completenessDelta()] : []),
  )
