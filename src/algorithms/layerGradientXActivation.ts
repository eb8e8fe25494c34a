/**
 * Layer Gradient × Activation: a ⊙ ∂F/∂a for an internal tensor a (just ∂F/∂a with
 * `multiplyByInputs: false`, TCAV's layer sensitivity).
 *
 * Pipeline: `grad(layer) ∘ multiplyByInputs`.
 *
 * Captum: `LayerGradientXActivation(forward_func, layer, multiply_by_inputs=True).attribute(inputs,
 * target, additional_forward_args)`.
 *
 * Many layers: `layer` may be a list; one forward and one backward pass give a ⊙ ∂F/∂a for every
 * listed layer, in list order, each the total derivative at that layer, so each equals a run with
 * that layer alone (as Captum's list of layers does).
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { LayerSelection } from '../dsl/layers.js'

export const LayerGradientXActivationOptions = t.readonly(t.intersection([t.type({ layer: LayerSelection }), t.partial({ multiplyByInputs: t.boolean })]))
export type LayerGradientXActivationOptions = t.TypeOf<typeof LayerGradientXActivationOptions>

/** The LayerGradientXActivation pipeline for a layer tensor or a list of them. */
export const layerGradientXActivation = (o: LayerGradientXActivationOptions): Pipeline =>
  pipeline('LayerGradientXActivation', stage.grad({ layer: o.layer }), ...((o.multiplyByInputs ?? true) ? [stage.multiplyByInputs()] : []))
