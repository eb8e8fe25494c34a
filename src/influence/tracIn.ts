/**
 * TracIn (Pruthi et al., 2020, "Estimating Training Data Influence by Tracing Gradient Descent",
 * arXiv:2002.08484): the influence of a training example z on a test example z′ is the sum over
 * saved checkpoints θ_c of the learning rate times the dot product of their loss gradients,
 *
 *   TracInCP(z, z′) = Σ_c η_c ⟨∇θ L(z′; θ_c), ∇θ L(z; θ_c)⟩,
 *
 * and an example's self-influence is Σ_c η_c ‖∇θ L(z; θ_c)‖² (large for mislabelled or unusual
 * training rows). Three variants, as in Captum:
 * - {@link tracInCP}: over chosen parameters (default: all);
 * - {@link tracInCPFast}: over the weight of the final fully-connected layer only, whose per-example
 *   gradient is the outer product of the loss gradient at the model output and that layer's input,
 *   so no backward pass is needed at all: Σ_c η_c (g·g′)(a·a′);
 * - {@link tracInCPFastRandProj}: the same scores from seeded Gaussian random projections of g and a
 *   (embeddings of `projectionDim` numbers over all checkpoints), top-k by exact search.
 *
 * Each factory checks its arguments and returns an object whose calls return `TaskEither`s.
 * Checkpoints are models (one per saved state: `fromOnnx` of each exported checkpoint, or
 * `fromTfjs(model, { parameters })` with each state's weight tensors) with the learning rate used
 * after them. Data are host tensors: the model inputs and one label per row.
 *
 * Captum: `TracInCP`, `TracInCPFast`, `TracInCPFastRandProj` (captum.influence). Differences:
 * checkpoints are loaded models rather than files plus a load function; the loss is data
 * ({@link InfluenceLoss}), and its reduction never changes the scores (Captum's constraints between the
 * reduction and `sample_wise_grads_per_batch` are not needed); `batchSize` only sets how many rows
 * go through the model at once (default 32, Captum's 1; results do not depend on it); RandProj
 * answers top-k by exact search over the projected embeddings instead of an Annoy index, and a
 * factor whose projection would not shrink it is left unprojected (exact).
 *
 * @category influence
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model, ParameterInfo } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { foldIn, keyOf } from '../core/random.js'
import type { ExampleGrads } from './exampleGrads.js'
import { projectionDims, projectOuter } from './gram.js'
import { TracInCPFastOptions, TracInCPFastRandProjOptions, TracInCPOptions, type Checkpoint, type InfluenceData, type TracIn, type TracInRandProj } from './options.js'
import { influenceOf, planOf, selfInfluenceOf, topKFn } from './plan.js'

export { InfluenceOptions, TopKOptions, TracInCPFastOptions, TracInCPFastRandProjOptions, TracInCPOptions } from './options.js'
export type { Checkpoint, InfluenceData, KMostInfluential, TracIn, TracInRandProj } from './options.js'

/**
 * TracInCP over the chosen parameters (default: every parameter in `signature.parameters`).
 *
 * @example
 * const tracin = tracInCP([{ model: ckpt1, learningRate: 0.2 }, { model: ckpt2, learningRate: 0.1 }], { inputs: xTrain, labels: yTrain })
 */
export const tracInCP = <T>(checkpoints: readonly Checkpoint<T>[], train: InfluenceData, options: TracInCPOptions = {}): E.Either<AttributionError, TracIn> => {
  const o = decodeWith(TracInCPOptions, options, ['options'])
  if (E.isLeft(o)) return o
  const wanted = o.right.parameters
  const plan = planOf(checkpoints, train, o.right, o.right.sampleWiseGradsPerBatch !== false, (m, k) => {
    const all = m.signature.parameters ?? []
    if (wanted === undefined) {
      return all.length > 0 ? E.right(all) : E.left(err('Unsupported', `checkpoint ${k}: the model has no float parameters to differentiate`, ['checkpoints', String(k), 'model']))
    }
    if (wanted.length === 0) return E.left(err('MissingInput', 'parameters is an empty list: name at least one parameter, or leave it out for all', ['options', 'parameters']))
    const missing = wanted.filter((n) => !all.some((p) => p.name === n))
    if (missing.length > 0) {
      return E.left(err('UnknownTensor', `checkpoint ${k} has no parameter(s) ${missing.map((n) => JSON.stringify(n)).join(', ')}; its parameters: ${all.map((p) => p.name).join(', ')}`, ['options', 'parameters']))
    }
    return E.right(wanted.map((n) => all.find((p) => p.name === n)!))
  })
  if (E.isLeft(plan)) return plan
  return E.right({ influence: influenceOf(plan.right), topK: topKFn(plan.right), selfInfluence: selfInfluenceOf(plan.right) })
}

/** The weight of the final fully-connected layer named by `name` (its weight or its output), or why not. */
const finalFcOf = <T>(m: Model<T>, name: string, k: number): E.Either<AttributionError, readonly ParameterInfo[]> => {
  const all = m.signature.parameters ?? []
  const out = m.signature.outputs[0]?.name
  const p = all.find((q) => q.name === name && q.perExample?.kind === 'outer') ?? all.find((q) => q.perExample?.kind === 'outer' && q.perExample.output === name)
  const at = ['options', 'finalFcLayer']
  if (p === undefined) {
    const fcs = all.filter((q) => q.perExample?.kind === 'outer').map((q) => q.name)
    return E.left(err('UnknownTensor', `checkpoint ${k}: ${JSON.stringify(name)} is not a fully-connected weight (Gemm/MatMul) or the output of one; fully-connected weights: ${fcs.join(', ') || 'none'}`, at))
  }
  // a model that does not name its output (a tfjs function) is trusted: the gradient is then taken at the layer's output
  if (out !== undefined && p.perExample?.output !== out) {
    return E.left(err('Unsupported', `checkpoint ${k}: ${JSON.stringify(p.name)} computes ${JSON.stringify(p.perExample?.output)}, not the model output ${JSON.stringify(out)}; TracInCPFast takes the loss gradient at the model output, so the final fully-connected layer must be the last op (use tracInCP with parameters: [${JSON.stringify(p.name)}] otherwise)`, at))
  }
  return E.right([p])
}

/** TracInCPFast: the final fully-connected layer's weight only (its bias is left out, as in Captum). */
export const tracInCPFast = <T>(checkpoints: readonly Checkpoint<T>[], train: InfluenceData, options: TracInCPFastOptions): E.Either<AttributionError, TracIn> => {
  const o = decodeWith(TracInCPFastOptions, options, ['options'])
  if (E.isLeft(o)) return o
  const plan = planOf(checkpoints, train, o.right, true, (m, k) => finalFcOf(m, o.right.finalFcLayer, k))
  if (E.isLeft(plan)) return plan
  return E.right({ influence: influenceOf(plan.right), topK: topKFn(plan.right), selfInfluence: selfInfluenceOf(plan.right) })
}

/**
 * TracInCPFastRandProj: TracInCPFast's scores from embeddings √η_c · (Pᵀg) ⊗ (Qᵀa) with seeded
 * Gaussian P, Q (entries N(0, 1/dim)); `projectionDim` numbers per example over all checkpoints,
 * split as Captum does (per checkpoint d = ⌊projectionDim / checkpoints⌋, a gets min(q, ⌊√d⌋) and
 * g gets min(p, ⌊d / that⌋)). Dot products of projections are unbiased estimates of the exact ones.
 */
export const tracInCPFastRandProj = <T>(checkpoints: readonly Checkpoint<T>[], train: InfluenceData, options: TracInCPFastRandProjOptions): E.Either<AttributionError, TracInRandProj> => {
  const o = decodeWith(TracInCPFastRandProjOptions, options, ['options'])
  if (E.isLeft(o)) return o
  const plan = planOf(checkpoints, train, o.right, true, (m, k) => finalFcOf(m, o.right.finalFcLayer, k))
  if (E.isLeft(plan)) return plan
  const dim = o.right.projectionDim ?? null
  const key = keyOf(o.right.seed ?? 0)
  const n = plan.right.checkpoints.length
  const project = dim === null
    ? undefined
    : (g: ExampleGrads, c: number): ExampleGrads => ({
      rows: g.rows,
      terms: g.terms.map((t) => {
        if (t.kind !== 'outer') return t
        const { dp, dq } = projectionDims(dim, n, t.p, t.q)
        return projectOuter(t, g.rows, foldIn(key, c), dp, dq)
      }),
    })
  const p = project === undefined ? plan.right : { ...plan.right, project }
  return E.right({ influence: influenceOf(p), topK: topKFn(p) })
}
