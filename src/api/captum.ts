/**
 * Captum-style classes: `new IntegratedGradients(model).attribute(inputs, { target, … })`.
 * A thin, logic-free facade over the pipelines and {@link attribute}: each class builds its
 * pipeline from the options and runs it. Results are host tensors that mirror the inputs (one
 * tensor in → one tensor out; a list in → a list out), so no backend tensor outlives the call.
 * Failures throw a {@link ClarusError} carrying the typed error.
 *
 * @category api
 * @since 0.1.0
 */
import type { Model } from '../core/backend.js'
import type { HostTensor } from '../core/tensor.js'
import { inputXGradient } from '../algorithms/inputXGradient.js'
import { integratedGradients } from '../algorithms/integratedGradients.js'
import { layerActivation } from '../algorithms/layerActivation.js'
import { layerGradientXActivation } from '../algorithms/layerGradientXActivation.js'
import { layerIntegratedGradients } from '../algorithms/layerIntegratedGradients.js'
import { internalInfluence } from '../algorithms/internalInfluence.js'
import { layerGradCam } from '../algorithms/layerGradCam.js'
import { neuronConductance, neuronGradient, neuronIntegratedGradients, NeuronSelector as NeuronSelectorCodec, type NeuronSelector } from '../algorithms/neuron.js'
import { saliency } from '../algorithms/saliency.js'
import { gradientShap, GradientShapOptions, inputBaselineXGradient } from '../algorithms/gradientShap.js'
import { layerGradientShap } from '../algorithms/layerGradientShap.js'
import type { QuadratureRule } from '../dsl/quadratureRules.js'
import type { Pipeline } from '../dsl/spec.js'
import type { CallOptions } from './attribute.js'
import { checked, mirror, runOrThrow as run, type Explainer, type Inputs, type Mirrored } from './explainer.js'
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { QuadratureRule as QuadratureRuleCodec } from '../dsl/quadratureRules.js'

export type { Mirrored } from './explainer.js'

/** The constructor's `multiplyByInputs`, when given, as a builder option. */
const multiplyOf = (o: { readonly multiplyByInputs?: boolean }): { readonly multiplyByInputs?: boolean } =>
  o.multiplyByInputs !== undefined ? { multiplyByInputs: o.multiplyByInputs } : {}

const PathOptions = t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec, returnConvergenceDelta: t.boolean })

/** Options of IntegratedGradients.attribute (Captum's names, camelCased). */
export interface IntegratedGradientsCallOptions<T> extends CallOptions<T> {
  readonly nSteps?: number
  readonly method?: QuadratureRule
  readonly returnConvergenceDelta?: boolean
}

/**
 * Captum: `IntegratedGradients(forward_func, multiply_by_inputs=True)`. See
 * {@link integratedGradients} for the formula. With `returnConvergenceDelta: true` the call
 * resolves to `[attributions, delta]`, as in Captum.
 */
export class IntegratedGradients<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}

  pipelineFor(options: object): Pipeline {
    const o = checked(PathOptions, options)
    return integratedGradients({ ...o, ...multiplyOf(this.options) })
  }

  attribute<I extends Inputs<T>>(inputs: I, options: IntegratedGradientsCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: IntegratedGradientsCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: IntegratedGradientsCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/** Options of Saliency.attribute. */
export interface SaliencyCallOptions<T> extends CallOptions<T> {
  /** Absolute value of the gradient (default true, as in Captum). */
  readonly abs?: boolean
}

/** Captum: `Saliency(forward_func)`; `attribute(inputs, { target, abs = true, additionalForwardArgs })`. */
export class Saliency<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(options: object): Pipeline {
    return saliency(checked(t.partial({ abs: t.boolean }), options))
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: SaliencyCallOptions<T> = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/** Captum: `InputXGradient(forward_func)`; `attribute(inputs, { target, additionalForwardArgs })`. */
export class InputXGradient<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(): Pipeline {
    return inputXGradient()
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(inputXGradient(), this.model, inputs, options)).attributions)
  }
}

/**
 * Captum: `LayerIntegratedGradients(forward_func, layer, multiply_by_inputs=True)`. `layer` names
 * an internal tensor of the model (for ONNX: a tensor name in the graph). Resolves to the layer
 * attribution (one tensor), or `[attribution, delta]` with `returnConvergenceDelta: true`.
 */
export class LayerIntegratedGradients<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}

  pipelineFor(options: object): Pipeline {
    const o = checked(PathOptions, options)
    return layerIntegratedGradients({ layer: this.layer, ...o, ...multiplyOf(this.options) })
  }

  attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: IntegratedGradientsCallOptions<T>): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** Captum: `LayerGradientXActivation(forward_func, layer, multiply_by_inputs=True)`. */
export class LayerGradientXActivation<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(): Pipeline {
    return layerGradientXActivation({ layer: this.layer, ...multiplyOf(this.options) })
  }
  async attribute(inputs: Inputs<T>, options: CallOptions<T> = {}): Promise<HostTensor> {
    return (await run(this.pipelineFor(), this.model, inputs, options)).attributions[0]!
  }
}

/** Options of LayerGradCam.attribute (Captum's names, camelCased). */
export interface LayerGradCamCallOptions<T> extends CallOptions<T> {
  /** Keep only the positive part of the map, as the original Grad-CAM (default false, as Captum). */
  readonly reluAttributions?: boolean
  /** Sum the weighted channels into one map (default true); false keeps one map per channel. */
  readonly attrDimSummation?: boolean
}

/**
 * Captum: `LayerGradCam(forward_func, layer)`; see {@link layerGradCam}. Resolves to the map at the
 * layer's resolution, (N, 1, d₂, …), or (N, C, d₂, …) with `attrDimSummation: false`.
 */
export class LayerGradCam<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object): Pipeline {
    return layerGradCam({ layer: this.layer, ...checked(t.partial({ reluAttributions: t.boolean, attrDimSummation: t.boolean }), options) })
  }
  async attribute(inputs: Inputs<T>, options: LayerGradCamCallOptions<T> = {}): Promise<HostTensor> {
    return (await run(this.pipelineFor(options), this.model, inputs, options)).attributions[0]!
  }
}

/**
 * Captum: `InternalInfluence(forward_func, layer)`; see {@link internalInfluence}. `baselines` as
 * for IntegratedGradients; resolves to the layer attribution.
 */
export class InternalInfluence<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec }), options)
    return internalInfluence({ layer: this.layer, ...o })
  }
  async attribute(inputs: Inputs<T>, options: CallOptions<T> & { readonly nSteps?: number; readonly method?: QuadratureRule } = {}): Promise<HostTensor> {
    return (await run(this.pipelineFor(options), this.model, inputs, options)).attributions[0]!
  }
}

/** Captum: `LayerActivation(forward_func, layer)`; `attribute(inputs, { additionalForwardArgs })`. */
export class LayerActivation<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(): Pipeline {
    return layerActivation({ layer: this.layer })
  }
  async attribute(inputs: Inputs<T>, options: Pick<CallOptions<T>, 'additionalForwardArgs' | 'signal'> = {}): Promise<HostTensor> {
    return (await run(this.pipelineFor(), this.model, inputs, options)).attributions[0]!
  }
}

/** Options of GradientShap.attribute: `baselines` is the distribution, [B, …one example] per input. */
export interface GradientShapCallOptions<T> extends CallOptions<T> {
  /** Samples per example (default 5). */
  readonly nSamples?: number
  /** σ of the noise added to the inputs: one for every input or one per input (default 0). */
  readonly stdevs?: number | readonly number[]
  readonly returnConvergenceDelta?: boolean
}

const ShapOptions = t.partial({ nSamples: GradientShapOptions.type.props.nSamples, stdevs: GradientShapOptions.type.props.stdevs, returnConvergenceDelta: t.boolean })

/**
 * Captum: `GradientShap(forward_func, multiply_by_inputs=True)`; see {@link gradientShap}.
 * Resolves to the attributions, or `[attributions, delta]` (N·nSamples deltas) with
 * `returnConvergenceDelta: true`.
 */
export class GradientShap<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    return gradientShap({ ...checked(ShapOptions, options), ...multiplyOf(this.options) })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: GradientShapCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: GradientShapCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: GradientShapCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/**
 * Captum: `InputBaselineXGradient(forward_func, multiply_by_inputs=True)`: the gradient at one
 * random point x′ + α(x − x′) per example, times (x − x′). `baselines` as for IntegratedGradients.
 */
export class InputBaselineXGradient<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.partial({ returnConvergenceDelta: t.boolean }), options)
    return inputBaselineXGradient({ ...o, ...multiplyOf(this.options) })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: CallOptions<T> & { readonly returnConvergenceDelta?: boolean }): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> & { readonly returnConvergenceDelta?: boolean } = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/** Captum: `LayerGradientShap(forward_func, layer, multiply_by_inputs=True)`; see {@link layerGradientShap}. */
export class LayerGradientShap<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    return layerGradientShap({ layer: this.layer, ...checked(ShapOptions, options), ...multiplyOf(this.options) })
  }
  attribute(inputs: Inputs<T>, options: GradientShapCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: GradientShapCallOptions<T>): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: GradientShapCallOptions<T> = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** A neuron and a path: the options NeuronIntegratedGradients and NeuronConductance decode. */
const NeuronPathOptions = t.intersection([t.type({ neuronSelector: NeuronSelectorCodec }), t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec })])

/** Options of the neuron methods' `attribute`: which neuron of the layer, per example. */
export interface NeuronCallOptions<T> extends Omit<CallOptions<T>, 'target'> {
  /** An integer, or an index tuple into the layer's per-example shape (Captum's `neuron_selector`). */
  readonly neuronSelector: NeuronSelector
}

/** Captum: `NeuronGradient(forward_func, layer)`: ∂(layer[neuron])/∂(inputs); see {@link neuronGradient}. */
export class NeuronGradient<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object): Pipeline {
    return neuronGradient({ layer: this.layer, ...checked(t.type({ neuronSelector: NeuronSelectorCodec }), options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/** Captum: `NeuronIntegratedGradients(forward_func, layer, multiply_by_inputs=True)`; see {@link neuronIntegratedGradients}. */
export class NeuronIntegratedGradients<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(NeuronPathOptions, options)
    return neuronIntegratedGradients({ layer: this.layer, ...o, ...multiplyOf(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T> & { readonly nSteps?: number; readonly method?: QuadratureRule }): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/**
 * Captum: `NeuronConductance(forward_func, layer, multiply_by_inputs=True)`; see
 * {@link neuronConductance}. Takes a `target` (the output whose flow through the neuron is measured)
 * as well as the neuron.
 */
export class NeuronConductance<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(NeuronPathOptions, options)
    return neuronConductance({ layer: this.layer, ...o, ...multiplyOf(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> & { readonly neuronSelector: NeuronSelector; readonly nSteps?: number; readonly method?: QuadratureRule }): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}
