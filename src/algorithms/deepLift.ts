/**
 * DeepLift (Shrikumar et al. 2017, arXiv:1704.02685) with the Rescale rule, as Captum 0.8.0 computes
 * it: every row x is evaluated together with its reference x′ in one batch, each nonlinearity's
 * gradient is replaced by its DeepLift multiplier Δout/Δin (the ordinary gradient where |Δin| < 1e-10;
 * Captum's own rules on Softmax and MaxPool), and the multipliers m = ∂ᴰᴸF/∂x give
 *
 *   DeepLift(x) = (x − x′) ⊙ m,   δ = Σ DeepLift(x) − (F(x) − F(x′)).
 *
 * DeepLiftShap (Lundberg & Lee 2017): the mean of DeepLift over every reference row b of a baseline
 * distribution, (1/B) Σ_b (x − b) ⊙ m(x, b), with one delta per (example, reference) pair.
 *
 * Pipelines: DeepLift = `grad(rules DeepLift, row with its reference) ∘ scaleByDelta`
 * (∘ `completenessDelta`); DeepLiftShap = `eachBaseline ∘ apply(DeepLift) ∘ sampleMean`.
 *
 * The rules are a rule set value (`DEEPLIFT` in core/ruleSet.ts), matched per op type on the graph,
 * so a functional activation, an activation used twice (a ResNet block's shared ReLU) or a fused
 * tfjs kernel each get the rule, where Captum's module hooks fail. `ruleSet` replaces it (beyond Captum).
 *
 * Captum: `DeepLift(model, multiply_by_inputs=True, eps=1e-10).attribute(inputs, baselines=None,
 * target, additional_forward_args, return_convergence_delta=False, custom_attribution_func=None)`;
 * `DeepLiftShap(model, multiply_by_inputs=True).attribute(inputs, baselines, …)` with `baselines` the
 * distribution ([B, …one example] per input); its deltas are N·B values, example-major (i·B + b).
 * `eps` is Captum's default 1e-10, fixed in the backends' Rescale rule. `custom_attribution_func` is
 * `customAttributionFunc`: a call-time function named in the pipeline (the `customAttribution` stage).
 *
 * @category algorithms
 * @since 0.3.0
 */
import * as t from 'io-ts'
import { DEEPLIFT, RuleSetCodec, type RuleSet } from '../core/ruleSet.js'
import { stage } from '../dsl/build.js'
import type { NeuronRef } from '../dsl/neuron.js'
import { CustomRef } from '../dsl/perturbation/plugins.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const DeepLiftOptions = t.readonly(t.partial({ multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean, ruleSet: RuleSetCodec, customAttributionFunc: CustomRef }))
export type DeepLiftOptions = t.TypeOf<typeof DeepLiftOptions>

/** DeepLiftShap takes DeepLift's options; `baselines` at call time is the distribution. */
export const DeepLiftShapOptions = DeepLiftOptions
export type DeepLiftShapOptions = DeepLiftOptions

/** The modified-backprop step every DeepLift method shares: rules applied, each row with its reference in one batch. */
export const deepLiftGrad = (ruleSet: RuleSet | undefined, extra: { readonly layer?: string; readonly neuron?: NeuronRef } = {}) =>
  stage.grad({ ...extra, ruleSet: ruleSet ?? DEEPLIFT, referenceRows: 'halves' })

/**
 * What turns the multipliers into attributions: a custom attribution function when one is named
 * (Captum then ignores `multiply_by_inputs`, and so does this), else × (x − x′) unless `multiplyByInputs` is false.
 */
export const deepLiftFinish = (o: { readonly multiplyByInputs?: boolean; readonly customAttributionFunc?: CustomRef }) =>
  o.customAttributionFunc !== undefined ? [stage.customAttribution({ fn: o.customAttributionFunc })]
    : (o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []

/** The DeepLift pipeline (Captum's defaults: multiplied by x − x′, no delta). */
export const deepLift = (o: DeepLiftOptions = {}): Pipeline =>
  pipeline(
    'DeepLift',
    deepLiftGrad(o.ruleSet),
    ...deepLiftFinish(o),
    ...(o.returnConvergenceDelta === true ? [stage.completenessDelta()] : []),
  )

/** The DeepLiftShap pipeline: DeepLift against every row of the baseline distribution, averaged. */
export const deepLiftShap = (o: DeepLiftShapOptions = {}): Pipeline =>
  pipeline('DeepLiftShap', stage.eachBaseline(), stage.apply(deepLift(o)), stage.sampleMean({ type: 'smoothgrad' }))
