/**
 * Layer Conductance (Dhamdhere, Sundararajan & Yan 2018, "How Important Is a Neuron?",
 * arXiv:1805.12233): how much of F(x) − F(x′) flows through each element of an internal tensor a
 * as the input moves along the straight path x_k = x′ + α_k (x − x′), k = 0 … n:
 *
 *   LC_j = Σ_{k=0}^{n−1} ∂F/∂a_j (x_k) · (a_j(x_{k+1}) − a_j(x_k)).
 *
 * The α_k are the nodes of the chosen rule for n + 1 points (its weights are not used: the change
 * of the activation between consecutive points replaces them). Σ_j LC_j is a left-point sum for
 * F(x_n) − F(x_0), so the convergence delta shrinks like 1/n. Only riemann_trapezoid puts x_0 and
 * x_n at x′ and x; the other rules, Gauss–Legendre (the default) included, also leave a gap at the
 * ends that closes as n grows (δ ≈ −0.75 on Captum's BasicModel_MultiLayer with 50 steps).
 *
 * Pipeline: `interpolate(n + 1 points) ∘ grad(layer) ∘ conductanceSum` (∘ `completenessDelta`,
 * δ = Σ LC − (F(x) − F(x′)) per example, F evaluated on the inputs and baselines as in Captum).
 * Chunking (`internalBatchSize`, the memory budget) never changes the result: `conductanceSum`
 * carries the step across each chunk boundary.
 *
 * Captum: `LayerConductance(forward_func, layer).attribute(inputs, baselines, target,
 * additional_forward_args, n_steps=50, method='gausslegendre', internal_batch_size,
 * return_convergence_delta=False, attribute_to_layer_input=False)`. The layer is named by its tensor
 * (for ONNX, the tensor name in the graph); `attribute_to_layer_input` is expressed by naming the
 * layer's input tensor. The result has the layer tensor's shape. Difference: `nSteps` must be at
 * least 1 (Captum accepts `n_steps=0` with Gauss–Legendre and returns zeros).
 *
 * Axioms: completeness w.r.t. the layer, in the limit of many steps.
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { codecOf, showValue } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { MAX_STEPS, QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** An internal tensor's name: a non-empty string. */
const LayerName = codecOf<string>('LayerName', (u) =>
  typeof u === 'string' && u.length > 0 ? undefined : `name the internal tensor to attribute to (for ONNX, a tensor name in the graph), got ${showValue(u)}`)

/** LayerConductance's `nSteps`: 1 to MAX_STEPS − 1 (the path has nSteps + 1 points). */
const ConductanceSteps = codecOf<number>('ConductanceSteps', (u) =>
  typeof u === 'number' && Number.isInteger(u) && u >= 1 && u < MAX_STEPS
    ? undefined
    : `expected an integer from 1 to ${MAX_STEPS - 1} (the path has nSteps + 1 points, at most MAX_STEPS), got ${showValue(u)}`)

export const LayerConductanceOptions = t.readonly(
  t.intersection([
    t.type({ layer: LayerName }),
    t.partial({ nSteps: ConductanceSteps, method: QuadratureRule, returnConvergenceDelta: t.boolean }),
  ]),
)
export type LayerConductanceOptions = t.TypeOf<typeof LayerConductanceOptions>

/** The LayerConductance pipeline for a layer tensor (Captum's defaults: 50 steps, Gauss–Legendre nodes). */
export const layerConductance = (o: LayerConductanceOptions): Pipeline =>
  pipeline(
    'LayerConductance',
    // n + 1 points: the last one only supplies the activation the last step ends at
    stage.interpolate({ nSteps: (o.nSteps ?? 50) + 1, method: o.method ?? 'gausslegendre' }),
    stage.grad({ layer: o.layer }),
    stage.conductanceSum(),
    ...(o.returnConvergenceDelta ? [stage.completenessDelta()] : []),
  )
