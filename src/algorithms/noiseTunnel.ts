/**
 * NoiseTunnel (SmoothGrad, Smilkov et al. 2017, arXiv:1706.03825; SmoothGrad², VarGrad, Adebayo
 * et al. 2018): any attribution method averaged over noisy copies of the inputs,
 *
 *   smoothgrad = E_ε[A(x + ε)],  smoothgrad_sq = E_ε[A(x + ε)²],  vargrad = Var_ε[A(x + ε)],  ε ~ N(0, σ²).
 *
 * Pipeline: `noise ∘ apply(method) ∘ sampleMean` — the wrapped method is a value, so NoiseTunnel
 * wraps every method: gradient methods, layer methods, and perturbation methods (FeatureAblation,
 * Occlusion, KernelShap, …), which Captum documents for gradient methods only.
 *
 * Captum: `NoiseTunnel(method).attribute(inputs, nt_type='smoothgrad', nt_samples=5,
 * nt_samples_batch_size=None, stdevs=1.0, draw_baseline_from_distrib=False, **kwargs)`. Same
 * statistics, baselines repeated per copy (or drawn from the distribution), and the wrapped
 * method's deltas in Captum's order. The noise comes from clarus's seeded generator: results match
 * Captum in distribution, not draw for draw. Chunking is automatic; `nSamplesBatchSize` caps the
 * copies per model call as in Captum.
 *
 * @category algorithms
 * @since 0.2.0
 */
import * as t from 'io-ts'
import { PositiveInt, Stdevs } from '../core/codecs.js'
import { stage } from '../dsl/build.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { SampleStatistic } from '../dsl/stages/sampleMean.js'

export const NoiseTunnelOptions = t.readonly(
  t.partial({
    ntType: SampleStatistic,
    nSamples: PositiveInt,
    nSamplesBatchSize: PositiveInt,
    stdevs: Stdevs,
    drawBaselineFromDistrib: t.boolean,
  }),
)
export type NoiseTunnelOptions = t.TypeOf<typeof NoiseTunnelOptions>

/**
 * NoiseTunnel's options as `METHODS.noiseTunnel` takes them: the wrapped method by its METHODS key
 * (`wrapped`) and Captum's `attribute` names (`nt_type` → `ntType`, `nt_samples` → `ntSamples`,
 * `nt_samples_batch_size` → `ntSamplesBatchSize`). The other entries go to the wrapped method.
 */
export const NoiseTunnelMethodOptions = t.readonly(
  t.intersection([
    t.type({ wrapped: t.string }),
    t.partial({ ntType: SampleStatistic, ntSamples: PositiveInt, ntSamplesBatchSize: PositiveInt, stdevs: Stdevs, drawBaselineFromDistrib: t.boolean }),
  ]),
)
export type NoiseTunnelMethodOptions = t.TypeOf<typeof NoiseTunnelMethodOptions>

export const noiseTunnelDefaults = { ntType: 'smoothgrad', nSamples: 5, stdevs: 1, drawBaselineFromDistrib: false } as const

/** NoiseTunnel around `method` (any pipeline), with Captum's defaults filled in. */
export const noiseTunnel = (method: Pipeline, o: NoiseTunnelOptions = {}): Pipeline => {
  const opts = { ...noiseTunnelDefaults, ...o }
  return pipeline(
    `NoiseTunnel(${method.name})`,
    stage.noise({
      nSamples: opts.nSamples,
      stdevs: opts.stdevs,
      baselines: opts.drawBaselineFromDistrib ? 'draw' : 'keep',
      ...(opts.nSamplesBatchSize !== undefined ? { batchSize: opts.nSamplesBatchSize } : {}),
    }),
    stage.apply(method),
    stage.sampleMean({ type: opts.ntType, ...(opts.nSamplesBatchSize !== undefined ? { batchSize: opts.nSamplesBatchSize } : {}) }),
  )
}
