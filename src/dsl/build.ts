/**
 * Typed constructors for stage specs, so hand-written pipelines read like the math:
 *
 * ```ts
 * pipeline('IntegratedGradients',
 *   stage.interpolate({ nSteps: 50, method: 'gausslegendre' }),
 *   stage.grad(), stage.quadrature(), stage.scaleByDelta())
 * ```
 *
 * @category dsl
 * @since 0.1.0
 */
import type { Pipeline, StageSpec } from './spec.js'
import type { NoiseParams } from './stages/noise.js'
import type { SampleStatistic } from './stages/sampleMean.js'
import type { GradParams } from './stages/grad.js'
import type { LayerEndpointsParams } from './stages/layerEndpoints.js'
import type { PathSchedule } from './stages/interpolate.js'
import type { QuadratureRule } from './quadratureRules.js'
import type { PerturbParams } from './stages/perturb.js'
import type { LinearFitParams } from './stages/linearFit.js'

type Of<Tag extends StageSpec['_tag']> = Extract<StageSpec, { _tag: Tag }>

export const stage = {
  /** Points x′ + s(α_k)(x − x′) on a new `path` axis (see `interpolate`). */
  interpolate: (p: { readonly nSteps: number; readonly method: QuadratureRule; readonly path?: PathSchedule }): Of<'interpolate'> =>
    ({ _tag: 'interpolate', ...p }) as Of<'interpolate'>,
  /** ∂(target)/∂(inputs or layer) at every row. */
  grad: (p: GradParams = {}): Of<'grad'> => ({ _tag: 'grad', ...p }),
  /** Σ_k w_k (…)_k over the `path` axis. */
  quadrature: (): Of<'quadrature'> => ({ _tag: 'quadrature' }),
  /** ⊙ (x − x′). */
  scaleByDelta: (): Of<'scaleByDelta'> => ({ _tag: 'scaleByDelta' }),
  /** ⊙ x (the point the gradient was taken at). */
  multiplyByInputs: (): Of<'multiplyByInputs'> => ({ _tag: 'multiplyByInputs' }),
  /** |·|. */
  abs: (): Of<'abs'> => ({ _tag: 'abs' }),
  /** Captum's convergence delta Σ attr − (F(x) − F(x′)). */
  completenessDelta: (): Of<'completenessDelta'> => ({ _tag: 'completenessDelta' }),
  /** Move to a layer's space: value a(x), baseline a(x′). */
  layerEndpoints: (p: LayerEndpointsParams): Of<'layerEndpoints'> => ({ _tag: 'layerEndpoints', ...p }),
  /** The value of an internal tensor at the inputs. */
  activation: (p: { readonly layer: string }): Of<'activation'> => ({ _tag: 'activation', ...p }),
  /** F(x) at the unperturbed inputs, kept in the flow for the perturbation reducers. */
  reference: (): Of<'reference'> => ({ _tag: 'reference' }),
  /** Perturbed copies x ⊙ (1 − A_k) + r ⊙ A_k on a new `perturbation` axis, one per design item. */
  perturb: (p: PerturbParams): Of<'perturb'> => ({ _tag: 'perturb', ...p }),
  /** F at every perturbed copy (target-selected, not summed). */
  forward: (): Of<'forward'> => ({ _tag: 'forward' }),
  /** F(x) − F(x̃) onto the removed elements (averaged over copies with `average`). */
  diff: (p: { readonly average: boolean }): Of<'diff'> => ({ _tag: 'diff', ...p }),
  /** Σ_S c_S v(S): Shapley combinations of coalition values. */
  marginals: (p: { readonly design: PerturbParams['design'] }): Of<'marginals'> => ({ _tag: 'marginals', ...p }),
  /** Weighted linear surrogate fitted to (z, F(x̃), w). */
  linearFit: (p: LinearFitParams): Of<'linearFit'> => ({ _tag: 'linearFit', ...p }),
  /** `nSamples` noisy copies x + N(0, σ²) on a new `sample` axis (baselines kept, or drawn from the distribution). */
  noise: (p: NoiseParams): Of<'noise'> => ({ _tag: 'noise', ...p }),
  /** E[a], E[a²] or Var[a] over the `sample` axis (deltas carried, in Captum's order). */
  sampleMean: (p: { readonly type: SampleStatistic; readonly batchSize?: number }): Of<'sampleMean'> => ({ _tag: 'sampleMean', ...p }),
  /** Runs a whole method on the current rows as its examples (the higher-order stage). */
  apply: (inner: Pipeline): Of<'apply'> => ({ _tag: 'apply', pipeline: inner }),
  /** x′ + α(x − x′), α ~ U(0, 1) per row, on a one-entry `path` axis. */
  randomPoint: (): Of<'randomPoint'> => ({ _tag: 'randomPoint' }),
  /** ⊙ (a(x) − a(x′)) for values in the space of layer a. */
  scaleByLayerDelta: (p: { readonly layer: string }): Of<'scaleByLayerDelta'> => ({ _tag: 'scaleByLayerDelta', ...p }),
} as const
