/**
 * Infidelity (Yeh, Hsieh, Suggala, Inouye & Ravikumar 2019, "On the (In)fidelity and Sensitivity
 * of Explanations", arXiv:1901.09392): how well the attributions a predict the change of the
 * model's output under perturbations I of the input,
 *
 *   INFD(a, F, x) = E_I[ (Σ I ⊙ a − (F(x) − F(x − I)))² ],
 *
 * estimated with `nPerturbSamples` draws per example; lower is better. With `normalize` the
 * attributions are first rescaled by the β that minimises the estimate (Captum's `normalize=True`).
 *
 * Pipeline: `reference ∘ (explain(method) | givenAttributions) ∘ infidelityPerturb[+sample] ∘
 * forward ∘ infidelityScore[−sample]`. Chunked over the samples under the memory budget, seeded,
 * with progress and cancellation like every method.
 *
 * Captum: `captum.metrics.infidelity(forward_func, perturb_func, inputs, attributions, baselines,
 * additional_forward_args, target, n_perturb_samples=10, max_examples_per_batch=None,
 * normalize=False)`. Captum's `perturb_func` is a plug-in here (`{ _tag: 'custom', name }`, the
 * function passed in `options.plugins.perturbations`), or one of the built-ins: Gaussian `noise`
 * (x̃ = x − I) and `baseline` (elements replaced by the baselines; I as Captum's
 * `infidelity_perturb_func_decorator` derives it). The explanation is either the call's
 * `attributions` or a method run by the metric itself.
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { stage } from '../../dsl/build.js'
import { pipeline, type Pipeline } from '../../dsl/spec.js'
import { InfidelityPerturbation } from '../../dsl/stages/infidelityPerturb.js'

export const InfidelityOptions = t.readonly(
  t.intersection([
    t.type({ perturbation: InfidelityPerturbation }),
    t.partial({ nPerturbSamples: PositiveInt, normalize: t.boolean, maxExamplesPerBatch: PositiveInt }),
  ]),
  'InfidelityOptions',
)
export type InfidelityOptions = t.TypeOf<typeof InfidelityOptions>

/** Captum's defaults. */
export const infidelityDefaults = { nPerturbSamples: 10, normalize: false } as const

/** What a metric explains: the call's precomputed `attributions`, or a method it runs itself. */
export type Explained = Pipeline | 'given'

/** The stage that produces the explanation (and keeps the explained points). */
export const explanationStage = (explained: Explained) => (explained === 'given' ? stage.givenAttributions() : stage.explain({ pipeline: explained }))

/** The infidelity pipeline of `explained`, with Captum's defaults filled in. */
export const infidelity = (explained: Explained, o: InfidelityOptions): Pipeline => {
  const opts = { ...infidelityDefaults, ...o }
  return pipeline(
    `infidelity(${explained === 'given' ? 'given attributions' : explained.name})`,
    stage.reference(),
    explanationStage(explained),
    stage.infidelityPerturb({
      nSamples: opts.nPerturbSamples,
      perturbation: opts.perturbation,
      ...(opts.maxExamplesPerBatch !== undefined ? { maxExamplesPerBatch: opts.maxExamplesPerBatch } : {}),
    }),
    stage.forward(),
    stage.infidelityScore({ normalize: opts.normalize }),
  )
}
