/**
 * Classifiers that turn concept activations into CAVs. A classifier gets the flattened layer
 * activations of every concept of one experimental set (one row per example, labelled by concept
 * id) and returns one weight row per class, the classes (ascending concept ids) and an accuracy.
 *
 * Two are built in, chosen by a JSON value ({@link ClassifierSpec}):
 * - `meanDifference`: closed form. Row c = mean of class-c activations − mean of all activations;
 *   every row is used (no split); accuracy = training accuracy of the nearest-centroid rule
 *   (Euclidean distance to the class means, ties to the lowest class id). Exactly reproducible.
 * - `linear` (the default): a linear SVM (`loss: 'hinge'`) or logistic regression (`'log'`) with an
 *   L2 penalty `alpha`, fitted by plain SGD in float64, one-vs-rest for more than two concepts. It
 *   follows the recipe of scikit-learn's `SGDClassifier` that Captum's DefaultClassifier uses
 *   (learning rate 1 / (alpha · (t0 + t)) with t0 = 1 / (alpha · alpha^(-1/4)), an intercept, stop
 *   when the epoch's summed loss has not improved by `tol · n` for 5 epochs, at most `maxEpochs`),
 *   but every random choice (the 67/33 train/test split, each epoch's order) comes from the call's
 *   seed: the same seed gives the same CAVs on every backend and machine. sklearn's own draws come
 *   from NumPy's global generator and cannot be replayed, so CAVs differ from Captum's; give
 *   Captum's CAVs as `cavs` to reproduce its scores exactly. A binary fit's single row w becomes
 *   the two rows [−w, w] (classes in ascending order), as in Captum. The accuracy is measured on
 *   the held-out split (on the training rows when the split holds no row).
 *
 * Any function of type {@link ClassifierFn} can be used instead.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveInt, PositiveNumber } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { foldIn, permutation, type Key } from '../core/random.js'

/** The activations of one experimental set at one layer, as a classifier receives them. */
export interface ConceptActivations {
  /** Number of examples (all concepts of the set, in set order). */
  readonly rows: number
  /** Size of one example's flattened activation. */
  readonly dim: number
  /** `rows × dim`, row-major. */
  readonly x: Float32Array
  /** The concept id of each row. */
  readonly labels: Int32Array
}

/** What a classifier returns: `weights` is `classes.length × dim`, row-major. */
export interface TrainedClassifier {
  readonly weights: Float32Array
  readonly classes: readonly number[]
  readonly accuracy: number
}

/** A classifier as a function; `key` is the seeded key of this (set, layer). */
export type ClassifierFn = (a: ConceptActivations, key: Key) => E.Either<AttributionError, TrainedClassifier> | Promise<E.Either<AttributionError, TrainedClassifier>>

const Fraction = t.refinement(t.number, (x) => Number.isFinite(x) && x >= 0 && x < 1, 'a fraction in [0, 1)')

/** The built-in classifiers as data (see the module doc). */
export const ClassifierSpec = t.union([
  t.readonly(t.type({ _tag: t.literal('meanDifference') })),
  t.readonly(t.intersection([
    t.type({ _tag: t.literal('linear') }),
    t.partial({ loss: t.keyof({ hinge: null, log: null }), alpha: PositiveNumber, maxEpochs: PositiveInt, tol: NonNegativeNumber, testSplit: Fraction, nIterNoChange: PositiveInt }),
  ])),
], 'ClassifierSpec')
export type ClassifierSpec = t.TypeOf<typeof ClassifierSpec>

/** The `linear` classifier's defaults (scikit-learn SGDClassifier's and Captum's split). */
export const linearClassifierDefaults = { loss: 'hinge', alpha: 0.01, maxEpochs: 1000, tol: 1e-3, testSplit: 0.33, nIterNoChange: 5 } as const

/** The classes (ascending concept ids) and, for each row, its class index. */
const classesOf = (labels: Int32Array): { readonly classes: number[]; readonly index: Int32Array } => {
  const classes = [...new Set(labels)].sort((a, b) => a - b)
  const pos = new Map(classes.map((c, i) => [c, i]))
  return { classes, index: Int32Array.from(labels, (l) => pos.get(l)!) }
}

const notEnoughClasses = (n: number): AttributionError =>
  err('EmptyInput', `a CAV separates at least two concepts; the activations hold ${n} concept(s). Give every concept of the set at least one example`, ['experimentalSets'])

/** The closed-form mean-difference classifier (see the module doc). */
export const meanDifference: ClassifierFn = (a) => {
  const { classes, index } = classesOf(a.labels)
  if (classes.length < 2) return E.left(notEnoughClasses(classes.length))
  const k = classes.length
  const d = a.dim
  const sums = new Float64Array(k * d)
  const counts = new Float64Array(k)
  const all = new Float64Array(d)
  for (let r = 0; r < a.rows; r++) {
    const c = index[r]!
    counts[c]! += 1
    for (let j = 0; j < d; j++) {
      const v = a.x[r * d + j]!
      sums[c * d + j]! += v
      all[j]! += v
    }
  }
  const means = new Float64Array(k * d)
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) means[c * d + j] = sums[c * d + j]! / counts[c]!
  const weights = new Float32Array(k * d)
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) weights[c * d + j] = means[c * d + j]! - all[j]! / a.rows
  let correct = 0
  for (let r = 0; r < a.rows; r++) {
    let best = 0
    let bestDist = Infinity
    for (let c = 0; c < k; c++) {
      let s = 0
      for (let j = 0; j < d; j++) {
        const diff = a.x[r * d + j]! - means[c * d + j]!
        s += diff * diff
      }
      if (s < bestDist) {
        bestDist = s
        best = c
      }
    }
    if (best === index[r]) correct++
  }
  return E.right({ weights, classes, accuracy: Math.fround(correct / a.rows) })
}

interface LinearSettings {
  readonly loss: 'hinge' | 'log'
  readonly alpha: number
  readonly maxEpochs: number
  readonly tol: number
  readonly testSplit: number
  readonly nIterNoChange: number
}

/** One binary fit (labels ±1) by SGD; returns [w (dim), b]. */
const sgdBinary = (a: ConceptActivations, train: Int32Array, y: Float64Array, s: LinearSettings, key: Key): { w: Float64Array; b: number } => {
  const d = a.dim
  const w = new Float64Array(d)
  let b = 0
  const typw = Math.sqrt(1 / Math.sqrt(s.alpha))
  const t0 = 1 / (typw * s.alpha)
  let step = 1
  let best = Infinity
  let stale = 0
  for (let epoch = 0; epoch < s.maxEpochs; epoch++) {
    const order = permutation(foldIn(key, epoch), train.length)
    let sumLoss = 0
    for (let q = 0; q < order.length; q++) {
      const r = train[order[q]!]!
      const yr = y[r]!
      let p = b
      for (let j = 0; j < d; j++) p += w[j]! * a.x[r * d + j]!
      const z = yr * p
      let dloss: number
      if (s.loss === 'hinge') {
        sumLoss += Math.max(0, 1 - z)
        dloss = z < 1 ? -yr : 0
      } else {
        sumLoss += z > 18 ? Math.exp(-z) : z < -18 ? -z : Math.log1p(Math.exp(-z))
        dloss = z > 18 ? -yr * Math.exp(-z) : z < -18 ? -yr : -yr / (Math.exp(z) + 1)
      }
      const eta = 1 / (s.alpha * (t0 + step - 1))
      const shrink = 1 - eta * s.alpha
      for (let j = 0; j < d; j++) w[j] = w[j]! * shrink - eta * dloss * a.x[r * d + j]!
      b -= eta * dloss
      step++
    }
    if (sumLoss > best - s.tol * train.length) stale++
    else stale = 0
    if (sumLoss < best) best = sumLoss
    if (stale >= s.nIterNoChange) break
  }
  return { w, b }
}

/** The seeded SGD linear classifier (see the module doc) with these settings. */
export const linearClassifier = (options: Partial<LinearSettings> = {}): ClassifierFn => (a, key) => {
  const s: LinearSettings = { ...linearClassifierDefaults, ...options }
  const { classes, index } = classesOf(a.labels)
  if (classes.length < 2) return E.left(notEnoughClasses(classes.length))
  const perm = permutation(foldIn(key, 0x5e1), a.rows)
  const nTest = Math.floor(s.testSplit * a.rows)
  const test = perm.slice(0, nTest)
  const train = perm.slice(nTest)
  const fits = (classes.length === 2 ? [1] : classes.map((_, c) => c)).map((c) => {
    const y = Float64Array.from(index, (i) => (i === c ? 1 : -1))
    return sgdBinary(a, train, y, s, foldIn(key, 0xc1a55 + c))
  })
  const d = a.dim
  const weights = new Float32Array(classes.length * d)
  if (classes.length === 2) {
    const w = fits[0]!.w
    for (let j = 0; j < d; j++) {
      weights[j] = 0 - w[j]! // never −0, which JSON cannot keep
      weights[d + j] = w[j]!
    }
  } else fits.forEach((f, c) => weights.set(Float32Array.from(f.w), c * d))
  const evalRows = test.length > 0 ? test : train
  let correct = 0
  for (const r of evalRows) {
    const scores = fits.map((f) => {
      let p = f.b
      for (let j = 0; j < d; j++) p += f.w[j]! * a.x[r * d + j]!
      return p
    })
    const predicted = classes.length === 2 ? (scores[0]! > 0 ? 1 : 0) : scores.indexOf(Math.max(...scores))
    if (predicted === index[r]) correct++
  }
  return E.right({ weights, classes, accuracy: Math.fround(correct / evalRows.length) })
}

/** The function for a {@link ClassifierSpec}. */
export const classifierOf = (spec: ClassifierSpec): ClassifierFn => {
  if (spec._tag === 'meanDifference') return meanDifference
  const { _tag: _ignored, ...settings } = spec
  return linearClassifier(settings)
}

/** Default classifier of TCAV calls: `{ _tag: 'linear' }` with {@link linearClassifierDefaults}. */
export const DEFAULT_CLASSIFIER: ClassifierSpec = { _tag: 'linear' }
