/**
 * Faithfulness correlation (Bhatt, Weller & Moura 2020, "Evaluating and Aggregating Feature-based
 * Model Explanations", IJCAI, arXiv:2005.00631; Quantus's `FaithfulnessCorrelation`): per example,
 * the Pearson correlation, over `nSamples` random subsets S of `subsetSize` features (elements of
 * the inputs), between the attributions' total on the subset and the output drop when the subset
 * is set to the baseline,
 *
 *   corr_S( Σ_{i∈S} a_i , F(x) − F(x_{S ← x′}) ),
 *
 * in [−1, 1]; higher is better (1 for exact attributions of a linear model). NaN when the drops or
 * the sums do not vary over the samples.
 *
 * Pipeline: `reference ∘ (explain(method) | givenAttributions) ∘ subsetPerturb[+sample] ∘ forward ∘
 * correlationScore[−sample]`: chunked under the memory budget, seeded (the subsets are drawn per
 * row), the baselines the call's (zeros by default; Quantus's default "black").
 *
 * Captum: none. Quantus's defaults: `nr_runs = 100` (`nSamples`), `subset_size = 224`.
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { explainedName } from '../complexity/sparseness.js'
import { explanationStage, type Explained } from './infidelity.js'

export const FaithfulnessCorrelationOptions = t.readonly(t.partial({ nSamples: PositiveInt, subsetSize: PositiveInt }), 'FaithfulnessCorrelationOptions')
export type FaithfulnessCorrelationOptions = t.TypeOf<typeof FaithfulnessCorrelationOptions>

/** Quantus's defaults. */
export const faithfulnessCorrelationDefaults = { nSamples: 100, subsetSize: 224 } as const

/** The faithfulness-correlation pipeline of `explained`. */
export const faithfulnessCorrelation = (explained: Explained, o: FaithfulnessCorrelationOptions = {}): Pipeline => {
  const opts = { ...faithfulnessCorrelationDefaults, ...o }
  return pipeline(
    `faithfulnessCorrelation(${explainedName(explained)})`,
    stage.reference(),
    explanationStage(explained),
    stage.subsetPerturb({ nSamples: opts.nSamples, subsetSize: opts.subsetSize }),
    stage.forward(),
    stage.correlationScore(),
  )
}
