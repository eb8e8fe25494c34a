/**
 * Saliency (Simonyan, Vedaldi & Zisserman 2013, arXiv:1312.6034): the gradient of the target
 * w.r.t. the inputs, in absolute value by default.
 *
 * Pipeline: `grad` (∘ `abs`).
 *
 * Captum: `Saliency(forward_func).attribute(inputs, target, abs=True, additional_forward_args)`.
 *
 * Axioms: none of the completeness family (a local method).
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const SaliencyOptions = t.readonly(t.partial({ abs: t.boolean }))
export type SaliencyOptions = t.TypeOf<typeof SaliencyOptions>

/** The Saliency pipeline (`abs` defaults to true, as in Captum). */
export const saliency = (o: SaliencyOptions = {}): Pipeline =>
  pipeline('Saliency', stage.grad(), ...((o.abs ?? true) ? [stage.abs()] : []))
