/**
 * Layer Feature Permutation: permutation importance of groups of a layer's neurons. Each group's
 * values in a = a(x) are shuffled across the examples of the batch and fed into the model in place
 * of the layer, and the group is credited with the change of the output,
 *
 *   attr_j = F(x) − F(x | a with group(j) permuted over the batch).
 *
 * Pipeline: `reference ∘ layerPoints(layer) ∘ perturb(layerMask, ablation → permutation)
 * ∘ forward(inject) ∘ diff` — FeaturePermutation's stages in the layer's space.
 *
 * Captum: `LayerFeaturePermutation(forward_func, layer).attribute(inputs, target,
 * additional_forward_args, layer_mask, perturbations_per_eval=1)`, attributing to the layer's
 * output. One permutation per group, never the identity (a batch of one example is left unchanged:
 * attribution 0), drawn from the call's `seed`. Captum passes `target` to the layer forward and again
 * to the permutation (so a `target` fails there, captum-semantics.md §5.10); here the target is
 * applied once, which is what that call means, and `target: null` gives Captum's results.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** The layer; masks and `perturbationsPerEval` are call data. */
export const LayerFeaturePermutationOptions = t.readonly(t.type({ layer: t.string }))
export type LayerFeaturePermutationOptions = t.TypeOf<typeof LayerFeaturePermutationOptions>

/** The LayerFeaturePermutation pipeline for a layer tensor. */
export const layerFeaturePermutation = (o: LayerFeaturePermutationOptions): Pipeline =>
  pipeline(
    'LayerFeaturePermutation',
    stage.reference(),
    stage.layerPoints({ layer: o.layer, baselines: false }),
    stage.perturb({ features: { _tag: 'layerMask' }, design: { _tag: 'ablation', replaceWith: 'permutation' } }),
    stage.forward({ inject: true }),
    stage.diff({ average: false }),
  )
