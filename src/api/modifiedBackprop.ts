/**
 * Captum-style classes for the modified-backprop methods: DeepLift, DeepLiftShap, GuidedBackprop,
 * Deconvolution, GuidedGradCam and their layer and neuron variants. Thin facades over the
 * pipelines (see the algorithm files for the formulas), like the classes in captum.ts. Beyond
 * Captum, each constructor takes an optional `ruleSet` that replaces the method's rule set
 * (`DEEPLIFT`, `GUIDED_BACKPROP`, `DECONVOLUTION` in core/ruleSet.ts); a node the rule set leaves
 * without a rule is an `UnsupportedOps` error listing every such node, before anything runs.
 *
 * @category api
 * @since 0.3.0
 */
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import type { RuleSet } from '../core/ruleSet.js'
import type { HostTensor } from '../core/tensor.js'
import type { Pipeline } from '../dsl/spec.js'
import { InterpolateModeCodec } from '../dsl/stages/upsample.js'
import { deepLift, deepLiftShap } from '../algorithms/deepLift.js'
import { layerDeepLift, layerDeepLiftShap } from '../algorithms/layerDeepLift.js'
import { neuronDeepLift, neuronDeepLiftShap } from '../algorithms/neuronDeepLift.js'
import { deconvolution, guidedBackprop, neuronDeconvolution, neuronGuidedBackprop } from '../algorithms/guidedBackprop.js'
import { guidedGradCam } from '../algorithms/guidedGradCam.js'
import { ChannelLayout } from '../algorithms/layerGradCam.js'
import { NeuronSelector as NeuronSelectorCodec } from '../algorithms/neuron.js'
import type { AttributionFn } from '../dsl/perturbation/plugins.js'
import type { CallOptions } from './attribute.js'
import type { NeuronCallOptions } from './captum.js'
import { checked, mirror, runOrThrow as run, type Explainer, type Inputs, type Mirrored } from './explainer.js'
import { channelLayoutFor, layerFor, type LayerInputOption } from './layers.js'
import { neuronCallOptions, neuronSpecOptions } from './neuronSelector.js'

/** Constructor options of the DeepLift classes (Captum's `multiply_by_inputs`, and a rule set of your own). */
export interface DeepLiftConstructorOptions {
  /** Multiply the multipliers by (x − x′) (default true, as Captum); false returns the multipliers. */
  readonly multiplyByInputs?: boolean
  /** Rules to use instead of {@link DEEPLIFT} (beyond Captum). */
  readonly ruleSet?: RuleSet
}

/** Constructor options of the guided backprop and deconvolution classes. */
export interface RuleSetConstructorOptions {
  /** Rules to use instead of the method's own (beyond Captum). */
  readonly ruleSet?: RuleSet
}

/** Captum's `custom_attribution_func`: replaces (x − x′) ⊙ multipliers (host tensors in and out; see {@link AttributionFn}). */
export interface CustomAttributionOption {
  readonly customAttributionFunc?: AttributionFn
}

/** Options of DeepLift.attribute: `baselines` one reference per input (default zeros), as for IntegratedGradients. */
export interface DeepLiftCallOptions<T> extends CallOptions<T>, CustomAttributionOption {
  readonly returnConvergenceDelta?: boolean
}

/** The name a class gives the call's custom attribution function in its pipeline and plug-ins. */
const CUSTOM = 'customAttributionFunc'
/** The pipeline option naming the custom function, when the call has one. */
const customOf = (o: object): { readonly customAttributionFunc?: { readonly _tag: 'custom'; readonly name: string } } =>
  typeof (o as CustomAttributionOption).customAttributionFunc === 'function' ? { customAttributionFunc: { _tag: 'custom', name: CUSTOM } } : {}
/** The call options with the custom function moved into the plug-ins, under the name the pipeline uses. */
const callOf = <O extends { readonly plugins?: CallOptions<unknown>['plugins'] } & CustomAttributionOption>(o: O): Omit<O, 'customAttributionFunc'> => {
  const { customAttributionFunc: fn, ...rest } = o
  return fn === undefined ? rest : { ...rest, plugins: { ...rest.plugins, attributions: { ...rest.plugins?.attributions, [CUSTOM]: fn } } }
}

const built = (o: DeepLiftConstructorOptions): DeepLiftConstructorOptions => ({
  ...(o.multiplyByInputs !== undefined ? { multiplyByInputs: o.multiplyByInputs } : {}),
  ...(o.ruleSet !== undefined ? { ruleSet: o.ruleSet } : {}),
})
const rules = (o: RuleSetConstructorOptions): RuleSetConstructorOptions => (o.ruleSet !== undefined ? { ruleSet: o.ruleSet } : {})
const DeltaOption = t.partial({ returnConvergenceDelta: t.boolean })
const NeuronOption = t.type({ neuronSelector: NeuronSelectorCodec })

/**
 * Captum: `DeepLift(model, multiply_by_inputs=True)`; see {@link deepLift}. Resolves to the
 * attributions, or `[attributions, delta]` (one delta per example) with `returnConvergenceDelta: true`.
 */
export class DeepLift<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return deepLift({ ...checked(DeltaOption, options), ...built(this.options), ...customOf(options) })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: DeepLiftCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: DeepLiftCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: DeepLiftCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, callOf(options))
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/**
 * Captum: `DeepLiftShap(model, multiply_by_inputs=True)`; see {@link deepLiftShap}. `baselines` is
 * the distribution, [B, …one example] per input. Resolves to the attributions, or
 * `[attributions, delta]` (N·B deltas, example-major) with `returnConvergenceDelta: true`.
 */
export class DeepLiftShap<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return deepLiftShap({ ...checked(DeltaOption, options), ...built(this.options), ...customOf(options) })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: DeepLiftCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: DeepLiftCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: DeepLiftCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, callOf(options))
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/** Captum: `LayerDeepLift(model, layer, multiply_by_inputs=True)`; see {@link layerDeepLift}. Resolves to the layer attribution, or `[attribution, delta]`. */
export class LayerDeepLift<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return layerDeepLift({ layer: layerFor(this.model, this.layer, options), ...checked(DeltaOption, options), ...built(this.options), ...customOf(options) })
  }
  attribute(inputs: Inputs<T>, options: DeepLiftCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: DeepLiftCallOptions<T> & LayerInputOption): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: DeepLiftCallOptions<T> & LayerInputOption = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, callOf(options))
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** Captum: `LayerDeepLiftShap(model, layer, multiply_by_inputs=True)`; see {@link layerDeepLiftShap}. `baselines` is the distribution. */
export class LayerDeepLiftShap<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return layerDeepLiftShap({ layer: layerFor(this.model, this.layer, options), ...checked(DeltaOption, options), ...built(this.options), ...customOf(options) })
  }
  attribute(inputs: Inputs<T>, options: DeepLiftCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: DeepLiftCallOptions<T> & LayerInputOption): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: DeepLiftCallOptions<T> & LayerInputOption = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, callOf(options))
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}

/** Options of NeuronDeepLift(Shap).attribute: the neuron, and `baselines` (one per input; the distribution for the Shap variant). */
export interface NeuronDeepLiftCallOptions<T> extends NeuronCallOptions<T>, CustomAttributionOption {
  readonly baselines?: CallOptions<T>['baselines']
}

/** Captum: `NeuronDeepLift(model, layer, multiply_by_inputs=True)`; see {@link neuronDeepLift}. */
export class NeuronDeepLift<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return neuronDeepLift({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...checked(NeuronOption, neuronSpecOptions(options)), ...built(this.options), ...customOf(options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronDeepLiftCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(callOf(options)))).attributions)
  }
}

/** Captum: `NeuronDeepLiftShap(model, layer, multiply_by_inputs=True)`; see {@link neuronDeepLiftShap}. `baselines` is the distribution. */
export class NeuronDeepLiftShap<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: DeepLiftConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return neuronDeepLiftShap({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...checked(NeuronOption, neuronSpecOptions(options)), ...built(this.options), ...customOf(options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronDeepLiftCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(callOf(options)))).attributions)
  }
}

/** Captum: `GuidedBackprop(model)`; see {@link guidedBackprop}. */
export class GuidedBackprop<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly options: RuleSetConstructorOptions = {}) {}
  pipelineFor(): Pipeline {
    return guidedBackprop(rules(this.options))
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(), this.model, inputs, options)).attributions)
  }
}

/** Captum: `Deconvolution(model)`; see {@link deconvolution}. */
export class Deconvolution<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly options: RuleSetConstructorOptions = {}) {}
  pipelineFor(): Pipeline {
    return deconvolution(rules(this.options))
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: CallOptions<T> = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(), this.model, inputs, options)).attributions)
  }
}

/** Captum: `NeuronGuidedBackprop(model, layer)`; see {@link neuronGuidedBackprop}. */
export class NeuronGuidedBackprop<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: RuleSetConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return neuronGuidedBackprop({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...checked(NeuronOption, neuronSpecOptions(options)), ...rules(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
  }
}

/** Captum: `NeuronDeconvolution(model, layer)`; see {@link neuronDeconvolution}. */
export class NeuronDeconvolution<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: RuleSetConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return neuronDeconvolution({ layer: layerFor(this.model, this.layer, options, 'attributeToNeuronInput'), ...checked(NeuronOption, neuronSpecOptions(options)), ...rules(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: NeuronCallOptions<T>): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, neuronCallOptions(options))).attributions)
  }
}

/** Options of GuidedGradCam.attribute (Captum's names, camelCased). */
export interface GuidedGradCamCallOptions<T> extends CallOptions<T> {
  /** How the Grad-CAM map is resized to the input (default 'nearest', as Captum). */
  readonly interpolateMode?: 'nearest' | 'linear' | 'bilinear' | 'trilinear'
  /** Where the layer's channels are (default: the layer's reported layout, else NCHW). Not in Captum. */
  readonly layout?: ChannelLayout
}

/** Captum: `GuidedGradCam(model, layer)`; see {@link guidedGradCam}. Resolves to attributions shaped like the inputs. */
export class GuidedGradCam<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: RuleSetConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    const o = checked(t.partial({ interpolateMode: InterpolateModeCodec, layout: ChannelLayout }), options)
    const layer = layerFor(this.model, this.layer, options)
    const layout = o.layout ?? channelLayoutFor(this.model, layer)
    return guidedGradCam({ layer, ...o, ...(layout !== undefined ? { layout } : {}), ...rules(this.options) })
  }
  async attribute<I extends Inputs<T>>(inputs: I, options: GuidedGradCamCallOptions<T> & LayerInputOption = {}): Promise<Mirrored<I>> {
    return mirror(inputs, (await run(this.pipelineFor(options), this.model, inputs, options)).attributions)
  }
}
