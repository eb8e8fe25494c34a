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
 * Many layers (as Captum's LayerIntegratedGradients with a list of layers): `layer` may be a list.
 * The path then runs in all listed layers at once: at step k *every* layer l is replaced by its own
 * a_l(x′) + α_k (a_l(x) − a_l(x′)) in the same forward pass, and one backward pass gives
 * ∂F/∂a_l for each; the result is one attribution per layer, in list order. This is a joint path,
 * so a layer's result is *not* the single-layer LIG of that layer unless F is a sum of separate
 * functions of the layers: the gradient at one layer is taken with the other layers on their paths
 * too, not at their values for x. The completeness delta sums the attributions of all layers:
 * δ = Σ_l Σ attr_l − (F(x) − F(x′)), which is small when the listed layers together cut every path
 * from the inputs to the output. The layers must not feed each other: a layer whose only way to
 * the output passes through another listed layer is cut off there and has no gradient (Captum
 * fails the same way; here it is a typed `NotReachable` error).
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
import { LayerSelection } from '../dsl/layers.js'

export const LayerIntegratedGradientsOptions = t.readonly(
  t.intersection([
    t.type({ layer: LayerSelection }),
    t.partial({ nSteps: PositiveInt, method: QuadratureRule, multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean }),
  ]),
)
export type LayerIntegratedGradientsOptions = t.TypeOf<typeof LayerIntegratedGradientsOptions>

/** The LayerIntegratedGradients pipeline for a layer tensor, or a joint path through a list of them. */
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
