/**
 * Captum-style classes for Layer-wise Relevance Propagation: LRP and LayerLRP, thin facades over
 * {@link lrp} and {@link layerLrp}. Captum reads rules from attributes set on modules; here the
 * constructor takes a rule set (default {@link LRP_CAPTUM}, Captum's defaults), a JSON value keyed
 * by op type, node name or layer tensor. A node on the gradient path that the rule set leaves
 * without a rule is an `UnsupportedOps` error listing every such node, before anything runs.
 *
 * LRP is patented by its inventors (free for personal and scientific use, per the LXT project's
 * statement).
 *
 * @category api
 * @since 0.3.0
 */
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import type { RuleSet } from '../core/ruleSet.js'
import type { HostTensor } from '../core/tensor.js'
import type { Pipeline } from '../dsl/spec.js'
import { layerLrp, lrp } from '../algorithms/lrp.js'
import type { CallOptions } from './attribute.js'
import { checked, mirror, runOrThrow as run, type Explainer, type Inputs, type Mirrored } from './explainer.js'
import { layerFor, type LayerInputOption } from './layers.js'

/** Constructor options of LRP and LayerLRP. */
export interface LrpConstructorOptions {
  /** The rules (default {@link LRP_CAPTUM}; also EPSILON_PLUS, EPSILON_ALPHA2_BETA1, ATTN_LRP, or your own). */
  readonly ruleSet?: RuleSet
}

/** Options of LRP.attribute: the target, and Captum's `return_convergence_delta` (δ = F(x) − Σ relevance). */
export interface LrpCallOptions<T> extends CallOptions<T> {
  readonly returnConvergenceDelta?: boolean
}

const DeltaOption = t.partial({ returnConvergenceDelta: t.boolean })
const rules = (o: LrpConstructorOptions): LrpConstructorOptions => (o.ruleSet !== undefined ? { ruleSet: o.ruleSet } : {})

/**
 * Captum: `LRP(model)`; see {@link lrp}. Resolves to the relevance per input, or
 * `[relevance, delta]` (one δ = F(x) − Σ relevance per example) with `returnConvergenceDelta: true`.
 */
export class LRP<T> implements Explainer<T> {
  constructor(readonly model: Model<T>, readonly options: LrpConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return lrp({ ...checked(DeltaOption, options), ...rules(this.options) })
  }
  attribute<I extends Inputs<T>>(inputs: I, options: LrpCallOptions<T> & { readonly returnConvergenceDelta: true }): Promise<[Mirrored<I>, HostTensor]>
  attribute<I extends Inputs<T>>(inputs: I, options?: LrpCallOptions<T>): Promise<Mirrored<I>>
  async attribute<I extends Inputs<T>>(inputs: I, options: LrpCallOptions<T> = {}): Promise<Mirrored<I> | [Mirrored<I>, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [mirror(inputs, r.attributions), r.delta!] : mirror(inputs, r.attributions)
  }
}

/**
 * Captum: `LayerLRP(model, layer)`; see {@link layerLrp}. Resolves to the relevance at the layer
 * (at its input with `attributeToLayerInput: true`), or `[relevance, delta]`.
 */
export class LayerLRP<T> implements Explainer<T> {
  declare readonly resultKind: 'layer'
  constructor(readonly model: Model<T>, readonly layer: string, readonly options: LrpConstructorOptions = {}) {}
  pipelineFor(options: object): Pipeline {
    return layerLrp({ layer: layerFor(this.model, this.layer, options), ...checked(DeltaOption, options), ...rules(this.options) })
  }
  attribute(inputs: Inputs<T>, options: LrpCallOptions<T> & LayerInputOption & { readonly returnConvergenceDelta: true }): Promise<[HostTensor, HostTensor]>
  attribute(inputs: Inputs<T>, options?: LrpCallOptions<T> & LayerInputOption): Promise<HostTensor>
  async attribute(inputs: Inputs<T>, options: LrpCallOptions<T> & LayerInputOption = {}): Promise<HostTensor | [HostTensor, HostTensor]> {
    const r = await run(this.pipelineFor(options), this.model, inputs, options)
    return options.returnConvergenceDelta === true ? [r.attributions[0]!, r.delta!] : r.attributions[0]!
  }
}
