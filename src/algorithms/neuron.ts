/**
 * Neuron methods: the gradient-based attributions of one element ("neuron") of an internal tensor
 * instead of a model output (Captum's `NeuronAttribution` family). The neuron is chosen by
 * `neuronSelector`: an integer (for a layer with one dimension after the batch) or an index tuple
 * into the layer's per-example shape, as in Captum; negative indices count from the end.
 *
 * - NeuronGradient: ∂y_n/∂x. Pipeline `grad(neuron)`.
 * - NeuronIntegratedGradients: (x − x′) ⊙ Σ_k w_k ∂y_n/∂x (x′ + α_k (x − x′)).
 *   Pipeline `interpolate ∘ grad(neuron) ∘ quadrature ∘ scaleByDelta`.
 * - NeuronConductance: (x − x′) ⊙ Σ_k w_k (∂F/∂y_n)(x_k) · (∂y_n/∂x)(x_k), the target's
 *   attribution flowing through neuron n (default rule riemann_trapezoid, as Captum).
 *   Pipeline `interpolate ∘ conductanceGrad ∘ quadrature ∘ scaleByDelta`.
 *
 * Captum: `NeuronGradient(forward_func, layer).attribute(inputs, neuron_selector,
 * additional_forward_args, attribute_to_neuron_input=False)` and
 * `NeuronIntegratedGradients(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * neuron_selector, baselines, additional_forward_args, n_steps=50, method='gausslegendre',
 * internal_batch_size, attribute_to_neuron_input=False)`. The layer is named by its tensor;
 * `attribute_to_neuron_input` is expressed by naming the layer's input tensor. Selectors with
 * slices and selector functions are not supported yet. No `target`: the neuron is what is explained.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { Integer, PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** Captum's `neuron_selector`: an integer or an index tuple (without the batch dimension). */
export const NeuronSelector = t.union([Integer, t.readonlyArray(Integer)], 'NeuronSelector')
export type NeuronSelector = t.TypeOf<typeof NeuronSelector>

const neuronOf = (layer: string, s: NeuronSelector): { readonly layer: string; readonly index: readonly number[] } =>
  ({ layer, index: typeof s === 'number' ? [s] : s })

export const NeuronGradientOptions = t.readonly(t.type({ layer: t.string, neuronSelector: NeuronSelector }))
export type NeuronGradientOptions = t.TypeOf<typeof NeuronGradientOptions>

/** The NeuronGradient pipeline: ∂(layer[neuron])/∂(inputs). */
export const neuronGradient = (o: NeuronGradientOptions): Pipeline =>
  pipeline('NeuronGradient', stage.grad({ neuron: neuronOf(o.layer, o.neuronSelector) }))

export const NeuronIntegratedGradientsOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string, neuronSelector: NeuronSelector }),
    t.partial({ nSteps: PositiveInt, method: QuadratureRule, multiplyByInputs: t.boolean }),
  ]),
)
export type NeuronIntegratedGradientsOptions = t.TypeOf<typeof NeuronIntegratedGradientsOptions>

/** The NeuronIntegratedGradients pipeline (Captum's defaults: 50 Gauss–Legendre steps, multiplied by x − x′). */
export const neuronIntegratedGradients = (o: NeuronIntegratedGradientsOptions): Pipeline =>
  pipeline(
    'NeuronIntegratedGradients',
    stage.interpolate({ nSteps: o.nSteps ?? 50, method: o.method ?? 'gausslegendre' }),
    stage.grad({ neuron: neuronOf(o.layer, o.neuronSelector) }),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []),
  )

export const NeuronConductanceOptions = NeuronIntegratedGradientsOptions
export type NeuronConductanceOptions = NeuronIntegratedGradientsOptions

/** The NeuronConductance pipeline (Captum's defaults: 50 riemann_trapezoid steps, multiplied by x − x′). */
export const neuronConductance = (o: NeuronConductanceOptions): Pipeline =>
  pipeline(
    'NeuronConductance',
    stage.interpolate({ nSteps: o.nSteps ?? 50, method: o.method ?? 'riemann_trapezoid' }),
    stage.conductanceGrad({ neuron: neuronOf(o.layer, o.neuronSelector) }),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []),
  )
