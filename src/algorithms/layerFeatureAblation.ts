/**
 * Layer Feature Ablation: Feature Ablation applied to an internal tensor a = a(x). Groups of the
 * layer's neurons are replaced by the layer baseline a′ (default 0) and credited with the change
 * of the output while the model runs on the original inputs with the layer substituted:
 *
 *   attr_j = F(x) − F(x | a with group(j) set to a′)      for every neuron j of the group.
 *
 * Pipeline: `reference ∘ layerPoints(layer, baselines) ∘ perturb(layerMask, ablation → baseline)
 * ∘ forward(inject) ∘ diff` — FeatureAblation's own stages, in the layer's space.
 *
 * Captum: `LayerFeatureAblation(forward_func, layer).attribute(inputs, layer_baselines, target,
 * additional_forward_args, layer_mask, attribute_to_layer_input=False, perturbations_per_eval=1)`.
 * `layerBaselines` and `layerMask` are call data (as `baselines` and `featureMask` are for
 * FeatureAblation), with the same broadcasting rules; attributions have the layer's shape
 * (`(nOut, …layer.shape[1:])` for a target that leaves several values per example). The layer is
 * named by its tensor; `attribute_to_layer_input` is expressed by naming the layer's input tensor.
 * `perturbationsPerEval` is an upper bound, as for FeatureAblation; results never depend on it.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** The layer; masks, layer baselines and `perturbationsPerEval` are call data. */
export const LayerFeatureAblationOptions = t.readonly(t.type({ layer: t.string }))
export type LayerFeatureAblationOptions = t.TypeOf<typeof LayerFeatureAblationOptions>

/** The LayerFeatureAblation pipeline for a layer tensor. */
export const layerFeatureAblation = (o: LayerFeatureAblationOptions): Pipeline =>
  pipeline(
    'LayerFeatureAblation',
    stage.reference(),
    stage.layerPoints({ layer: o.layer, baselines: true }),
    stage.perturb({ features: { _tag: 'layerMask' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }),
    stage.forward({ inject: true }),
    stage.diff({ average: false }),
  )
