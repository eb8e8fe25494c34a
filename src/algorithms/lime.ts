/**
 * LIME (Ribeiro, Singh & Guestrin 2016, arXiv:1602.04938): sample coalitions z of the feature
 * groups, evaluate F on x where z = 1 and x′ where z = 0, weight each sample by its similarity to x,
 * and fit an interpretable linear model g(z) = b + β·z; the coefficients β are the attributions.
 *
 * Pipeline: `reference ∘ perturb(coalitions, similarity) ∘ forward ∘ linearFit`.
 *
 * Captum: `Lime(forward_func, interpretable_model=SkLearnLasso(alpha=0.01),
 * similarity_func=get_exp_kernel_similarity_function('cosine', 1.0), perturb_func=Bernoulli(0.5))`;
 * `attribute(inputs, baselines, target, additional_forward_args, feature_mask, n_samples=25,
 * perturbations_per_eval=1, return_input_shape=True)`. LimeBase's plug-in points are data here,
 * so the method stays JSON: `interpretableModel` (lasso | ridge | linearRegression), `similarity`
 * (exp kernel on cosine or Euclidean distance | KernelShap's | Shapley kernel), `sampler`
 * (bernoulli | enumerate: every coalition once, in binary counting order | kernelShap), or for any
 * of them `{ _tag: 'custom', name }`: a function the call supplies in `plugins` (see `LimeBase`);
 * the transform is Captum's default (present features from x, absent from x′). One model per
 * example, fitted to the same coalitions (Captum loops over examples with fresh draws).
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { Sampler, Similarity } from '../dsl/perturbation/designs.js'
import { InterpretableModel } from '../dsl/perturbation/linearModels.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const LimeOptions = t.readonly(
  t.partial({ nSamples: PositiveInt, interpretableModel: InterpretableModel, similarity: Similarity, sampler: Sampler, returnInputShape: t.boolean }),
)
export type LimeOptions = t.TypeOf<typeof LimeOptions>

export const limeDefaults = {
  nSamples: 25,
  interpretableModel: { _tag: 'lasso', alpha: 0.01 },
  similarity: { _tag: 'expKernel', distance: 'cosine', kernelWidth: 1.0 },
  sampler: 'bernoulli',
  returnInputShape: true,
} as const

/** The Lime pipeline (Captum's defaults filled in). */
export const lime = (o: LimeOptions = {}): Pipeline => {
  const opts = { ...limeDefaults, ...o }
  return pipeline(
    'Lime',
    stage.reference(),
    stage.perturb({ features: { _tag: 'masks' }, design: { _tag: 'coalitions', sampler: opts.sampler, nSamples: opts.nSamples, similarity: opts.similarity } }),
    stage.forward(),
    stage.linearFit({ model: opts.interpretableModel, returnInputShape: opts.returnInputShape }),
  )
}
