/**
 * Monotonicity (Arya et al. 2019, "One Explanation Does Not Fit All", arXiv:1909.03012; Quantus's
 * `Monotonicity`): starting from the baseline x′, the features of an example (every element of
 * every input) are restored to x in increasing order of attribution, `stepSize` at a time
 * (default 1); the score is 1 when the target output never decreases from one step to the next,
 * else 0. Higher is better: each added feature, however unimportant, should not lower the output.
 *
 * It is the insertion curve in LeRF order, scored by whether it is monotonic. The first point
 * (the bare baseline) is left out of the check, as Quantus leaves it out. Features are ordered by
 * their signed attribution (Quantus orders by |a| with its default `abs=True`: pass absolute
 * attributions, e.g. Saliency's default, for that).
 *
 * Pipeline: `reference ∘ (explain(method) | givenAttributions) ∘ flipPerturb(insertion, lerf)[+sample]
 * ∘ forward ∘ curveScore(monotonic)[−sample]`; nothing random. The baselines are the call's
 * (zeros by default).
 *
 * Captum: none.
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

export const MonotonicityOptions = t.readonly(t.partial({ stepSize: PositiveInt }), 'MonotonicityOptions')
export type MonotonicityOptions = t.TypeOf<typeof MonotonicityOptions>

/** The monotonicity pipeline of `explained`. */
export const monotonicity = (explained: Explained, o: MonotonicityOptions = {}): Pipeline =>
  pipeline(
    `monotonicity(${explainedName(explained)})`,
    stage.reference(),
    explanationStage(explained),
    stage.flipPerturb({ mode: 'insertion', order: 'lerf', stepSize: o.stepSize ?? 1 }),
    stage.forward(),
    stage.curveScore({ score: 'monotonic' }),
  )
