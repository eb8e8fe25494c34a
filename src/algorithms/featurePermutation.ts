/**
 * Feature Permutation (permutation importance, Breiman 2001; Fisher et al. 2019,
 * arXiv:1801.01489): each feature group is shuffled across the examples of the batch, and credited
 * with the change of the output, attr_e = F(x) − F(x with group(e) permuted over the batch).
 *
 * Pipeline: `reference ∘ perturb(ablation → permutation) ∘ forward ∘ diff`.
 *
 * Captum: `FeaturePermutation(forward_func).attribute(inputs, target, additional_forward_args,
 * feature_mask, perturbations_per_eval=1)` with its default `perm_func`: one permutation per group
 * and input tensor, never the identity (a batch of one example is left unchanged: attribution 0).
 * Permutations are drawn from the call's `seed` (reproducible on every backend, not torch's stream).
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** FeaturePermutation has no options: masks and `perturbationsPerEval` are call data. */
export const FeaturePermutationOptions = t.readonly(t.type({}))
export type FeaturePermutationOptions = t.TypeOf<typeof FeaturePermutationOptions>

/** The FeaturePermutation pipeline. */
export const featurePermutation = (): Pipeline =>
  pipeline(
    'FeaturePermutation',
    stage.reference(),
    stage.perturb({ features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'permutation' } }),
    stage.forward(),
    stage.diff({ average: false }),
  )
