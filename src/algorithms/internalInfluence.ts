/**
 * Internal Influence (Leino et al. 2018, arXiv:1802.03788): the gradient of the target w.r.t. an
 * internal tensor a, integrated along the straight path in *input* space,
 *
 *   II(x) = Σ_k w_k · ∂F/∂a |_{input x′ + α_k (x − x′)},
 *
 * with no multiplication by anything (so no completeness). Compare LayerIntegratedGradients, whose
 * path runs in the layer's space and which multiplies by a(x) − a(x′).
 *
 * Pipeline: `interpolate ∘ grad(layer) ∘ quadrature`.
 *
 * Captum: `InternalInfluence(forward_func, layer).attribute(inputs, baselines, target,
 * additional_forward_args, n_steps=50, method='gausslegendre', internal_batch_size,
 * attribute_to_layer_input=False)`. The layer is named by its tensor; `attribute_to_layer_input` is
 * expressed by naming the layer's input tensor.
 *
 * Many layers: `layer` may be a list; every path point is then differentiated w.r.t. all listed
 * layers in one backward pass (the same steps for all), giving one result per layer in list order,
 * each equal to a run with that layer alone. Captum reruns the whole path per layer.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { LayerSelection } from '../dsl/layers.js'

export const InternalInfluenceOptions = t.readonly(
  t.intersection([t.type({ layer: LayerSelection }), t.partial({ nSteps: PositiveInt, method: QuadratureRule })]),
)
export type InternalInfluenceOptions = t.TypeOf<typeof InternalInfluenceOptions>

/** The InternalInfluence pipeline for a layer tensor or a list of them (Captum's defaults: 50 Gauss–Legendre steps). */
export const internalInfluence = (o: InternalInfluenceOptions): Pipeline =>
  pipeline(
    'InternalInfluence',
    stage.interpolate({ nSteps: o.nSteps ?? 50, method: o.method ?? 'gausslegendre' }),
    stage.grad({ layer: o.layer }),
    stage.quadrature(),
  )
