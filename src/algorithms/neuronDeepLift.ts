/**
 * NeuronDeepLift and NeuronDeepLiftShap: DeepLift (and its average over a baseline distribution)
 * of one neuron y_n of an internal tensor instead of the model output,
 *
 *   NeuronDeepLift(x) = (x − x′) ⊙ ∂ᴰᴸy_n/∂x,
 *
 * with the row and its reference in one batch.
 *
 * Pipelines: NeuronDeepLift = `grad(neuron, rules DeepLift, row with its reference) ∘ scaleByDelta`;
 * NeuronDeepLiftShap = `eachBaseline ∘ apply(NeuronDeepLift) ∘ sampleMean`.
 *
 * Captum: `NeuronDeepLift(model, layer, multiply_by_inputs=True).attribute(inputs, neuron_selector,
 * baselines=None, additional_forward_args, attribute_to_neuron_input=False,
 * custom_attribution_func=None)`; `NeuronDeepLiftShap(model, layer, multiply_by_inputs=True)
 * .attribute(inputs, neuron_selector, baselines, …)`. No target and no delta (the neuron is what is explained).
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { RuleSetCodec } from '../core/ruleSet.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { CustomRef } from '../dsl/perturbation/plugins.js'
import { deepLiftFinish, deepLiftGrad } from './deepLift.js'
import { neuronOf, NeuronSelector } from './neuron.js'

export const NeuronDeepLiftOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string, neuronSelector: NeuronSelector }),
    t.partial({ multiplyByInputs: t.boolean, ruleSet: RuleSetCodec, customAttributionFunc: CustomRef }),
  ]),
)
export type NeuronDeepLiftOptions = t.TypeOf<typeof NeuronDeepLiftOptions>

export const NeuronDeepLiftShapOptions = NeuronDeepLiftOptions
export type NeuronDeepLiftShapOptions = NeuronDeepLiftOptions

/** The NeuronDeepLift pipeline (Captum's default: multiplied by x − x′). */
export const neuronDeepLift = (o: NeuronDeepLiftOptions): Pipeline =>
  pipeline(
    'NeuronDeepLift',
    deepLiftGrad(o.ruleSet, { neuron: neuronOf(o.layer, o.neuronSelector) }),
    ...deepLiftFinish(o),
  )

/** The NeuronDeepLiftShap pipeline: NeuronDeepLift against every row of the baseline distribution, averaged. */
export const neuronDeepLiftShap = (o: NeuronDeepLiftShapOptions): Pipeline =>
  pipeline('NeuronDeepLiftShap', stage.eachBaseline(), stage.apply(neuronDeepLift(o)), stage.sampleMean({ type: 'smoothgrad' }))
