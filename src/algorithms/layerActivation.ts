/**
 * Layer Activation: the value of an internal tensor for each example (no target, no gradient).
 *
 * Pipeline: `activation`.
 *
 * Captum: `LayerActivation(forward_func, layer).attribute(inputs, additional_forward_args)`.
 * With a list of layers, one forward pass captures them all and the result is a list, one tensor
 * per layer in list order (Captum also accepts a list).
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { LayerSelection } from '../dsl/layers.js'

export const LayerActivationOptions = t.readonly(t.type({ layer: LayerSelection }))
export type LayerActivationOptions = t.TypeOf<typeof LayerActivationOptions>

/** The LayerActivation pipeline for a layer tensor or a list of them. */
export const layerActivation = (o: LayerActivationOptions): Pipeline => pipeline('LayerActivation', stage.activation({ layer: o.layer }))
