/**
 * LimeBase's plug-in points as call-time functions. A pipeline stays JSON: it names a plug-in
 * (`{ _tag: 'custom', name }`) and the call supplies the function under that name, the same way a
 * target function is supplied with the call rather than stored in the spec.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { err } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'

/** A reference to a call-time plug-in, by name. */
export const CustomRef = t.readonly(t.type({ _tag: t.literal('custom'), name: t.string }))
export type CustomRef = t.TypeOf<typeof CustomRef>

/** Draws one interpretable sample: a 0/1 vector over the M features (1 = taken from the input). */
export type SamplerFn = (index: number, nFeatures: number, uniforms: (n: number) => Float64Array) => ArrayLike<number>

/** What a similarity function sees of one sample for one example. */
export interface SimilarityInput {
  /** The example's inputs, each of shape [1, …]. */
  readonly original: readonly HostTensor[]
  /** The example's baselines, each of shape [1, …]. */
  readonly baseline: readonly HostTensor[]
  /** The interpretable sample (1 = feature kept). */
  readonly interpretable: Uint8Array
  /** The example index (or 0 for a batch-level fit). */
  readonly example: number
}
/** Weight of one sample in the surrogate fit (Captum's `similarity_func`). */
export type SimilarityFn = (s: SimilarityInput) => number

/**
 * Fits the interpretable model: `z` is n × M (row-major 0/1), `y` the n model outputs, `w` the n
 * sample weights; returns the M coefficients (the attributions).
 */
export type InterpretableModelFn = (z: Float64Array, y: Float64Array, w: Float64Array, n: number, nFeatures: number) => ArrayLike<number>

/**
 * What a metric's perturbation plug-in sees: M rows of perturbed copies (each input as a `[M, …]`
 * host tensor), for each row the example it copies and its sample index (the same row gets the same
 * indices whatever the chunking), the rows' baselines when the call has them, and the metric's
 * perturbation radius (`sensitivityMax`).
 */
export interface PerturbationRequest {
  readonly inputs: readonly HostTensor[]
  readonly baselines?: readonly HostTensor[]
  readonly examples: Int32Array
  readonly samples: Int32Array
  readonly radius?: number
}

/**
 * A metric's perturbation function (Captum's `perturb_func`), for the M rows it is given: the
 * perturbed inputs, and for `infidelity` the perturbation I of each row (Captum's
 * `(perturbation, perturbed_inputs)` pair; `sensitivityMax` ignores it). Each tensor is shaped like
 * the matching input rows.
 */
export type PerturbationFn = (r: PerturbationRequest) => { readonly perturbed: readonly HostTensor[]; readonly perturbation?: readonly HostTensor[] }

/**
 * What a custom attribution function sees (Captum's `custom_attribution_func(multipliers, inputs,
 * baselines)` of DeepLift and its variants): per attributed tensor (an input, or the layer), the
 * multipliers, the values at the rows and at their baselines, each `[rows, …]`.
 */
export interface AttributionRequest {
  readonly multipliers: readonly HostTensor[]
  readonly inputs: readonly HostTensor[]
  readonly baselines: readonly HostTensor[]
}

/** Combines multipliers, inputs and baselines into attributions, one tensor per multiplier tensor, each of its shape. */
export type AttributionFn = (r: AttributionRequest) => readonly HostTensor[]

/** The plug-ins a call provides, by name. */
export interface Plugins {
  /** DeepLift's custom attribution functions (`customAttributionFunc: { _tag: 'custom', name }`). */
  readonly attributions?: Readonly<Record<string, AttributionFn>>
  /** Metrics' perturbation functions (`{ _tag: 'custom', name }` in `infidelity` and `sensitivityMax`). */
  readonly perturbations?: Readonly<Record<string, PerturbationFn>>
  readonly samplers?: Readonly<Record<string, SamplerFn>>
  readonly similarities?: Readonly<Record<string, SimilarityFn>>
  readonly interpretableModels?: Readonly<Record<string, InterpretableModelFn>>
}

/** The named plug-in, or a typed error (thrown inside a stage, where the interpreter catches it). */
export const pluginOf = <K extends keyof Plugins>(plugins: Plugins | undefined, kind: K, name: string): NonNullable<NonNullable<Plugins[K]>[string]> => {
  const fn = plugins?.[kind]?.[name]
  if (fn === undefined) {
    throw err('BadPipeline', `the pipeline uses a custom ${kind.replace(/s$/, '')} ${JSON.stringify(name)} but the call provides none: pass it in options.plugins.${kind}`, ['plugins', kind, name])
  }
  return fn as NonNullable<NonNullable<Plugins[K]>[string]>
}

/** Checks a plug-in's numeric output: finite numbers, the expected length. */
export const checkedVector = (u: ArrayLike<number>, length: number, what: string, binary = false): Float64Array => {
  if (u.length !== length) throw err('BadPipeline', `${what} returned ${u.length} values, expected ${length}`, ['plugins'])
  const out = Float64Array.from(u)
  for (const v of out) {
    if (!Number.isFinite(v) || (binary && v !== 0 && v !== 1)) {
      throw err('BadPipeline', `${what} returned ${v}; expected ${binary ? '0 or 1' : 'finite numbers'}`, ['plugins'])
    }
  }
  return out
}
