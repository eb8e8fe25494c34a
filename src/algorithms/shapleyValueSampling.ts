/**
 * Shapley Value Sampling (Castro et al. 2009; Štrumbelj & Kononenko 2010): the average over n
 * random feature orders π of each feature's marginal contribution when it joins its predecessors,
 *
 *   φ_i ≈ (1/n) Σ_π v(pre_π(i) ∪ {i}) − v(pre_π(i)).
 *
 * Every order satisfies completeness exactly: Σ_i φ_i = F(x) − F(x′).
 *
 * Pipeline: `reference ∘ perturb(permutation prefixes) ∘ forward ∘ marginals`.
 *
 * Captum: `ShapleyValueSampling(forward_func).attribute(inputs, baselines, target,
 * additional_forward_args, feature_mask, n_samples=25, perturbations_per_eval=1)`. Orders are
 * drawn from the call's `seed` (order s from `foldIn(key, s)`; reproducible on every backend).
 * Evaluations: 1 + n(M − 1) plus F(x) (Captum: 1 + nM).
 *
 * Axioms: completeness, dummy.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const ShapleyValueSamplingOptions = t.readonly(t.partial({ nSamples: PositiveInt }))
export type ShapleyValueSamplingOptions = t.TypeOf<typeof ShapleyValueSamplingOptions>

/** The ShapleyValueSampling pipeline (`nSamples` default 25, as in Captum). */
export const shapleyValueSampling = (o: ShapleyValueSamplingOptions = {}): Pipeline => {
  const design = { _tag: 'shapleySampling', nSamples: o.nSamples ?? 25 } as const
  return pipeline(
    'ShapleyValueSampling',
    stage.reference(),
    stage.perturb({ features: { _tag: 'masks' }, design }),
    stage.forward(),
    stage.marginals({ design }),
  )
}
