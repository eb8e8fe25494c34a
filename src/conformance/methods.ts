/**
 * Maps a reference case (Captum's class name, constructor and `attribute` keyword arguments) to a
 * clarus pipeline and call options. Cases whose algorithm this version does not ship, or whose
 * arguments it does not understand, map to `unsupported` with the reason.
 *
 * @category conformance
 * @since 0.1.0
 */
import { METHODS } from '../algorithms/registry.js'
import { isHostTensor } from '../core/codecs.js'
import type { Target } from '../core/target.js'
import type { HostTensor } from '../core/tensor.js'
import { pipeline, type Pipeline } from '../dsl/spec.js'
import { stage } from '../dsl/build.js'
import { integratedGradients } from '../algorithms/integratedGradients.js'
import type { ReferenceCase } from './load.js'
import type { Plugins } from '../dsl/perturbation/plugins.js'
import { metricCallForCase } from './metricCases.js'

/** Call options built from data only, so they suit a model on any backend. */
export interface DataCallOptions {
  readonly target: Target
  readonly baselines?: number | HostTensor | readonly (number | HostTensor)[]
  readonly internalBatchSize?: number
  readonly featureMask?: HostTensor | readonly HostTensor[]
  readonly perturbationsPerEval?: number
  readonly seed?: number
  /** Layer perturbation methods: Captum's `layer_mask` and `layer_baselines`. */
  readonly layerMask?: HostTensor
  readonly layerBaselines?: number | HostTensor
  /** Metrics over given explanations: the precomputed attributions. */
  readonly attributions?: readonly HostTensor[]
  /** Metrics: the fixture's fixed perturbations, as a perturbation plug-in. */
  readonly plugins?: Plugins
}

/** Which tolerance of the case a run is held to: the exact one, or `sampling_tolerance` (a sampled run of a 'limit' case). */
export type ToleranceKind = 'case' | 'sampling'

export type CaseCall =
  | {
      readonly kind: 'call'
      readonly pipeline: Pipeline
      readonly options: DataCallOptions
      readonly layer?: string
      /** Tolerance for `pipeline` (default: the case's). */
      readonly tolerance?: ToleranceKind
      /** A second run of a 'limit' case: the sampled method with the case's settings, held to `sampling_tolerance`. */
      readonly sampled?: Pipeline
    }
  | { readonly kind: 'unsupported'; readonly reason: string }

const CAPTUM_TO_CLARUS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(METHODS).map(([name, m]) => [m.captumName, name]),
)

/** Captum argument names this runner understands, per keyword. */
const KNOWN_ARGS = new Set([
  'baselines', 'target', 'n_steps', 'method', 'internal_batch_size', 'return_convergence_delta', 'abs', 'additional_forward_args',
  'feature_mask', 'perturbations_per_eval', 'sliding_window_shapes', 'strides', 'n_samples',
  'stdevs', 'nt_type', 'nt_samples', 'nt_samples_batch_size', 'draw_baseline_from_distrib', 'neuron_selector',
  'relu_attributions', 'attr_dim_summation',
  'interpolate_mode',
  // as attribute_to_layer_input below: layer.attributed_tensor names the tensor the neuron is picked in
  'attribute_to_neuron_input',
  'layer_mask', 'layer_baselines',
  // the case's layer.attributed_tensor already names the layer's input tensor when this is true
  'attribute_to_layer_input',
])
const KNOWN_CTOR = new Set(['multiply_by_inputs', 'layer', 'attribution_method'])

const targetOf = (u: unknown): Target | string => {
  if (u === null || u === undefined) return null
  if (typeof u === 'number' && Number.isInteger(u)) return u
  if (Array.isArray(u) && u.every((v) => typeof v === 'number')) return u as number[]
  if (Array.isArray(u) && u.every((v) => Array.isArray(v) && v.every((w) => typeof w === 'number'))) return u as number[][]
  return `target ${JSON.stringify(u)} is not understood`
}

const baselinesOf = (u: unknown): DataCallOptions['baselines'] | string => {
  if (u === null || u === undefined) return undefined
  if (typeof u === 'number') return u
  if (isHostTensor(u)) return u
  if (Array.isArray(u) && u.every((v) => typeof v === 'number' || isHostTensor(v))) return u as (number | HostTensor)[]
  return 'baselines of this form are not understood'
}

/** The clarus call for a case, or why it is unsupported. */
export const callForCase = (c: ReferenceCase): CaseCall => {
  const metric = metricCallForCase(c)
  if (metric !== undefined) return metric
  const name = CAPTUM_TO_CLARUS[c.algorithm]
  if (name === undefined) return { kind: 'unsupported', reason: `${c.algorithm} is not implemented in this version` }
  const method = METHODS[name]!
  // NoiseTunnel wraps another method, named by the constructor's attribution_method
  const wrappedName = typeof c.constructorArgs['attribution_method'] === 'string' ? CAPTUM_TO_CLARUS[c.constructorArgs['attribution_method']] : undefined
  if (c.constructorArgs['attribution_method'] !== undefined && wrappedName === undefined) {
    return { kind: 'unsupported', reason: `NoiseTunnel around ${JSON.stringify(c.constructorArgs['attribution_method'])} is not supported` }
  }
  const unknownArg = Object.keys(c.args).find((k) => !KNOWN_ARGS.has(k))
  if (unknownArg !== undefined) return { kind: 'unsupported', reason: `argument ${unknownArg} is not supported` }
  const unknownCtor = Object.keys(c.constructorArgs).find((k) => !KNOWN_CTOR.has(k))
  if (unknownCtor !== undefined) return { kind: 'unsupported', reason: `constructor argument ${unknownCtor} is not supported` }
  const target = targetOf(c.args['target'])
  if (typeof target === 'string') return { kind: 'unsupported', reason: target }
  const baselines = baselinesOf(c.args['baselines'])
  if (typeof baselines === 'string') return { kind: 'unsupported', reason: baselines }
  const layer = c.layer?.attributed_tensor ?? (typeof c.constructorArgs['layer'] === 'string' ? (c.constructorArgs['layer'] as string) : undefined)
  if (method.family !== 'primary' && layer === undefined) return { kind: 'unsupported', reason: 'layer case without a layer tensor' }
  if ((c.args['attribute_to_layer_input'] === true || c.args['attribute_to_neuron_input'] === true) && c.layer?.attributed_tensor === undefined) {
    return { kind: 'unsupported', reason: 'attribution to the layer input without the input tensor named (layer.attributed_tensor)' }
  }
  const mask = c.args['feature_mask']
  const featureMask = mask === null || mask === undefined ? undefined : isHostTensor(mask) ? mask : Array.isArray(mask) && mask.every(isHostTensor) ? (mask as HostTensor[]) : null
  if (featureMask === null) return { kind: 'unsupported', reason: 'feature_mask of this form is not understood' }
  const layerMask = c.args['layer_mask'] ?? undefined
  if (layerMask !== undefined && !isHostTensor(layerMask)) return { kind: 'unsupported', reason: 'layer_mask of this form is not understood' }
  const layerBaselines = c.args['layer_baselines'] ?? undefined
  if (layerBaselines !== undefined && typeof layerBaselines !== 'number' && !isHostTensor(layerBaselines)) return { kind: 'unsupported', reason: 'layer_baselines of this form are not understood' }
  const ppe = c.args['perturbations_per_eval']
  const nSamples = typeof c.args['n_samples'] === 'number' ? c.args['n_samples'] : undefined
  const windows = c.args['sliding_window_shapes']
  const strides = c.args['strides']
  const build = (extra: Readonly<Record<string, unknown>>): Pipeline => method.build({
    ...(layer !== undefined ? { layer } : {}),
    ...(typeof c.args['n_steps'] === 'number' ? { nSteps: c.args['n_steps'] } : {}),
    ...(typeof c.args['method'] === 'string' ? { method: c.args['method'] } : {}),
    ...(typeof c.args['abs'] === 'boolean' ? { abs: c.args['abs'] } : {}),
    ...(typeof c.constructorArgs['multiply_by_inputs'] === 'boolean' ? { multiplyByInputs: c.constructorArgs['multiply_by_inputs'] } : {}),
    returnConvergenceDelta: c.args['return_convergence_delta'] === true,
    ...(windows !== undefined ? { slidingWindowShapes: typeof windows === 'number' ? [windows] : windows } : {}),
    ...(strides !== undefined && strides !== null ? { strides } : {}),
    ...(nSamples !== undefined ? { nSamples } : {}),
    ...(typeof c.args['stdevs'] === 'number' || Array.isArray(c.args['stdevs']) ? { stdevs: c.args['stdevs'] } : {}),
    ...(wrappedName !== undefined ? { wrapped: wrappedName } : {}),
    ...(c.args['neuron_selector'] !== undefined ? { neuronSelector: c.args['neuron_selector'] } : {}),
    ...(typeof c.args['relu_attributions'] === 'boolean' ? { reluAttributions: c.args['relu_attributions'] } : {}),
    ...(typeof c.args['attr_dim_summation'] === 'boolean' ? { attrDimSummation: c.args['attr_dim_summation'] } : {}),
    ...(typeof c.args['interpolate_mode'] === 'string' ? { interpolateMode: c.args['interpolate_mode'] } : {}),
    ...(typeof c.args['nt_type'] === 'string' ? { ntType: c.args['nt_type'] } : {}),
    ...(typeof c.args['nt_samples'] === 'number' ? { ntSamples: c.args['nt_samples'] } : {}),
    ...(typeof c.args['nt_samples_batch_size'] === 'number' ? { ntSamplesBatchSize: c.args['nt_samples_batch_size'] } : {}),
    ...(typeof c.args['draw_baseline_from_distrib'] === 'boolean' ? { drawBaselineFromDistrib: c.args['draw_baseline_from_distrib'] } : {}),
    ...extra,
  })
  // 'limit' cases: the exact limit where clarus can compute it (Lime: every coalition once, as the
  // case's enumerating perturb_func; KernelShap: all coalitions with Shapley-kernel weights), and
  // the sampled method with the case's settings, held to sampling_tolerance.
  const limit = c.kind === 'limit'
  const exactLimit = limit && c.algorithm === 'Lime' ? build({ sampler: 'enumerate' })
    : limit && c.algorithm === 'KernelShap' ? build({ exact: true })
      : limit && c.algorithm === 'GradientShap' && c.args['stdevs'] === 0 && isHostTensor(c.args['baselines']) ? gradientShapLimit(c.args['baselines'].shape[0] ?? 1)
        : undefined
  const pipeline = exactLimit ?? build({})
  const ibs = c.args['internal_batch_size']
  return {
    kind: 'call',
    pipeline,
    ...(layer !== undefined ? { layer } : {}),
    ...(limit && exactLimit === undefined ? { tolerance: 'sampling' as const } : {}),
    ...(limit && exactLimit !== undefined && c.algorithm !== 'Lime' ? { sampled: build({}) } : {}),
    options: {
      target,
      ...(baselines !== undefined ? { baselines } : {}),
      ...(typeof ibs === 'number' ? { internalBatchSize: ibs } : {}),
      ...(featureMask !== undefined ? { featureMask } : {}),
      ...(typeof ppe === 'number' ? { perturbationsPerEval: ppe } : {}),
      ...(layerMask !== undefined ? { layerMask } : {}),
      ...(layerBaselines !== undefined ? { layerBaselines } : {}),
      ...(limit || c.kind === 'monte_carlo' ? { seed: 0 } : {}),
    },
  }
}

/**
 * GradientShap's limit with stdevs = 0: the mean over the B baseline rows of exact Integrated
 * Gradients (riemann_middle with 4096 steps, as the fixtures compute it) — noise with σ = 0 that
 * cycles through the distribution's rows instead of drawing them.
 */
const gradientShapLimit = (rows: number): Pipeline =>
  pipeline('GradientShap (limit)',
    stage.noise({ nSamples: rows, stdevs: 0, baselines: 'cycle' }),
    stage.apply(integratedGradients({ nSteps: 4096, method: 'riemann_middle' })),
    stage.sampleMean({ type: 'smoothgrad' }))
