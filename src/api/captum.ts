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
import { layerConductance, LayerConductanceOptions } from '../algorithms/layerConductance.js'
import { internalInfluence } from '../algorithms/internalInfluence.js'
import { ChannelLayout, GradCamUpsample, layerGradCam } from '../algorithms/layerGradCam.js'
import { channelLayoutFor, layerFor, type LayerInputOption, type NeuronInputOption } from './layers.js'
import { neuronConductance, neuronGradient, neuronIntegratedGradients, NeuronSelector as NeuronSelectorCodec } from '../algorithms/neuron.js'
import { neuronCallOptions, neuronSpecOptions, type NeuronSelectorArg } from './neuronSelector.js'
import { saliency } from '../algorithms/saliency.js'
import { gradientShap, GradientShapOptions, inputBaselineXGradient } from '../algorithms/gradientShap.js'
import { layerGradientShap } from '../algorithms/layerGradientShap.js'
import { neuronGradientShap } from '../algorithms/neuronGradientShap.js'
import type { QuadratureRule } from '../dsl/quadratureRules.js'
import type { Pipeline } from '../dsl/spec.js'
import type { CallOptions } from './attribute.js'
import { checked, checkedLayer, layerResult, mirror, pick, runOrThrow as run, type Explainer, type Inputs, type LayerResult, type Mirrored } from './explainer.js'
import type { LayerSelection } from '../dsl/layers.js'
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { QuadratureRule as QuadratureRuleCodec } from '../dsl/quadratureRules.js'

export type { LayerResult, Mirrored } from './explainer.js'

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
 * an internal tensor of the model (for ONNX: a tensor name in the graph), or is a list of them.
 * Resolves to the layer attribution (one tensor; a list, one per layer, for a list of layers), or
 * `[attribution, delta]` with `returnConvergenceDelta: true`. With a list, all layers move along
 * their paths together in one pass and the one delta per example sums every layer's attributions,
 * as in Captum (see {@link layerIntegratedGradients}).
 */
export class LayerIntegratedGradients<T, L extends LayerSelection = string> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: L,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}

  pipelineFor(options: object): Pipeline {
    const o = checked(PathOptions, options)
    return layerIntegratedGradients({ layer: layerFor(this.model, checkedLayer(this.layer), options), ...o, ...multiplyOf(this.options) })
  }

  attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[LayerResult<L>, HostTensor]>
  attribute(inputs: Inputs<T>, options?: IntegratedGradientsCallOptions<T> & LayerInputOption): Promise<LayerResult<L>>
  async attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> & LayerInputOption = {}): Promise<LayerResult<L> | [LayerResult<L>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    const attrs = layerResult(this.layer, r.attributions)
    return options.returnConvergenceDelta === true ? [attrs, r.delta!] : attrs
  }
}

/**
 * Captum: `LayerGradientXActivation(forward_func, layer, multiply_by_inputs=True)`. A list of
 * layers resolves to a list (one per layer), from one forward and one backward pass.
 */
export class LayerGradientXActivation<T, L extends LayerSelection = string> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: L,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object = {}): Pipeline {
    return layerGradientXActivation({ layer: layerFor(this.model, checkedLayer(this.layer), options), ...multiplyOf(this.options) })
  }
  async attribute(inputs: Inputs<T>, options: CallOptions<T> & LayerInputOption = {}): Promise<LayerResult<L>> {
    return layerResult(this.layer, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/** Options of LayerGradCam.attribute (Captum's names, camelCased). */
export interface LayerGradCamCallOptions<T> extends CallOptions<T> {
  /** Keep only the positive part of the map, as the original Grad-CAM (default false, as Captum). */
  readonly reluAttributions?: boolean
  /** Sum the weighted channels into one map (default true); false keeps one map per channel. */
  readonly attrDimSummation?: boolean
  /**
   * Where the layer's channels are (default: the layer's `LayerInfo.layout` when the backend
   * reports NHWC, e.g. a tfjs Conv2D, otherwise NCHW). Not in Captum, whose layers are NCHW.
   */
  readonly layout?: ChannelLayout
  /**
   * Resize the map to `size` (`'input'`: the input's spatial size) with `mode` (default 'nearest'),
   * as Captum's `LayerAttribution.interpolate(map, size, mode)` applied to the result.
   */
  readonly upsample?: GradCamUpsample
}

/**
 * Captum: `LayerGradCam(forward_func, layer)`; see {@link layerGradCam}. Resolves to the map at the
 * layer's resolution, (N, 1, d₂, …), or (N, C, d₂, …) with `attrDimSummation: false`; a list of
 * layers resolves to a list of maps (one per layer), from one forward and one backward pass.
 */
export class LayerGradCam<T, L extends LayerSelection = string> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: L,
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.partial({ reluAttributions: t.boolean, attrDimSummation: t.boolean, layout: ChannelLayout, upsample: GradCamUpsample }), options)
    const layer = layerFor(this.model, checkedLayer(this.layer), options)
    const layout = o.layout ?? channelLayoutFor(this.model, layer)
    return layerGradCam({ layer, ...o, ...(layout !== undefined ? { layout } : {}) })
  }
  async attribute(inputs: Inputs<T>, options: LayerGradCamCallOptions<T> & LayerInputOption = {}): Promise<LayerResult<L>> {
    return layerResult(this.layer, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/**
 * Captum: `InternalInfluence(forward_func, layer)`; see {@link internalInfluence}. `baselines` as
 * for IntegratedGradients; resolves to the layer attribution, or a list (one per layer, the same
 * path steps differentiated once for all) for a list of layers.
 */
export class InternalInfluence<T, L extends LayerSelection = string> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: L,
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec }), options)
    return internalInfluence({ layer: layerFor(this.model, checkedLayer(this.layer), options), ...o })
  }
  async attribute(inputs: Inputs<T>, options: CallOptions<T> & LayerInputOption & { readonly nSteps?: number; readonly method?: QuadratureRule } = {}): Promise<LayerResult<L>> {
    return layerResult(this.layer, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}

/**
 * Captum: `LayerConductance(forward_func, layer)`; see {@link layerConductance}. `baselines` as for
 * IntegratedGradients; the path has `nSteps + 1` points of `method` (default 50 steps,
 * Gauss–Legendre). Resolves to the layer attribution (the layer tensor's shape), or
 * `[attribution, delta]` with `returnConvergenceDelta: true` (δ = Σ attribution − (F(x) − F(x′)) per example).
 */
export class LayerConductance<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}

  pipelineFor(options: object): Pipeline {
    return layerConductance(checked(LayerConductanceOptions, { layer: layerFor(this.model, this.layer, options), ...pick(options, ['nSteps', 'method', 'returnConvergenceDelta']) }))
  }

  attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: IntegratedGradientsCallOptions<T> & LayerInputOption): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: IntegratedGradientsCallOptions<T> & LayerInputOption = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/**
 * Captum: `LayerActivation(forward_func, layer)`; `attribute(inputs, { additionalForwardArgs })`.
 * A list of layers resolves to a list of activations, captured in one forward pass.
 */
export class LayerActivation<T, L extends LayerSelection = string> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: L,
  ) {}
  pipelineFor(options: object = {}): Pipeline {
    return layerActivation({ layer: layerFor(this.model, checkedLayer(this.layer), options) })
  }
  async attribute(inputs: Inputs<T>, options: Pick<CallOptions<T>, 'additionalForwardArgs' | 'signal'> & LayerInputOption = {}): Promise<LayerResult<L>> {
    return layerResult(this.layer, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
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
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    return layerGradientShap({ layer: layerFor(this.model, this.layer, options), ...checked(ShapOptions, options), ...multiplyOf(this.options) })
  }
  attribute(inputs: Inputs<T>, options: GradientShapCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: GradientShapCallOptions<T> & LayerInputOption): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: GradientShapCallOptions<T> & LayerInputOption = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** A neuron and a path: the options NeuronIntegratedGradients and NeuronConductance decode. */
const NeuronPathOptions = t.intersection([t.type({ neuronSelector: NeuronSelectorCodec }), t.partial({ nSteps: PositiveInt, method: QuadratureRuleCodec })])

/** Options of the neuron methods' `attribute`: which neuron of the layer, per example. */
export interface NeuronCallOptions<T> extends Omit<CallOptions<T>, 'target'> {
  /**
   * Captum's `neuron_selector`: an integer or an index tuple into the layer's per-example shape;
   * a tuple with slices `{ start?, stop?, step? }` (the sum of the block); `{ mask }` (Σ mask ⊙
   * layer); or a function layer → one scalar per row (tfjs). See {@link NeuronSelectorCodec}.
   */
  readonly neuronSelector: NeuronSelectorArg<T>
  /** Pick the neuron in the tensor the layer reads (Captum's `attribute_to_neuron_input`; default false). */
  readonly attributeToNeuronInput?: boolean
}

/** Captum: `NeuronGradient(forward_func, layer)`: ∂(layer[neuron])/∂(inputs); see {@link neuronGradient}. */
export class NeuronGradient<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object): Pipeline {
    return neuronGradient({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...checked(t.type({ neuronSelector: NeuronSelectorCodec }), neuronSpecOptions(options)) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
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
    const o = checked(NeuronPathOptions, neuronSpecOptions(options))
    return neuronIntegratedGradients({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...o, ...multiplyOf(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T> & { readonly nSteps?: number; readonly method?: QuadratureRule }): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
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
    const o = checked(NeuronPathOptions, neuronSpecOptions(options))
    return neuronConductance({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...o, ...multiplyOf(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> & NeuronInputOption & { readonly neuronSelector: NeuronSelectorArg<T>; readonly nSteps?: number; readonly method?: QuadratureRule }): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
  }
}

/** Options of NeuronGradientShap.attribute: the neuron, and `baselines` as the distribution ([B, …one example] per input). */
export interface NeuronGradientShapCallOptions<T> extends NeuronCallOptions<T> {
  /** Samples per example (default 5). */
  readonly nSamples?: number
  /** σ of the noise added to the inputs: one for every input or one per input (default 0). */
  readonly stdevs?: number | readonly number[]
}

/**
 * Captum: `NeuronGradientShap(forward_func, layer, multiply_by_inputs=True)`; see
 * {@link neuronGradientShap}: GradientShap of one neuron of `layer`. Seeded by `seed`.
 */
export class NeuronGradientShap<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
    readonly options: { readonly multiplyByInputs?: boolean } = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.intersection([t.type({ neuronSelector: NeuronSelectorCodec }), ShapOptions]), neuronSpecOptions(options))
    return neuronGradientShap({
      layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'),
      neuronSelector: o.neuronSelector,
      ...(o.nSamples !== undefined ? { nSamples: o.nSamples } : {}),
      ...(o.stdevs !== undefined ? { stdevs: o.stdevs } : {}),
      ...multiplyOf(this.options),
    })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronGradientShapCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
  }
}
