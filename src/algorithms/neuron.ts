/**
 * Neuron methods: the gradient-based attributions of one element ("neuron") of an internal tensor
 * instead of a model output (Captum's `NeuronAttribution` family). The neuron is chosen by
 * `neuronSelector` ({@link NeuronSelector}, Captum's `neuron_selector`; indices are per example,
 * without the batch dimension, and negative ones count from the end):
 * - an integer (a layer with one dimension after the batch), or a tuple of integers: one element;
 * - a tuple with slices `{ start?, stop?, step? }` (Python's `slice`, null = None), e.g.
 *   `[{ start: 0, stop: 2 }, 1]` for Captum's `(slice(0, 2), 1)`: the **sum** of the block;
 * - `{ mask }` (beyond Captum): Σ mask ⊙ layer, a weighted sum, shaped like one example of the
 *   layer, with a leading 1, or with one row per example; any backend;
 * - `{ fromCall: 'neuronFn' }`: the call's `neuronFn(layer)` (Captum's callable), one scalar per
 *   row; tfjs only for the gradient methods (ONNX cannot differentiate JS: use a mask there).
 *   The Captum-style classes take the function itself as `neuronSelector` and pass it on.
 * A selection that sums several neurons explains their sum (for NeuronConductance see
 * `conductanceGrad.ts`: Captum applies the selector to both factors, and so does clarus).
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
 * `attribute_to_neuron_input` is expressed by naming the layer's input tensor. No `target` (except
 * NeuronConductance): the neuron is what is explained.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { HostTensorCodec, Integer, PositiveInt } from '../core/codecs.js'
import type { HostTensor } from '../core/tensor.js'
import { stage } from '../dsl/build.js'
import { NEURON_FN, NeuronIndexEntry, NeuronMask, type NeuronRef } from '../dsl/neuron.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/**
 * Captum's `neuron_selector` as data (see the module doc): an integer, an index tuple of integers
 * and slices, `{ mask }` (a host tensor or a JSON `{ shape, data }`), or `{ fromCall: 'neuronFn' }`.
 */
export const NeuronSelector = t.union([
  Integer,
  t.readonlyArray(NeuronIndexEntry),
  t.readonly(t.type({ mask: t.union([HostTensorCodec, NeuronMask]) })),
  t.readonly(t.type({ fromCall: t.literal(NEURON_FN) })),
], 'NeuronSelector')
export type NeuronSelector = t.TypeOf<typeof NeuronSelector>

/** A mask as pipeline data: a host tensor's values as a plain list (so the spec stays JSON). */
const maskData = (m: HostTensor | NeuronMask): NeuronMask =>
  Array.isArray(m.data) ? (m as NeuronMask) : { shape: [...m.shape], data: Array.from(m.data as ArrayLike<number | bigint>, Number) }

/** The neuron a selector picks in `layer`, as the stages take it (shared by every neuron method). */
export const neuronOf = (layer: string, s: NeuronSelector): NeuronRef =>
  typeof s === 'number'
    ? { layer, index: [s] }
    : Array.isArray(s)
      ? { layer, index: s as readonly NeuronIndexEntry[] }
      : 'mask' in s
        ? { layer, mask: maskData(s.mask) }
        : { layer, fromCall: NEURON_FN }

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
