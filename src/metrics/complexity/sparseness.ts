/**
 * Sparseness (Chalasani, Chen, Chowdhury, Wu & Jha 2020, "Concise Explanations of Neural
 * Networks using Adversarial Training", arXiv:1810.06583; Quantus's `Sparseness`): the Gini index
 * of the absolute attributions of each example (all inputs flattened together), sorted ascending,
 *
 *   G(a) = Σ_i (2i − n − 1) |a|_(i) / (n Σ_i |a|_i),
 *
 * 0 for a constant vector and (n − 1)/n for a one-hot one; higher is better (a sparser, more
 * concise explanation). All-zero attributions score 0.
 *
 * Pipeline: `(explain(method) | givenAttributions) ∘ explanationScore(gini)`. No model call
 * besides the method's own, nothing random.
 *
 * Captum: none (Quantus's `Sparseness` with its defaults abs=True; Quantus adds 1e-7 to every
 * value before sorting, which moves the score by less than n·1e-7 / Σ|a|).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { explanationStage, type Explained } from '../faithfulness/infidelity.js'

export const SparsenessOptions = t.readonly(t.type({}), 'SparsenessOptions')
export type SparsenessOptions = t.TypeOf<typeof SparsenessOptions>

/** What a metric explains, by name in its pipeline's name. */
export const explainedName = (explained: Explained): string => (explained === 'given' ? 'given attributions' : explained.name)

/** The sparseness pipeline of `explained`. */
export const sparseness = (explained: Explained, _o: SparsenessOptions = {}): Pipeline =>
  pipeline(`sparseness(${explainedName(explained)})`, explanationStage(explained), stage.explanationScore({ score: 'gini' }))
