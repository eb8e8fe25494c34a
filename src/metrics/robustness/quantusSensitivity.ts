/**
 * Quantus's robustness metrics over random perturbations of the input, on sensitivityMax's
 * machinery (`explain(method) ∘ sensitivityPerturb[+sample] ∘ apply(method) ∘ reducer[−sample]`:
 * the method is re-run at every perturbed point, so any method can be measured). Lower is better
 * (a more robust explanation) for all three.
 *
 * - **maxSensitivity** (Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, arXiv:1901.09392; Quantus's
 *   `MaxSensitivity`): max_s ‖e(x) − e(x̃_s)‖ / ‖e(x)‖, x̃ = x + U(−r, r) element-wise: Captum's
 *   sensitivity_max with Quantus's defaults (`lower_bound = 0.2` as `perturbRadius`,
 *   `nr_samples = 200` as `nPerturbSamples`).
 * - **avgSensitivity** (Yeh et al. 2019; Quantus's `AvgSensitivity`): the same ratio averaged over
 *   the samples.
 * - **localLipschitzEstimate** (Alvarez-Melis & Jaakkola 2018, "On the Robustness of
 *   Interpretability Methods", arXiv:1806.08049; Quantus's `LocalLipschitzEstimate`):
 *   max_s ‖e(x) − e(x̃_s)‖ / ‖x − x̃_s‖. Quantus perturbs with Gaussian noise (σ = 0.1) by default;
 *   here the perturbation is uniform in [−r, r] (r = 0.1 by default), or any plug-in
 *   (`{ _tag: 'custom', name }`), which can draw Gaussian noise.
 *
 * ‖·‖ is `normOrd` (`fro` by default, `inf`, or p ≥ 1) over every input's values flattened together.
 * Seeded, chunked over the samples under the memory budget (`maxExamplesPerBatch` as Captum's).
 *
 * Captum: only sensitivity_max (see `sensitivityMax`).
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveInt } from '../../core/codecs.js'
import { stage } from '../../dsl/build.js'
import type { Pipeline } from '../../dsl/spec.js'
import { SensitivityPerturbation } from '../../dsl/stages/sensitivityPerturb.js'
import { NormOrd } from '../../dsl/stages/sensitivityScore.js'
import { sensitivityPipeline } from './sensitivityMax.js'

export const QuantusSensitivityOptions = t.readonly(
  t.partial({ perturbRadius: NonNegativeNumber, nPerturbSamples: PositiveInt, normOrd: NormOrd, perturbation: SensitivityPerturbation, maxExamplesPerBatch: PositiveInt }),
  'QuantusSensitivityOptions',
)
export type QuantusSensitivityOptions = t.TypeOf<typeof QuantusSensitivityOptions>

/** Quantus's defaults for max- and avg-sensitivity. */
export const quantusSensitivityDefaults = { perturbRadius: 0.2, nPerturbSamples: 200, normOrd: 'fro', perturbation: 'uniform' } as const
/** Defaults for the local Lipschitz estimate (Quantus's σ = 0.1 as the radius, 200 samples). */
export const localLipschitzDefaults = { perturbRadius: 0.1, nPerturbSamples: 200, normOrd: 'fro', perturbation: 'uniform' } as const

type Kind = 'maxSensitivity' | 'avgSensitivity' | 'localLipschitzEstimate'

const build = (kind: Kind) => (method: Pipeline, o: QuantusSensitivityOptions = {}): Pipeline => {
  const opts = { ...(kind === 'localLipschitzEstimate' ? localLipschitzDefaults : quantusSensitivityDefaults), ...o }
  return sensitivityPipeline(
    `${kind}(${method.name})`,
    method,
    opts,
    kind === 'maxSensitivity'
      ? stage.sensitivityScore({ norm: opts.normOrd })
      : stage.sensitivityStat({ norm: opts.normOrd, stat: kind === 'avgSensitivity' ? 'mean' : 'lipschitz' }),
  )
}

/** Max-sensitivity with Quantus's defaults. */
export const maxSensitivity = build('maxSensitivity')
/** Avg-sensitivity with Quantus's defaults. */
export const avgSensitivity = build('avgSensitivity')
/** The local Lipschitz estimate. */
export const localLipschitzEstimate = build('localLipschitzEstimate')
