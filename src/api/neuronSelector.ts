/**
 * The neuron selector as the Captum-style neuron classes take it: data ({@link NeuronSelector}:
 * an integer, an index tuple with slices, `{ mask }`) or, as in Captum, a function of the layer.
 * A function cannot live in a pipeline, so it is split off here: the pipeline gets the marker
 * `{ fromCall: 'neuronFn' }` and the call gets the function as `neuronFn` (call data).
 *
 * @category api
 * @since 0.3.0
 */
import type { NeuronSelector } from '../algorithms/neuron.js'
import { NEURON_FN, type NeuronFn } from '../dsl/neuron.js'

/** A neuron selector as a class's `attribute` takes it: data, or a function of the layer (tfjs for gradients). */
export type NeuronSelectorArg<T> = NeuronSelector | NeuronFn<T>

/** `o` with a function `neuronSelector` replaced by its pipeline marker (for `pipelineFor`). */
export const neuronSpecOptions = (o: object): object => {
  const s = (o as { readonly neuronSelector?: unknown }).neuronSelector
  return typeof s === 'function' ? { ...o, neuronSelector: { fromCall: NEURON_FN } } : o
}

/** `o` with a function `neuronSelector` also passed as the call's `neuronFn` (for `attribute`). */
export const neuronCallOptions = <O extends object>(o: O): O => {
  const s = (o as { readonly neuronSelector?: unknown }).neuronSelector
  return typeof s === 'function' ? { ...o, [NEURON_FN]: s } : o
}
