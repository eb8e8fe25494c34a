/**
 * Completeness (Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks",
 * arXiv:1703.01365; Quantus's `Completeness`): how far the attributions of each example are from
 * summing to the change of the model's output between the baseline and the input,
 *
 *   |Σ_i a_i − (F(x) − F(x′))|,
 *
 * with every input's attributions summed and F the target-selected output (Captum's convergence
 * delta, in absolute value); lower is better, 0 for a method that is complete (Integrated
 * Gradients with enough steps, DeepLift on a linear model, …). The baselines are the call's
 * (zeros by default).
 *
 * Pipeline: `(explain(method) | givenAttributions) ∘ completenessDelta ∘ explanationScore(absDelta)`:
 * two model calls besides the method's own, nothing random.
 *
 * Captum: none as a metric (the same δ as `compute_convergence_delta` / `return_convergence_delta`).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { explainedName } from '../complexity/sparseness.js'
import { explanationStage, type Explained } from '../faithfulness/infidelity.js'

export const CompletenessOptions = t.readonly(t.type({}), 'CompletenessOptions')
export type CompletenessOptions = t.TypeOf<typeof CompletenessOptions>

/** The completeness pipeline of `explained`. */
export const completeness = (explained: Explained, _o: CompletenessOptions = {}): Pipeline =>
  pipeline(`completeness(${explainedName(explained)})`, explanationStage(explained), stage.completenessDelta(), stage.explanationScore({ score: 'absDelta' }))
