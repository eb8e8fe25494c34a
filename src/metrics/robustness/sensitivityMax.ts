/**
 * Max-sensitivity (Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, arXiv:1901.09392): the largest
 * relative change of an explanation when the input moves within a small ball,
 *
 *   SENS_MAX(e, x) = max_{‖δ‖∞ ≤ r} ‖e(x + δ) − e(x)‖ / ‖e(x)‖,
 *
 * estimated with `nPerturbSamples` random points per example; lower is better (more robust).
 *
 * Pipeline: `explain(method) ∘ sensitivityPerturb[+sample] ∘ apply(method) ∘
 * sensitivityScore[−sample]`: the higher-order stages run the explained method at x and at
 * every perturbed point, so any method (gradient, perturbation, a NoiseTunnel) can be measured.
 *
 * Captum: `captum.metrics.sensitivity_max(explanation_func, inputs, perturb_func=
 * default_perturb_func, perturb_radius=0.02, n_perturb_samples=10, norm_ord='fro',
 * max_examples_per_batch=None, **kwargs)`. The default perturbation is Captum's (uniform in
 * [−r, r] per element); a custom one is a plug-in (`{ _tag: 'custom', name }`, passed in
 * `options.plugins.perturbations`). Target, baselines and extra forward arguments are the call's,
 * expanded per sample as Captum expands `kwargs`.
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveInt } from '../../core/codecs.js'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline, type StageSpec } from '../../dsl/spec.js'
import { SensitivityPerturbation } from '../../dsl/stages/sensitivityPerturb.js'
import { NormOrd } from '../../dsl/stages/sensitivityScore.js'

export const SensitivityMaxOptions = t.readonly(
  t.partial({ perturbRadius: NonNegativeNumber, nPerturbSamples: PositiveInt, normOrd: NormOrd, perturbation: SensitivityPerturbation, maxExamplesPerBatch: PositiveInt }),
  'SensitivityMaxOptions',
)
export type SensitivityMaxOptions = t.TypeOf<typeof SensitivityMaxOptions>

/** Captum's defaults. */
export const sensitivityMaxDefaults = { perturbRadius: 0.02, nPerturbSamples: 10, normOrd: 'fro', perturbation: 'uniform' } as const

/**
 * explain(method) ∘ sensitivityPerturb ∘ apply(method) ∘ `score`: the method re-run at perturbed
 * inputs, scored against its explanation at x (shared by sensitivityMax and the Quantus-style
 * sensitivity metrics).
 */
export const sensitivityPipeline = (
  name: string,
  method: Pipeline,
  opts: { readonly nPerturbSamples: number; readonly perturbRadius: number; readonly perturbation: SensitivityPerturbation; readonly maxExamplesPerBatch?: number },
  score: StageSpec,
): Pipeline =>
  pipeline(
    name,
    stage.explain({ pipeline: method }),
    stage.sensitivityPerturb({
      nSamples: opts.nPerturbSamples,
      radius: opts.perturbRadius,
      perturbation: opts.perturbation,
      ...(opts.maxExamplesPerBatch !== undefined ? { maxExamplesPerBatch: opts.maxExamplesPerBatch } : {}),
    }),
    stage.apply(method),
    score,
  )

/** The sensitivityMax pipeline of `method`, with Captum's defaults filled in. */
export const sensitivityMax = (method: Pipeline, o: SensitivityMaxOptions = {}): Pipeline => {
  const opts = { ...sensitivityMaxDefaults, ...o }
  return sensitivityPipeline(`sensitivityMax(${method.name})`, method, opts, stage.sensitivityScore({ norm: opts.normOrd }))
}
