/**
 * The TracIn engine shared by the three variants: the checked plan (checkpoints with their chosen
 * parameters, the training set, losses, batching), the score matrix train × test summed over
 * checkpoints, aggregation, top-k and self-influence, streamed batch by batch (test gradients are
 * kept per checkpoint, training gradients one batch at a time).
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model, ParameterInfo } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { float32, hostGatherRows, int64, type HostTensor } from '../core/tensor.js'
import { exampleGrads, type ExampleGrads } from './exampleGrads.js'
import { addGram, addSquaredNorms, topK as topKOf } from './gram.js'
import type { InfluenceLoss } from './loss.js'
import { InfluenceOptions, TopKOptions, type Checkpoint, type InfluenceData, type TracIn, type TracInRandProj } from './options.js'

const DEFAULT_LOSS: InfluenceLoss = { _tag: 'crossEntropy', reduction: 'sum' }
const DEFAULT_BATCH = 32

interface Rows {
  readonly inputs: readonly HostTensor[]
  readonly labels: HostTensor
  readonly rows: number
}

export interface Plan<T> {
  readonly checkpoints: readonly { readonly model: Model<T>; readonly lr: number; readonly params: readonly ParameterInfo[] }[]
  readonly train: Rows
  readonly loss: InfluenceLoss
  readonly testLoss: InfluenceLoss
  readonly batchSize: number
  readonly sampleWise: boolean
  readonly allowNonFinite: boolean
  /** RandProj: projects a batch's gradients on checkpoint `c`. */
  readonly project?: (g: ExampleGrads, c: number) => ExampleGrads
}

const dataRows = (d: InfluenceData, path: readonly string[]): E.Either<AttributionError, Rows> => {
  const inputs = Array.isArray(d.inputs) ? (d.inputs as readonly HostTensor[]) : [d.inputs as HostTensor]
  if (inputs.length === 0) return E.left(err('MissingInput', 'no input tensors: give the model inputs of the examples', [...path, 'inputs']))
  const labels = d.labels
  const rows = labels.shape[0] ?? 0
  if (rows === 0) return E.left(err('EmptyInput', 'there are no examples (0 labels)', [...path, 'labels']))
  const bad = inputs.findIndex((x) => x.shape[0] !== rows)
  if (bad >= 0) return E.left(err('ShapeMismatch', `input ${bad} has ${inputs[bad]!.shape[0] ?? 0} rows but there are ${rows} labels: give one label per example`, [...path, 'inputs', String(bad)]))
  return E.right({ inputs, labels, rows })
}

const slice = (r: Rows, from: number, to: number): Rows => {
  const idx = Int32Array.from({ length: to - from }, (_, i) => from + i)
  return { inputs: r.inputs.map((x) => hostGatherRows(x, idx)), labels: hostGatherRows(r.labels, idx), rows: to - from }
}

const batches = (r: Rows, size: number): Rows[] =>
  Array.from({ length: Math.ceil(r.rows / size) }, (_, k) => (r.rows <= size ? r : slice(r, k * size, Math.min(r.rows, (k + 1) * size))))

/** The checkpoints with the parameters `pick` chooses on each, or why they cannot be used. */
const checkpointsOf = <T>(
  checkpoints: readonly Checkpoint<T>[],
  pick: (m: Model<T>, k: number) => E.Either<AttributionError, readonly ParameterInfo[]>,
): E.Either<AttributionError, Plan<T>['checkpoints']> => {
  if (checkpoints.length === 0) return E.left(err('EmptyInput', 'no checkpoints: give at least one { model, learningRate }', ['checkpoints']))
  const out: { model: Model<T>; lr: number; params: readonly ParameterInfo[] }[] = []
  for (const [k, c] of checkpoints.entries()) {
    if (c.model.signature.parameters === undefined) {
      return E.left(err('Unsupported', `checkpoint ${k}: this model declares no parameters; on tfjs pass the weight tensors as fromTfjs(model, { parameters: { name: tensor } }) (ONNX models list their initializers)`, ['checkpoints', String(k), 'model']))
    }
    const params = pick(c.model, k)
    if (E.isLeft(params)) return params
    const first = out[0]?.params
    if (first !== undefined) {
      const differs = params.right.findIndex((p, i) => p.name !== first[i]?.name || p.shape.join() !== first[i]?.shape.join())
      if (differs >= 0 || params.right.length !== first.length) {
        return E.left(err('BadModel', `checkpoint ${k} does not have the same parameters as checkpoint 0 (${first.map((p) => `${p.name} [${p.shape.join(', ')}]`).join(', ')}): all checkpoints must be the same network`, ['checkpoints', String(k), 'model']))
      }
    }
    out.push({ model: c.model, lr: c.learningRate, params: params.right })
  }
  return E.right(out)
}

const gradsOf = async <T>(plan: Plan<T>, c: number, batch: Rows, loss: InfluenceLoss, path: readonly string[]): Promise<E.Either<AttributionError, ExampleGrads>> => {
  const ck = plan.checkpoints[c]!
  const g = await exampleGrads(ck.model, batch.inputs, batch.labels, ck.params, loss, [...path, 'labels'], { sampleWise: plan.sampleWise, allowNonFinite: plan.allowNonFinite })
  if (E.isLeft(g)) return E.left({ ...g.left, message: `checkpoint ${c}: ${g.left.message}` })
  return plan.project === undefined ? g : E.right(plan.project(g.right, c))
}

/** influence[i, j] = Σ_c η_c ⟨∇L(testᵢ), ∇L(trainⱼ)⟩ as float64 [n_test, n_train]. */
const scoreMatrix = async <T>(plan: Plan<T>, test: Rows): Promise<E.Either<AttributionError, Float64Array>> => {
  const nTrain = plan.train.rows
  const out = new Float64Array(test.rows * nTrain)
  const testBatches = batches(test, plan.batchSize)
  const trainBatches = batches(plan.train, plan.batchSize)
  for (let c = 0; c < plan.checkpoints.length; c++) {
    const lr = plan.checkpoints[c]!.lr
    const testGrads: ExampleGrads[] = []
    for (const tb of testBatches) {
      const g = await gradsOf(plan, c, tb, plan.testLoss, ['test'])
      if (E.isLeft(g)) return g
      testGrads.push(g.right)
    }
    let j0 = 0
    for (const trb of trainBatches) {
      const g = await gradsOf(plan, c, trb, plan.loss, ['train'])
      if (E.isLeft(g)) return g
      let i0 = 0
      for (const tg of testGrads) {
        const block = new Float64Array(tg.rows * trb.rows)
        addGram(block, tg, g.right, lr)
        for (let i = 0; i < tg.rows; i++) for (let j = 0; j < trb.rows; j++) out[(i0 + i) * nTrain + j0 + j]! += block[i * trb.rows + j]!
        i0 += tg.rows
      }
      j0 += trb.rows
    }
  }
  return E.right(out)
}

/** The score matrix, summed over test rows when aggregating: (Σᵢ ∇L(testᵢ))·∇L(trainⱼ) = Σᵢ influence[i, j]. */
const scores = async <T>(plan: Plan<T>, test: InfluenceData, aggregate: boolean): Promise<E.Either<AttributionError, { readonly rows: number; readonly s: Float64Array }>> => {
  const rows = dataRows(test, ['test'])
  if (E.isLeft(rows)) return rows
  const m = await scoreMatrix(plan, rows.right)
  if (E.isLeft(m)) return m
  if (!aggregate) return E.right({ rows: rows.right.rows, s: m.right })
  const n = plan.train.rows
  const s = new Float64Array(n)
  for (let i = 0; i < rows.right.rows; i++) for (let j = 0; j < n; j++) s[j]! += m.right[i * n + j]!
  return E.right({ rows: 1, s })
}

export const influenceOf = <T>(plan: Plan<T>): TracInRandProj['influence'] => (test, options = {}) => async () => {
  const o = decodeWith(InfluenceOptions, options, ['options'])
  if (E.isLeft(o)) return o
  const r = await scores(plan, test, o.right.aggregate === true)
  return E.isLeft(r) ? r : E.right(float32([r.right.rows, plan.train.rows], r.right.s))
}

export const topKFn = <T>(plan: Plan<T>): TracInRandProj['topK'] => (test, options) => async () => {
  const o = decodeWith(TopKOptions, options, ['options'])
  if (E.isLeft(o)) return o
  const n = plan.train.rows
  if (o.right.k > n) return E.left(err('BadTarget', `k = ${o.right.k} exceeds the ${n} training examples`, ['options', 'k']))
  const r = await scores(plan, test, o.right.aggregate === true)
  if (E.isLeft(r)) return r
  const top = topKOf(r.right.s, r.right.rows, n, o.right.k, o.right.proponents !== false)
  return E.right({ indices: int64([r.right.rows, o.right.k], top.indices), influenceScores: float32([r.right.rows, o.right.k], top.values) })
}

export const selfInfluenceOf = <T>(plan: Plan<T>): TracIn['selfInfluence'] => (data) => async () => {
  const rows = data === undefined ? E.right(plan.train) : dataRows(data, ['data'])
  if (E.isLeft(rows)) return rows
  const out = new Float64Array(rows.right.rows)
  for (let c = 0; c < plan.checkpoints.length; c++) {
    let i0 = 0
    for (const b of batches(rows.right, plan.batchSize)) {
      const g = await gradsOf(plan, c, b, plan.loss, [data === undefined ? 'train' : 'data'])
      if (E.isLeft(g)) return g
      addSquaredNorms(out, g.right, plan.checkpoints[c]!.lr, i0)
      i0 += b.rows
    }
  }
  return E.right(float32([rows.right.rows], out))
}

const learningRateProblem = <T>(checkpoints: readonly Checkpoint<T>[]): AttributionError | undefined => {
  const k = checkpoints.findIndex((c) => typeof c.learningRate !== 'number' || !Number.isFinite(c.learningRate))
  return k < 0 ? undefined : err('BadModel', `checkpoint ${k}: learningRate must be a finite number (Captum's default is 1), got ${String(checkpoints[k]!.learningRate)}`, ['checkpoints', String(k), 'learningRate'])
}

export const planOf = <T>(
  checkpoints: readonly Checkpoint<T>[],
  train: InfluenceData,
  o: { readonly loss?: InfluenceLoss | undefined; readonly testLoss?: InfluenceLoss | undefined; readonly batchSize?: number | undefined; readonly allowNonFinite?: boolean | undefined },
  sampleWise: boolean,
  pick: (m: Model<T>, k: number) => E.Either<AttributionError, readonly ParameterInfo[]>,
): E.Either<AttributionError, Plan<T>> => {
  const lrBad = learningRateProblem(checkpoints)
  if (lrBad !== undefined) return E.left(lrBad)
  const rows = dataRows(train, ['train'])
  if (E.isLeft(rows)) return rows
  const cks = checkpointsOf(checkpoints, pick)
  if (E.isLeft(cks)) return cks
  const loss = o.loss ?? DEFAULT_LOSS
  return E.right({
    checkpoints: cks.right,
    train: rows.right,
    loss,
    testLoss: o.testLoss ?? loss,
    batchSize: o.batchSize ?? DEFAULT_BATCH,
    sampleWise,
    allowNonFinite: o.allowNonFinite === true,
  })
}
