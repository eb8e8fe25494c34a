/**
 * Shapley values (Shapley 1953), exact: with v(S) = F(x on the features in S, x′ elsewhere),
 *
 *   φ_i = Σ_{S ∌ i} |S|!(M − |S| − 1)!/M! · (v(S ∪ {i}) − v(S)),
 *
 * computed from the 2^M coalition values (each evaluated once; F(x) is the reference).
 *
 * Pipeline: `reference ∘ perturb(all coalitions) ∘ forward ∘ marginals`.
 *
 * Captum: `ShapleyValues(forward_func).attribute(inputs, baselines, target,
 * additional_forward_args, feature_mask, perturbations_per_eval=1)`. Same values and output shape
 * (`y.shape + input.shape[1:]`); Captum averages over all M! permutations (M!·M + 1 evaluations),
 * clarus sums over the 2^M coalitions (2^M evaluations), the same number for fewer model calls.
 * At most 20 features.
 *
 * Axioms: completeness (efficiency), symmetry, dummy, linearity.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** ShapleyValues has no options: masks, baselines and `perturbationsPerEval` are call data. */
export const ShapleyValuesOptions = t.readonly(t.type({}))
export type ShapleyValuesOptions = t.TypeOf<typeof ShapleyValuesOptions>

/** The ShapleyValues pipeline. */
export const shapleyValues = (): Pipeline =>
  pipeline(
    'ShapleyValues',
    stage.reference(),
    stage.perturb({ features: { _tag: 'masks' }, design: { _tag: 'shapleyExact' } }),
    stage.forward(),
    stage.marginals({ design: { _tag: 'shapleyExact' } }),
  )
