/**
 * Kernel SHAP (Lundberg & Lee 2017, arXiv:1705.07874): LIME with the Shapley kernel, whose
 * weighted least-squares solution is the Shapley values of v(S) = F(x on S, x′ elsewhere). The
 * coalition sizes are drawn with P(s) ∝ (M − 1)/(s(M − s)) so every sampled coalition has weight 1;
 * the full and empty coalitions come first with weight 10⁶ (Captum's stand-in for ∞).
 *
 * Pipeline: `reference ∘ perturb(kernelShap coalitions) ∘ forward ∘ linearFit(linearRegression)`.
 *
 * Captum: `KernelShap(forward_func).attribute(inputs, baselines, target, additional_forward_args,
 * feature_mask, n_samples=25, perturbations_per_eval=1, return_input_shape=True)`. `exact: true`
 * (not in Captum) enumerates all 2^M coalitions with the Shapley kernel weights instead of
 * sampling, which gives the exact Shapley values (up to the 10⁶ end-point weights).
 *
 * Baselines, two semantics side by side (captum#1789):
 * - default (Captum): one baseline per example; a coalition's value is F(x on S, x′ elsewhere).
 * - `baselineDistribution: true` (SHAP's KernelExplainer): the baselines are B reference rows
 *   (a background sample, shape [B, …one example]); a coalition's value is the mean over the rows,
 *   v(S) = (1/B) Σ_b F(x on S, x′_b elsewhere), so the attributions explain F(x) − E_b F(x′_b).
 *   Each coalition costs B model rows; the rows are packed into calls under the memory budget.
 *
 * @category algorithms
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { stage } from '../dsl/build.js'
import { MIN_KERNEL_SHAP_SAMPLES } from '../dsl/perturbation/designs.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'

/**
 * `nSamples` of KernelShap: an integer ≥ 2. The first two samples are the full and the empty
 * coalition, and with the full one alone the regression has nothing to fit (all zeros, which
 * Captum returns without a word); two give F(x) − F(x′) split evenly over the features.
 */
export const KernelShapSamples = new t.Type<number, number, unknown>(
  'KernelShapSamples',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= MIN_KERNEL_SHAP_SAMPLES,
  (u, c) =>
    typeof u === 'number' && Number.isInteger(u) && u >= MIN_KERNEL_SHAP_SAMPLES
      ? t.success(u)
      : t.failure(u, c, `KernelShap needs nSamples to be an integer ≥ ${MIN_KERNEL_SHAP_SAMPLES} (the full and the empty coalition come first; with fewer the fit is identically zero), got ${JSON.stringify(u)}`),
  t.identity,
)

export const KernelShapOptions = t.readonly(t.partial({ nSamples: KernelShapSamples, returnInputShape: t.boolean, exact: t.boolean, baselineDistribution: t.boolean }))
export type KernelShapOptions = t.TypeOf<typeof KernelShapOptions>

/** The KernelShap pipeline (`nSamples` default 25, as in Captum; at least 2). */
export const kernelShap = (o: KernelShapOptions = {}): Pipeline =>
  pipeline(
    'KernelShap',
    stage.reference(),
    stage.perturb({
      features: { _tag: 'masks' },
      design: o.exact
        ? { _tag: 'coalitions', sampler: 'enumerate', nSamples: 2 ** 20, similarity: { _tag: 'shapleyKernel' }, ...(o.baselineDistribution ? { background: true } : {}) }
        : { _tag: 'coalitions', sampler: 'kernelShap', nSamples: o.nSamples ?? 25, similarity: { _tag: 'kernelShap' }, ...(o.baselineDistribution ? { background: true } : {}) },
    }),
    stage.forward(),
    stage.linearFit({ model: { _tag: 'linearRegression' }, returnInputShape: o.returnInputShape ?? true }),
  )
