/**
 * Complexity (Bhatt, Weller & Moura 2020, "Evaluating and Aggregating Feature-based Model
 * Explanations", IJCAI, arXiv:2005.00631; Quantus's `Complexity`): the Shannon entropy (natural
 * log) of the fractional contribution of each feature, all inputs of an example flattened together,
 *
 *   C(a) = −Σ_i p_i log p_i,   p_i = |a_i| / Σ_j |a_j|   (0 · log 0 = 0),
 *
 * log n for uniform attributions, 0 for a one-hot one; lower is better (a simpler explanation).
 * All-zero attributions have no distribution and score NaN, as in Quantus.
 *
 * Pipeline: `(explain(method) | givenAttributions) ∘ explanationScore(entropy)`. No model call
 * besides the method's own, nothing random.
 *
 * Captum: none (Quantus's `Complexity`, which calls `scipy.stats.entropy` on |a| / Σ|a|).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { explanationStage, type Explained } from '../faithfulness/infidelity.js'
import { explainedName } from './sparseness.js'

export const ComplexityOptions = t.readonly(t.type({}), 'ComplexityOptions')
export type ComplexityOptions = t.TypeOf<typeof ComplexityOptions>

/** The complexity pipeline of `explained`. */
export const complexity = (explained: Explained, _o: ComplexityOptions = {}): Pipeline =>
  pipeline(`complexity(${explainedName(explained)})`, explanationStage(explained), stage.explanationScore({ score: 'entropy' }))
