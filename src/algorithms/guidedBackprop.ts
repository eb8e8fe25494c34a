/**
 * GuidedBackprop (Springenberg et al. 2014, arXiv:1412.6806) and Deconvolution (Zeiler & Fergus
 * 2014, arXiv:1311.2901): the gradient ∂F/∂x with the backward pass of every ReLU replaced —
 * guided: relu(ordinary ReLU input gradient), only positive gradient through positive activations;
 * deconvolution: relu(upstream gradient), whatever the activation. Other ops keep their gradient.
 * The neuron variants explain one neuron y_n of an internal tensor instead of the output.
 *
 * Pipelines: `grad(rules GuidedBackprop)`, `grad(rules Deconvolution)`, and with a neuron
 * `grad(neuron, rules …)`. The rule sets (`GUIDED_BACKPROP`, `DECONVOLUTION` in core/ruleSet.ts) match
 * ReLU by op type, so functional ReLUs get the rule too (Captum hooks `nn.ReLU` modules only and
 * leaves `F.relu` with its plain gradient); `ruleSet` replaces them (beyond Captum).
 *
 * Captum: `GuidedBackprop(model).attribute(inputs, target, additional_forward_args)`,
 * `Deconvolution(model).attribute(…)`, `NeuronGuidedBackprop(model, layer).attribute(inputs,
 * neuron_selector, additional_forward_args, attribute_to_neuron_input=False)`,
 * `NeuronDeconvolution(model, layer).attribute(…)`. No baselines, no delta.
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { DECONVOLUTION, GUIDED_BACKPROP, RuleSetCodec } from '../core/ruleSet.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { neuronOf, NeuronSelector } from './neuron.js'

export const GuidedBackpropOptions = t.readonly(t.partial({ ruleSet: RuleSetCodec }))
export type GuidedBackpropOptions = t.TypeOf<typeof GuidedBackpropOptions>
export const DeconvolutionOptions = GuidedBackpropOptions
export type DeconvolutionOptions = GuidedBackpropOptions

export const NeuronGuidedBackpropOptions = t.readonly(
  t.intersection([t.type({ layer: t.string, neuronSelector: NeuronSelector }), t.partial({ ruleSet: RuleSetCodec })]),
)
export type NeuronGuidedBackpropOptions = t.TypeOf<typeof NeuronGuidedBackpropOptions>
export const NeuronDeconvolutionOptions = NeuronGuidedBackpropOptions
export type NeuronDeconvolutionOptions = NeuronGuidedBackpropOptions

/** The GuidedBackprop pipeline. */
export const guidedBackprop = (o: GuidedBackpropOptions = {}): Pipeline =>
  pipeline('GuidedBackprop', stage.grad({ ruleSet: o.ruleSet ?? GUIDED_BACKPROP }))

/** The Deconvolution pipeline. */
export const deconvolution = (o: DeconvolutionOptions = {}): Pipeline =>
  pipeline('Deconvolution', stage.grad({ ruleSet: o.ruleSet ?? DECONVOLUTION }))

/** The NeuronGuidedBackprop pipeline: guided gradient of one neuron. */
export const neuronGuidedBackprop = (o: NeuronGuidedBackpropOptions): Pipeline =>
  pipeline('NeuronGuidedBackprop', stage.grad({ neuron: neuronOf(o.layer, o.neuronSelector), ruleSet: o.ruleSet ?? GUIDED_BACKPROP }))

/** The NeuronDeconvolution pipeline: deconvolution gradient of one neuron. */
export const neuronDeconvolution = (o: NeuronDeconvolutionOptions): Pipeline =>
  pipeline('NeuronDeconvolution', stage.grad({ neuron: neuronOf(o.layer, o.neuronSelector), ruleSet: o.ruleSet ?? DECONVOLUTION }))
