/**
 * Layer Gradient × Activation: a ⊙ ∂F/∂a for an internal tensor a (just ∂F/∂a with
 * `multiplyByInputs: false`, TCAV's layer sensitivity).
 *
 * Pipeline: `grad(layer) ∘ multiplyByInputs`.
 *
 * Captum: `LayerGradientXActivation(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * target, additional_forward_args)`.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const LayerGradientXActivationOptions = t.readonly(t.intersection([t.type({ layer: t.string }), t.partial({ multiplyByInputs: t.boolean })]))
export type LayerGradientXActivationOptions = t.TypeOf<typeof LayerGradientXActivationOptions>

/** The LayerGradientXActivation pipeline for a layer tensor. */
export const layerGradientXActivation = (o: LayerGradientXActivationOptions): Pipeline =>
  pipeline('LayerGradientXActivation', stage.grad({ layer: o.layer }), ...((o.multiplyByInputs ?? true) ? [stage.multiplyByInputs()] : []))
