/**
 * Captum-style classes for the perturbation methods: `new FeatureAblation(model).attribute(inputs,
 * { target, featureMask, … })`. Like `captum.ts`, a logic-free facade: each class builds its
 * pipeline from the options and runs it through {@link attribute}. They work on any model, a plain
 * JavaScript function included (`fromFunction`), because they need only forward passes.
 *
 * @category api
 * @since 0.1.0
 */
import { featureAblation } from '../algorithms/featureAblation.js'
import { featurePermutation } from '../algorithms/featurePermutation.js'
import { kernelShap, KernelShapOptions } from '../algorithms/kernelShap.js'
import { lime, LimeOptions } from '../algorithms/lime.js'
import { occlusion, OcclusionOptions } from '../algorithms/occlusion.js'
import { shapleyValueSampling, ShapleyValueSamplingOptions } from '../algorithms/shapleyValueSampling.js'
import { shapleyValues } from '../algorithms/shapleyValues.js'
import { layerFeatureAblation } from '../algorithms/layerFeatureAblation.js'
import { layerFeaturePermutation } from '../algorithms/layerFeaturePermutation.js'
import { NeuronSelector as NeuronSelectorCodec } from '../algorithms/neuron.js'
import { neuronFeatureAblation } from '../algorithms/neuronFeatureAblation.js'
import { layerFor, type LayerInputOption, type NeuronInputOption } from './layers.js'
import { neuronCallOptions, neuronSpecOptions, type NeuronSelectorArg } from './neuronSelector.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import type { HostTensor } from '../core/tensor.js'
import type { InterpretableModel } from '../dsl/perturbation/linearModels.js'
import type { Sampler, Similarity } from '../dsl/perturbation/designs.js'
import type { InterpretableModelFn, Plugins, SamplerFn, SimilarityFn } from '../dsl/perturbation/plugins.js'
import type { Pipeline } from '../dsl/spec.js'
import type { CallOptions } from './attribute.js'
import { checked, mirror, pick, runOrThrow, type Explainer, type Inputs, type Mirrored } from './explainer.js'

const run = async <T, I extends Inputs<T>>(method: Pipeline, model: Model<T>, inputs: I, options: CallOptions<T>): Promise<Mirrored<I>> =>
  mirror(inputs, (await runOrThrow(method, model, inputs, options)).attributions)

const runSurrogate = async <T, I extends Inputs<T>>(method: Pipeline, model: Model<T>, inputs: I, options: SurrogateCallOptions<T>): Promise<Mirrored<I> | HostTensor> => {
  const r = await run(method, model, inputs, options)
  return options.returnInputShape === false && Array.isArray(r) ? (r[0] as HostTensor) : r
}


/** Captum: `FeatureAblation(forward_func)`; see {@link featureAblation}. */
export class FeatureAblation<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(): Pipeline {
    return featureAblation()
  }
  attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return run(featureAblation(), this.model, inputs, options)
  }
}

/** Captum: `FeaturePermutation(forward_func)`; see {@link featurePermutation}. `baselines` are ignored. */
export class FeaturePermutation<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(): Pipeline {
    return featurePermutation()
  }
  attribute<I extends Inputs<T>>(inputs: I, options: Omit<CallOptions<T>, 'baselines'> = {}): Promise<Mirrored<I>> {
    return run(featurePermutation(), this.model, inputs, options)
  }
}

/** Options of Occlusion.attribute. */
export interface OcclusionCallOptions<T> extends Omit<CallOptions<T>, 'featureMask'> {
  readonly slidingWindowShapes: readonly number[] | readonly (readonly number[])[]
  readonly strides?: number | readonly number[] | readonly (number | readonly number[])[]
}

/** Captum: `Occlusion(forward_func)`; see {@link occlusion}. */
export class Occlusion<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(options: object): Pipeline {
    return occlusion(checked(OcclusionOptions, options))
  }
  attribute<I extends Inputs<T>>(inputs: I, options: OcclusionCallOptions<T>): Promise<Mirrored<I>> {
    return run(this.pipelineFor(options), this.model, inputs, options)
  }
}

/** Captum: `ShapleyValues(forward_func)`; see {@link shapleyValues}. */
export class ShapleyValues<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(): Pipeline {
    return shapleyValues()
  }
  attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return run(shapleyValues(), this.model, inputs, options)
  }
}

/** Options of ShapleyValueSampling.attribute. */
export interface ShapleyValueSamplingCallOptions<T> extends CallOptions<T> {
  readonly nSamples?: number
}

/** Captum: `ShapleyValueSampling(forward_func)`; see {@link shapleyValueSampling}. */
export class ShapleyValueSampling<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(options: object): Pipeline {
    return shapleyValueSampling(checked(ShapleyValueSamplingOptions, options))
  }
  attribute<I extends Inputs<T>>(inputs: I, options: ShapleyValueSamplingCallOptions<T> = {}): Promise<Mirrored<I>> {
    return run(this.pipelineFor(options), this.model, inputs, options)
  }
}

/** Options of Lime.attribute and KernelShap.attribute. */
export interface SurrogateCallOptions<T> extends CallOptions<T> {
  readonly nSamples?: number
  /**
   * true (default): coefficients spread over each group's elements, one tensor per input (mirroring
   * the inputs' container). false: the coefficient matrix, shape `(nOut, M)` for M features over all
   * inputs together — always one tensor, even when several inputs are given (as in Captum, which
   * returns a single tensor, not a tuple, with `return_input_shape=False`).
   */
  readonly returnInputShape?: boolean
}

/** LimeBase's plug-in points, as data (see {@link lime}). */
export interface LimeConfig {
  readonly interpretableModel?: InterpretableModel
  readonly similarity?: Similarity
  readonly sampler?: Sampler
}

/** Captum: `Lime(forward_func, interpretable_model, similarity_func, perturb_func)`; see {@link lime}. */
export class Lime<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly config: LimeConfig = {},
  ) {}
  pipelineFor(options: object): Pipeline {
    return lime(checked(LimeOptions, { ...this.config, ...pick(options, ['nSamples', 'returnInputShape']) }))
  }
  attribute<I extends Inputs<T>>(inputs: I, options: SurrogateCallOptions<T> & { readonly returnInputShape: false }): Promise<HostTensor>
  attribute<I extends Inputs<T>>(inputs: I, options?: SurrogateCallOptions<T>): Promise<Mirrored<I>>
  attribute<I extends Inputs<T>>(inputs: I, options: SurrogateCallOptions<T> = {}): Promise<Mirrored<I> | HostTensor> {
    return runSurrogate(this.pipelineFor(options), this.model, inputs, options)
  }
}

/** LimeBase's plug-in points: a named choice (as data) or your own function. */
export interface LimeBaseConfig {
  /** Default `{ _tag: 'lasso', alpha: 0.01 }`; a function fits (z, y, w) and returns the coefficients. */
  readonly interpretableModel?: InterpretableModel | InterpretableModelFn
  /** Default the cosine exp kernel of width 1; a function weighs one sample of one example. */
  readonly similarity?: Similarity | SimilarityFn
  /** Default `'bernoulli'`; a function draws one 0/1 vector over the features from seeded uniforms. */
  readonly sampler?: Sampler | SamplerFn
}

/**
 * Captum: `LimeBase(forward_func, interpretable_model, similarity_func, perturb_func, …)` with
 * your own functions. The pipeline stays JSON — it names each function
 * (`{ _tag: 'custom', name: 'limeBase.similarity' }`) — and the call supplies them, like a target
 * function. The transform from interpretable samples to inputs is the feature-mask one (present
 * features from x, absent ones from the baselines), as in Captum's Lime.
 */
export class LimeBase<T> implements Explainer<T> {
  private readonly spec: LimeConfig
  readonly plugins: Plugins
  constructor(
    readonly model: Model<T>,
    config: LimeBaseConfig = {},
  ) {
    const ref = (name: string) => ({ _tag: 'custom' as const, name: `limeBase.${name}` })
    this.spec = {
      ...(config.interpretableModel !== undefined ? { interpretableModel: typeof config.interpretableModel === 'function' ? ref('interpretableModel') : config.interpretableModel } : {}),
      ...(config.similarity !== undefined ? { similarity: typeof config.similarity === 'function' ? ref('similarity') : config.similarity } : {}),
      ...(config.sampler !== undefined ? { sampler: typeof config.sampler === 'function' ? ref('sampler') : config.sampler } : {}),
    }
    this.plugins = {
      ...(typeof config.interpretableModel === 'function' ? { interpretableModels: { 'limeBase.interpretableModel': config.interpretableModel } } : {}),
      ...(typeof config.similarity === 'function' ? { similarities: { 'limeBase.similarity': config.similarity } } : {}),
      ...(typeof config.sampler === 'function' ? { samplers: { 'limeBase.sampler': config.sampler } } : {}),
    }
  }
  pipelineFor(options: object): Pipeline {
    return lime(checked(LimeOptions, { ...this.spec, ...pick(options, ['nSamples', 'returnInputShape']) }))
  }
  attribute<I extends Inputs<T>>(inputs: I, options: SurrogateCallOptions<T> & { readonly returnInputShape: false }): Promise<HostTensor>
  attribute<I extends Inputs<T>>(inputs: I, options?: SurrogateCallOptions<T>): Promise<Mirrored<I>>
  attribute<I extends Inputs<T>>(inputs: I, options: SurrogateCallOptions<T> = {}): Promise<Mirrored<I> | HostTensor> {
    return runSurrogate(this.pipelineFor(options), this.model, inputs, { ...options, plugins: { ...options.plugins, ...this.plugins } })
  }
}

/** Options of KernelShap.attribute. */
export interface KernelShapCallOptions<T> extends SurrogateCallOptions<T> {
  /**
   * true: `baselines` are a background distribution (B rows, shape [B, …one example]) and each
   * coalition's value is the mean of F over them — SHAP's KernelExplainer semantics, which Captum
   * lacks (captum#1789). false (default): Captum's one baseline per example.
   */
  readonly baselineDistribution?: boolean
  /** Enumerate all 2^M coalitions with Shapley-kernel weights: the exact Shapley values (not in Captum). */
  readonly exact?: boolean
}

/** Captum: `KernelShap(forward_func)`; see {@link kernelShap}. */
export class KernelShap<T> implements Explainer<T> {
  constructor(readonly model: Model<T>) {}
  pipelineFor(options: object): Pipeline {
    return kernelShap(checked(KernelShapOptions, pick(options, ['nSamples', 'returnInputShape', 'exact', 'baselineDistribution'])))
  }
  attribute<I extends Inputs<T>>(inputs: I, options: KernelShapCallOptions<T> & { readonly returnInputShape: false }): Promise<HostTensor>
  attribute<I extends Inputs<T>>(inputs: I, options?: KernelShapCallOptions<T>): Promise<Mirrored<I>>
  attribute<I extends Inputs<T>>(inputs: I, options: KernelShapCallOptions<T> = {}): Promise<Mirrored<I> | HostTensor> {
    return runSurrogate(this.pipelineFor(options), this.model, inputs, options)
  }
}

/** Options of LayerFeatureAblation.attribute: the layer's baselines and mask instead of the inputs'. */
export interface LayerFeatureAblationCallOptions<T> extends Omit<CallOptions<T>, 'baselines' | 'featureMask'>, LayerInputOption {}

/**
 * Captum: `LayerFeatureAblation(forward_func, layer)`; see {@link layerFeatureAblation}. `layer`
 * names an internal tensor (for ONNX: a tensor name in the graph); `layerMask` groups its neurons
 * and `layerBaselines` replaces them (default 0). Resolves to the attribution in the layer's shape.
 */
export class LayerFeatureAblation<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object = {}): Pipeline {
    return layerFeatureAblation({ layer: layerFor(this.model, this.layer, options) })
  }
  async attribute(inputs: Inputs<T>, options: LayerFeatureAblationCallOptions<T> = {}): Promise<HostTensor> {
    return (await runOrThrow(this.pipelineFor(options), this.model, inputs, options)).attributions[0]!
  }
}

/**
 * Captum: `LayerFeaturePermutation(forward_func, layer)`; see {@link layerFeaturePermutation}.
 * `layerMask` groups the layer's neurons; each group is shuffled over the batch (seeded by `seed`).
 */
export class LayerFeaturePermutation<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(): Pipeline {
    return layerFeaturePermutation({ layer: this.layer })
  }
  async attribute(inputs: Inputs<T>, options: Omit<CallOptions<T>, 'baselines' | 'featureMask' | 'layerBaselines'> = {}): Promise<HostTensor> {
    return (await runOrThrow(this.pipelineFor(), this.model, inputs, options)).attributions[0]!
  }
}

/** Options of NeuronFeatureAblation.attribute: which neuron of the layer (no target), plus FeatureAblation's call data. */
export interface NeuronFeatureAblationCallOptions<T> extends Omit<CallOptions<T>, 'target' | 'layerBaselines' | 'layerMask'>, NeuronInputOption {
  /**
   * Captum's `neuron_selector`: an integer or an index tuple into the layer's per-example shape; a
   * tuple with slices (the sum of the block); `{ mask }`; or a function layer → one value per row.
   */
  readonly neuronSelector: NeuronSelectorArg<T>
}

/**
 * Captum: `NeuronFeatureAblation(forward_func, layer)`; see {@link neuronFeatureAblation}: each
 * input feature group is credited with the change of one neuron of `layer` when it is ablated.
 */
export class NeuronFeatureAblation<T> implements Explainer<T> {
  constructor(
    readonly model: Model<T>,
    readonly layer: string,
  ) {}
  pipelineFor(options: object): Pipeline {
    const { neuronSelector } = checked(t.type({ neuronSelector: NeuronSelectorCodec }), neuronSpecOptions(options))
    return neuronFeatureAblation({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), neuronSelector })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: NeuronFeatureAblationCallOptions<T>): Promise<Mirrored<I>> {
    return run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))
  }
}
