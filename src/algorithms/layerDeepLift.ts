/**
 * LayerDeepLift and LayerDeepLiftShap: DeepLift's multipliers taken at an internal tensor a_l,
 *
 *   LayerDeepLift(x) = (a_l(x) − a_l(x′)) ⊙ ∂ᴰᴸF/∂a_l,   δ = Σ LayerDeepLift(x) − (F(x) − F(x′)),
 *
 * with the row and its reference in one batch (so a_l(x) and a_l(x′) come from the same pass), and
 * the Shap variant averaging over every reference row of a baseline distribution.
 *
 * Pipelines: LayerDeepLift = `grad(layer, rules DeepLift, row with its reference) ∘ scaleByDelta`
 * (∘ `completenessDelta`); LayerDeepLiftShap = `eachBaseline ∘ apply(LayerDeepLift) ∘ sampleMean`.
 *
 * Captum: `LayerDeepLift(model, layer, multiply_by_inputs=True).attribute(inputs, baselines=None,
 * target, additional_forward_args, return_convergence_delta=False, attribute_to_layer_input=False,
 * custom_attribution_func=None)`, `LayerDeepLiftShap(model, layer, multiply_by_inputs=True)
 * .attribute(inputs, baselines, …)` (deltas N·B, example-major). The layer is named by its tensor
 * (its input tensor for `attribute_to_layer_input`, which the classes resolve).
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

export const LayerDeepLiftOptions = t.readonly(
  t.intersection([
    t.type({ layer: t.string }),
    t.partial({ multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean, ruleSet: RuleSetCodec, customAttributionFunc: CustomRef }),
  ]),
)
export type LayerDeepLiftOptions = t.TypeOf<typeof LayerDeepLiftOptions>

export const LayerDeepLiftShapOptions = LayerDeepLiftOptions
export type LayerDeepLiftShapOptions = LayerDeepLiftOptions

/** The LayerDeepLift pipeline (Captum's defaults: multiplied by a_l(x) − a_l(x′), no delta). */
export const layerDeepLift = (o: LayerDeepLiftOptions): Pipeline =>
  pipeline(
    'LayerDeepLift',
    deepLiftGrad(o.ruleSet, { layer: o.layer }),
    ...deepLiftFinish(o),
    ...(o.returnConvergenceDelta === true ? [stage.completenessDelta()] : []),
  )

/** The LayerDeepLiftShap pipeline: LayerDeepLift against every row of the baseline distribution, averaged. */
export const layerDeepLiftShap = (o: LayerDeepLiftShapOptions): Pipeline =>
  pipeline('LayerDeepLiftShap', stage.eachBaseline(), stage.apply(layerDeepLift(o)), stage.sampleMean({ type: 'smoothgrad' }))
