/**
 * Integrated Gradients (Sundararajan, Taly & Yan 2017, arXiv:1703.01365):
 *
 *   IG_j(x) = (x_j − x′_j) · ∫₀¹ ∂F/∂x_j (x′ + α(x − x′)) dα ≈ (x_j − x′_j) Σ_k w_k ∂F/∂x_j(x′ + α_k(x − x′))
 *
 * Pipeline: `interpolate ∘ grad ∘ quadrature ∘ scaleByDelta` (∘ `completenessDelta`).
 *
 * Captum: `IntegratedGradients(forward_func, multiply_by_inputs=True).attribute(inputs, baselines,
 * target, additional_forward_args, n_steps=50, method='gausslegendre', internal_batch_size,
 * return_convergence_delta)`. Same nodes, weights (trapezoid quirk included), step-major layout
 * and delta. Chunking is automatic under a memory budget; `internalBatchSize` keeps Captum's meaning.
 *
 * Axioms: completeness, sensitivity, implementation invariance, linearity, symmetry-preserving, dummy.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { QuadratureRule } from '../dsl/quadratureRules.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

export const IntegratedGradientsOptions = t.readonly(
  t.partial({
    nSteps: PositiveInt,
    method: QuadratureRule,
    multiplyByInputs: t.boolean,
    returnConvergenceDelta: t.boolean,
  }),
)
export type IntegratedGradientsOptions = t.TypeOf<typeof IntegratedGradientsOptions>

export const integratedGradientsDefaults = { nSteps: 50, method: 'gausslegendre', multiplyByInputs: true, returnConvergenceDelta: false } as const

/** The IntegratedGradients pipeline for these options (Captum's defaults filled in). */
export const integratedGradients = (o: IntegratedGradientsOptions = {}): Pipeline => {
  const opts = { ...integratedGradientsDefaults, ...o }
  return pipeline(
    'IntegratedGradients',
    stage.interpolate({ nSteps: opts.nSteps, method: opts.method }),
    stage.grad(),
    stage.quadrature(),
    ...(opts.multiplyByInputs ? [stage.scaleByDelta()] : []),
    ...(opts.returnConvergenceDelta ? [stage.completenessDelta()] : []),
  )
}
