/**
 * Feature Ablation: each feature group g is replaced by the baseline and credited with the change
 * of the output,
 *
 *   attr_e = F(x) − F(x with group(e) set to x′)      for every element e of the group.
 *
 * Pipeline: `reference ∘ perturb(ablation → baseline) ∘ forward ∘ diff`.
 *
 * Captum: `FeatureAblation(forward_func).attribute(inputs, baselines, target,
 * additional_forward_args, feature_mask, perturbations_per_eval=1)`. Same masks (per tensor,
 * broadcast, per example, cross-tensor ids, one feature per scalar by default), baselines and
 * output-shape rules (`(nOut, …input.shape[1:])`). `perturbationsPerEval` is an upper bound;
 * by default copies are packed as the memory budget allows (results never depend on it).
 * Attributions are always float32 (Captum keeps an integer output's dtype).
 *
 * Axioms: dummy.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** FeatureAblation has no options: masks, baselines and `perturbationsPerEval` are call data. */
export const FeatureAblationOptions = t.readonly(t.type({}))
export type FeatureAblationOptions = t.TypeOf<typeof FeatureAblationOptions>

/** The FeatureAblation pipeline. */
export const featureAblation = (): Pipeline =>
  pipeline(
    'FeatureAblation',
    stage.reference(),
    stage.perturb({ features: { _tag: 'masks' }, design: { _tag: 'ablation', replaceWith: 'baseline' } }),
    stage.forward(),
    stage.diff({ average: false }),
  )
