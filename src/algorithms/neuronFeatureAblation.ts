/**
 * Neuron Feature Ablation: Feature Ablation where the explained value is one neuron y_n of an
 * internal tensor instead of a model output. Each feature group of the inputs is replaced by the
 * baseline and credited with the change of the neuron,
 *
 *   attr_e = y_n(x) − y_n(x with group(e) set to x′)      for every element e of the group.
 *
 * Pipeline: `reference(neuron) ∘ perturb(ablation → baseline) ∘ forward(neuron) ∘ diff`.
 *
 * Captum: `NeuronFeatureAblation(forward_func, layer).attribute(inputs, neuron_selector, baselines,
 * additional_forward_args, feature_mask, attribute_to_neuron_input=False, perturbations_per_eval=1)`.
 * Masks and baselines as for FeatureAblation (call data); the neuron is chosen like every neuron
 * method's (`neuronSelector`, see `neuron.ts`); no `target`. The layer is named by its tensor;
 * `attribute_to_neuron_input` is expressed by naming the layer's input tensor.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { neuronOf, NeuronSelector } from './neuron.js'

export const NeuronFeatureAblationOptions = t.readonly(t.type({ layer: t.string, neuronSelector: NeuronSelector }))
export type NeuronFeatureAblationOptions = t.TypeOf<typeof NeuronFeatureAblationOptions>

/** The NeuronFeatureAblation pipeline: y_n(x) − y_n(x̃) per ablated group. */
export const neuronFeatureAblation = (o: NeuronFeatureAblationOptions): Pipeline => {
  const neuron = neuronOf(o.layer, o.neuronSelector)
  return pipeline(
    'NeuronFeatureAblation',
    stage.reference({ neuron }),
    stage.perturb({ features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }),
    stage.forward({ neuron }),
    stage.diff({ average: false }),
  )
}
