/**
 * Designs: which perturbed copies a perturbation method evaluates, and what the reducer needs to
 * know about each. Every copy is an {@link Item}: the features that keep the input's value (the
 * others take the baseline, or another example's value for FeaturePermutation), plus the
 * coefficients (Shapley) or similarity weights (Lime, KernelShap) that go with it. Items depend
 * only on the design, the feature count, the seed and the item's index (`foldIn(key, k)`), so the
 * same call gives the same items however the interpreter chunks them.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as t from 'io-ts'
import { PositiveInt, PositiveNumber } from '../../core/codecs.js'
import { foldIn, permutation, uniforms, type Key } from '../../core/random.js'
import { checkedVector, CustomRef, pluginOf, type Plugins } from './plugins.js'

export const Sampler = t.union([t.literal('bernoulli'), t.literal('enumerate'), t.literal('kernelShap'), CustomRef])
export type Sampler = t.TypeOf<typeof Sampler>

export const Similarity = t.union([
  t.readonly(t.type({ _tag: t.literal('expKernel'), distance: t.union([t.literal('cosine'), t.literal('euclidean')]), kernelWidth: PositiveNumber })),
  t.readonly(t.type({ _tag: t.literal('kernelShap') })),
  t.readonly(t.type({ _tag: t.literal('shapleyKernel') })),
  CustomRef,
])
export type Similarity = t.TypeOf<typeof Similarity>

const CoalitionsShape = t.readonly(
  t.intersection([
    t.type({ _tag: t.literal('coalitions'), sampler: Sampler, nSamples: PositiveInt, similarity: Similarity }),
    // true: the baselines are a distribution of B reference rows and a coalition's value is the
    // mean of F over them (SHAP's KernelExplainer semantics); each coalition becomes B copies.
    t.partial({ background: t.boolean }),
  ]),
)
type CoalitionsShape = t.TypeOf<typeof CoalitionsShape>

/**
 * The fewest samples the `kernelShap` sampler accepts. Its first two coalitions are always the
 * full and the empty one; with the full coalition alone every column of the centred design is
 * zero, so the least-squares fit is all zeros whatever the model does (Captum returns those zeros
 * silently). Two samples are the first that define a fit: F(x) − F(x′) split over the features.
 */
export const MIN_KERNEL_SHAP_SAMPLES = 2

const kernelShapTooFew = (d: CoalitionsShape): boolean => d.sampler === 'kernelShap' && d.nSamples < MIN_KERNEL_SHAP_SAMPLES

/** The `coalitions` design: {@link CoalitionsShape}, refusing too few `kernelShap` samples. */
const Coalitions = new t.Type<CoalitionsShape, CoalitionsShape, unknown>(
  'Coalitions',
  (u): u is CoalitionsShape => CoalitionsShape.is(u) && !kernelShapTooFew(u),
  (u, c) => {
    const r = CoalitionsShape.validate(u, c)
    if (r._tag === 'Left' || !kernelShapTooFew(r.right)) return r
    return t.failure(
      r.right.nSamples,
      t.appendContext(c, 'nSamples', PositiveInt, r.right.nSamples),
      `the kernelShap sampler needs nSamples ≥ ${MIN_KERNEL_SHAP_SAMPLES} (the full and the empty coalition; with fewer the fit is identically zero), got ${r.right.nSamples}`,
    )
  },
  t.identity,
)

export const Design = t.union([
  t.readonly(t.type({ _tag: t.literal('ablation'), replaceWith: t.union([t.literal('baseline'), t.literal('permutation')]) })),
  t.readonly(t.type({ _tag: t.literal('shapleyExact') })),
  t.readonly(t.type({ _tag: t.literal('shapleySampling'), nSamples: PositiveInt })),
  Coalitions,
])
export type Design = t.TypeOf<typeof Design>

/** Exact Shapley values enumerate 2^M coalitions; beyond this many features use a sampling method. */
export const MAX_EXACT_FEATURES = 20

export interface Item {
  /** Per feature: 1 keeps the input's value, 0 replaces it. */
  readonly present: Uint8Array
  /** FeaturePermutation: per input, the example each row's replacement values come from. */
  readonly perms?: readonly Int32Array[]
  /** Shapley designs: the coefficient of this coalition's value in each feature's attribution. */
  readonly coef?: Float64Array
}

/** Number of items (perturbed copies) of a design over `M` features. */
export const itemCount = (d: Design, M: number): number => {
  switch (d._tag) {
    case 'ablation':
      return M
    case 'shapleyExact':
      return Math.max(1, 2 ** Math.min(M, MAX_EXACT_FEATURES) - 1)
    case 'shapleySampling':
      return 1 + d.nSamples * Math.max(0, M - 1)
    case 'coalitions':
      return d.sampler === 'enumerate' ? Math.min(d.nSamples, 2 ** Math.min(M, 52)) : d.sampler === 'kernelShap' && M < 2 ? Math.min(d.nSamples, 2) : d.nSamples
  }
}

const allBut = (M: number, f: number): Uint8Array => {
  const p = new Uint8Array(M).fill(1)
  p[f] = 0
  return p
}

/** s!(M−s−1)!/M!: the Shapley weight of a coalition of size s not containing the feature. */
export const shapleyWeight = (M: number, s: number): number => {
  let c = 1
  for (let i = 1; i <= s; i++) c = (c * (M - s - 1 + i)) / i
  return 1 / (M * c)
}

const bitsOf = (k: number, M: number): Uint8Array => {
  const p = new Uint8Array(M)
  for (let j = 0; j < M; j++) p[j] = Math.floor(k / 2 ** j) % 2
  return p
}

/** ShapleyValueSampling's permutation for sample s. */
const permOf = (key: Key, s: number, M: number): Int32Array => permutation(foldIn(key, s), M)

/** Size of KernelShap's coalition k ≥ 2: P(s) ∝ (M−1)/(s(M−s)), s = 1..M−1 (Captum's `num_select_distribution`). */
const kernelShapSize = (u: number, M: number): number => {
  let total = 0
  for (let s = 1; s < M; s++) total += (M - 1) / (s * (M - s))
  let acc = 0
  for (let s = 1; s < M; s++) {
    acc += (M - 1) / (s * (M - s)) / total
    if (u < acc) return s
  }
  return M - 1
}

const coalition = (d: Extract<Design, { _tag: 'coalitions' }>, key: Key, k: number, M: number, plugins?: Plugins): Uint8Array => {
  if (d.sampler === 'enumerate') return bitsOf(k, M)
  const kk = foldIn(key, k)
  if (typeof d.sampler === 'object') {
    const fn = pluginOf(plugins, 'samplers', d.sampler.name)
    return Uint8Array.from(checkedVector(fn(k, M, (n) => uniforms(kk, n)), M, `sampler ${JSON.stringify(d.sampler.name)}`, true))
  }
  if (d.sampler === 'bernoulli') return Uint8Array.from(uniforms(kk, M), (u) => (u < 0.5 ? 1 : 0))
  if (k === 0) return new Uint8Array(M).fill(1)
  if (k === 1) return new Uint8Array(M)
  const size = kernelShapSize(uniforms(kk, 1)[0]!, M)
  const order = permutation(foldIn(kk, 1), M)
  const p = new Uint8Array(M)
  for (let i = 0; i < size; i++) p[order[i]!] = 1
  return p
}

/** A permutation of the examples that is not the identity (the identity when there is only one example). */
const derangedOrder = (key: Key, n: number): Int32Array => {
  for (let attempt = 0; ; attempt++) {
    const p = permutation(foldIn(key, attempt), n)
    if (n < 2 || p.some((v, i) => v !== i)) return p
  }
}

/** The items `start..end−1` of a design over `M` features and `nInputs` inputs of `nExamples` examples. */
export const itemsOf = (d: Design, M: number, key: Key, nInputs: number, nExamples: number, start: number, end: number, plugins?: Plugins): Item[] => {
  const items: Item[] = []
  for (let k = start; k < end; k++) {
    switch (d._tag) {
      case 'ablation': {
        const kk = foldIn(key, k)
        items.push({
          present: allBut(M, k),
          ...(d.replaceWith === 'permutation' ? { perms: Array.from({ length: nInputs }, (_, j) => derangedOrder(foldIn(kk, j), nExamples)) } : {}),
        })
        break
      }
      case 'shapleyExact': {
        const present = bitsOf(k, M)
        const s = present.reduce((a, v) => a + v, 0)
        const win = shapleyWeight(M, s - 1)
        const wout = shapleyWeight(M, s)
        items.push({ present, coef: Float64Array.from(present, (v) => (v ? win : -wout)) })
        break
      }
      case 'shapleySampling': {
        const n = d.nSamples
        const coef = new Float64Array(M)
        if (k === 0) {
          for (let s = 0; s < n; s++) coef[permOf(key, s, M)[0]!]! -= 1 / n
          items.push({ present: new Uint8Array(M), coef })
          break
        }
        const s = Math.floor((k - 1) / (M - 1))
        const j = ((k - 1) % (M - 1)) + 1
        const perm = permOf(key, s, M)
        const present = new Uint8Array(M)
        for (let i = 0; i < j; i++) present[perm[i]!] = 1
        coef[perm[j - 1]!]! += 1 / n
        coef[perm[j]!]! -= 1 / n
        items.push({ present, coef })
        break
      }
      case 'coalitions':
        items.push({ present: coalition(d, key, k, M, plugins) })
        break
    }
  }
  return items
}

/** Shapley designs: the coefficient of F(x) (all features present), which is the reference and not an item. */
export const referenceCoef = (d: Design, M: number, key: Key): Float64Array | undefined => {
  if (d._tag === 'shapleyExact') return new Float64Array(M).fill(shapleyWeight(M, M - 1))
  if (d._tag === 'shapleySampling') {
    const coef = new Float64Array(M)
    for (let s = 0; s < d.nSamples; s++) coef[permOf(key, s, M)[M - 1]!]! += 1 / d.nSamples
    return coef
  }
  return undefined
}

/**
 * Similarity weight of a coalition (Lime's kernel on the model inputs, from per-feature sums).
 * `xx`, `xb`, `bb`: Σ x², Σ x·x′, Σ x′² over each feature's elements.
 */
export const similarityOf = (sim: Exclude<Similarity, CustomRef>, present: Uint8Array, xx: Float64Array, xb: Float64Array, bb: Float64Array): number => {
  const M = present.length
  const size = present.reduce((a, v) => a + v, 0)
  if (sim._tag === 'kernelShap') return size === 0 || size === M ? 1e6 : 1
  if (sim._tag === 'shapleyKernel') return size === 0 || size === M ? 1e6 : (M - 1) / (binomial(M, size) * size * (M - size))
  let dist: number
  if (sim.distance === 'cosine') {
    let dot = 0
    let nx = 0
    let np = 0
    for (let f = 0; f < M; f++) {
      nx += xx[f]!
      dot += present[f] ? xx[f]! : xb[f]!
      np += present[f] ? xx[f]! : bb[f]!
    }
    dist = 1 - dot / Math.max(Math.sqrt(nx * np), 1e-8)
  } else {
    let d2 = 0
    for (let f = 0; f < M; f++) if (!present[f]) d2 += xx[f]! - 2 * xb[f]! + bb[f]!
    dist = Math.sqrt(Math.max(0, d2))
  }
  return Math.exp(-(dist * dist) / (2 * sim.kernelWidth * sim.kernelWidth))
}

const binomial = (n: number, k: number): number => {
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
  return c
}
