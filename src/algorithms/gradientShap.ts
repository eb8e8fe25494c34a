/**
 * GradientShap (Lundberg & Lee 2017) — the expected-gradients estimator (Erion et al. 2021): with
 * baselines b drawn from a distribution, noisy inputs x̃ = x + ε and α ~ U(0, 1),
 *
 *   GradientShap(x) = E_{b, ε, α}[(x̃ − b) ⊙ ∂F/∂x (b + α(x̃ − b))],
 *
 * which with σ = 0 converges to the mean over the baseline rows of Integrated Gradients.
 *
 * Pipelines: InputBaselineXGradient = `randomPoint ∘ grad ∘ quadrature ∘ scaleByDelta`
 * (∘ `completenessDelta`); GradientShap = `noise(draw) ∘ apply(InputBaselineXGradient) ∘ sampleMean`,
 * exactly Captum's composition (NoiseTunnel over InputBaselineXGradient, baselines drawn per sample).
 *
 * Captum: `GradientShap(forward_func, multiply_by_inputs=True).attribute(inputs, baselines,
 * n_samples=5, stdevs=0.0, target, additional_forward_args, return_convergence_delta)` and
 * `InputBaselineXGradient(forward_func, multiply_by_inputs=True).attribute(inputs, baselines, target,
 * additional_forward_args, return_convergence_delta)`. `baselines` of GradientShap is the
 * distribution ([B, …one example] per input); deltas are N·nSamples values, example-major. Unlike
 * Captum (captum#1350), the samples are chunked under the memory budget like every expansion.
 * Random draws come from clarus's seeded generator (same distribution, not the same draws).
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { PositiveInt, Stdevs } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'


export const InputBaselineXGradientOptions = t.readonly(t.partial({ multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean }))
export type InputBaselineXGradientOptions = t.TypeOf<typeof InputBaselineXGradientOptions>

export const GradientShapOptions = t.readonly(
  t.partial({ nSamples: PositiveInt, stdevs: Stdevs, multiplyByInputs: t.boolean, returnConvergenceDelta: t.boolean }),
)
export type GradientShapOptions = t.TypeOf<typeof GradientShapOptions>

export const gradientShapDefaults = { nSamples: 5, stdevs: 0, multiplyByInputs: true, returnConvergenceDelta: false } as const

/** The gradient at one random point of the path from each baseline to its input, times (x − x′). */
export const inputBaselineXGradient = (o: InputBaselineXGradientOptions = {}): Pipeline =>
  pipeline(
    'InputBaselineXGradient',
    stage.randomPoint(),
    stage.grad(),
    stage.quadrature(),
    ...((o.multiplyByInputs ?? true) ? [stage.scaleByDelta()] : []),
    ...(o.returnConvergenceDelta === true ? [stage.completenessDelta()] : []),
  )

/** The GradientShap pipeline (Captum's defaults filled in). */
export const gradientShap = (o: GradientShapOptions = {}): Pipeline => {
  const opts = { ...gradientShapDefaults, ...o }
  return pipeline(
    'GradientShap',
    stage.noise({ nSamples: opts.nSamples, stdevs: opts.stdevs, baselines: 'draw' }),
    stage.apply(inputBaselineXGradient({ multiplyByInputs: opts.multiplyByInputs, returnConvergenceDelta: opts.returnConvergenceDelta })),
    stage.sampleMean({ type: 'smoothgrad' }),
  )
}
