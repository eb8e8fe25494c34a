/**
 * Input × Gradient (Shrikumar et al. 2016, arXiv:1605.01713): x ⊙ ∂F/∂x.
 *
 * Pipeline: `grad ∘ multiplyByInputs`.
 *
 * Captum: `InputXGradient(forward_func).attribute(inputs, target, additional_forward_args)`.
 *
 * Axioms: completeness for linear models only.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/** InputXGradient has no options (Captum's constructor and `attribute` take only call data). */
export const InputXGradientOptions = t.readonly(t.type({}))
export type InputXGradientOptions = t.TypeOf<typeof InputXGradientOptions>

/** The InputXGradient pipeline. */
export const inputXGradient = (): Pipeline => pipeline('InputXGradient', stage.grad(), stage.multiplyByInputs())
