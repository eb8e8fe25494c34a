/**
 * Testing with Concept Activation Vectors (TCAV; Kim et al. 2018, "Interpretability beyond feature
 * attribution", arXiv:1711.11279). For each experimental set and layer, a linear classifier
 * separates the concepts' layer activations; its weight rows are the CAVs. An input's TCAV score
 * for a concept is the layer gradient of the target output (flattened, `[D]`) dotted with the
 * concept's CAV row. Per set, layer and concept clarus reports, exactly as Captum 0.8.0:
 *
 * - `signCount`: the fraction of inputs whose score is > 0;
 * - `magnitude`: the MEAN of the scores over the inputs (Captum computes the mean, not the
 *   positive-share ratio its docstring describes);
 * - `perInputScores`: the `[N, concepts]` matrix both are reduced from;
 *
 * with concepts in the set's order. {@link computeCavs} trains (or takes) the CAVs; {@link tcav}
 * scores inputs with them. CAVs given in `cavs` are used as they are for their (set, layer), so
 * Captum's own CAVs (or ones saved with {@link cavsToJson}) reproduce its scores exactly.
 *
 * Captum: `TCAV(model, layers, classifier=…, attribute_to_layer_input=…).compute_cavs(sets)` and
 * `.interpret(inputs, sets, target=…)`. Differences: layers are tensor names (as every clarus
 * layer method takes them), the default classifier is the seeded SGD of `classifier.ts` (Captum's
 * sklearn fit cannot be replayed), nothing is cached on disk (save CAVs as JSON yourself),
 * concept examples are plain tensors or async sources, and the per-input matrix is returned too.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { layerInfo, layerInputOf } from '../api/layers.js'
import type { TensorLike } from '../api/callData.js'
import type { Model } from '../core/backend.js'
import { decodeWith, hostTensorProblem, Integer, isHostTensor } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import { foldIn, keyOf, type Key } from '../core/random.js'
import { Target } from '../core/target.js'
import type { HostTensor } from '../core/tensor.js'
import { conceptActivations, layerGradients, type LayerRows } from './activations.js'
import type { Cav, Cavs } from './cav.js'
import { ClassifierSpec, classifierOf, DEFAULT_CLASSIFIER, type ClassifierFn } from './classifier.js'
import { checkExperimentalSets, setKey, type Concept, type ExperimentalSet } from './concept.js'

/** The JSON part of a TCAV call's options. */
export const TcavOptions = t.readonly(
  t.partial({
    /** Which output is explained (as in every clarus method); default null (a one-value output). */
    target: Target,
    /** Use each layer's input tensor instead of its output (Captum's `attribute_to_layer_input`). */
    attributeToLayerInput: t.boolean,
    /** The built-in classifier that trains CAVs (default `{ _tag: 'linear' }`). */
    classifier: ClassifierSpec,
    /** Seed of every random choice of the classifier (default 0). */
    seed: Integer,
  }),
  'TcavOptions',
)
export type TcavOptions = t.TypeOf<typeof TcavOptions>

/** The defaults of {@link TcavOptions}. */
export const tcavDefaults = { target: null, attributeToLayerInput: false, classifier: DEFAULT_CLASSIFIER, seed: 0 } as const

/** A TCAV call: the layers, the experimental sets, optional precomputed CAVs and a custom classifier. */
export interface TcavCall extends TcavOptions {
  /** Layer tensor names (`signature.layers`), one or several. */
  readonly layers: string | readonly string[]
  readonly experimentalSets: readonly ExperimentalSet[]
  /** CAVs to use instead of training, by set key and layer (e.g. from {@link cavsFromJson}). */
  readonly cavs?: Cavs
  /** A classifier function instead of the built-in `classifier` (see {@link ClassifierFn}). */
  readonly classifierFn?: ClassifierFn
  /** Extra model inputs after the explained one (Captum's `additional_forward_args`), one row per input. */
  readonly additionalForwardArgs?: readonly HostTensor[]
}

/** One set's scores at one layer, in the set's concept order. */
export interface TcavScores {
  readonly signCount: HostTensor<'float32'>
  readonly magnitude: HostTensor<'float32'>
}

export interface TcavResult {
  /** Set key → layer → scores. */
  readonly scores: Readonly<Record<string, Readonly<Record<string, TcavScores>>>>
  /** Set key → layer → `[N, concepts]` per-input scores (gradient · CAV row), set order. */
  readonly perInputScores: Readonly<Record<string, Readonly<Record<string, HostTensor<'float32'>>>>>
  /** The CAVs used (trained or given). */
  readonly cavs: Cavs
}

interface Prepared {
  readonly layers: readonly string[]
  /** The tensor read for each layer (its input with attributeToLayerInput). */
  readonly tensors: readonly string[]
  readonly sets: readonly ExperimentalSet[]
  readonly concepts: ReadonlyMap<number, Concept>
  readonly classifier: ClassifierFn
  readonly seed: number
  readonly target: Target
}

const prepare = <T>(model: Model<T>, call: TcavCall): E.Either<AttributionError, Prepared> => {
  const { layers: _l, experimentalSets: _s, cavs: _c, classifierFn: _f, additionalForwardArgs: _a, ...json } = call
  const o = decodeWith(TcavOptions, json)
  if (E.isLeft(o)) return o
  const layers: unknown = typeof call.layers === 'string' ? [call.layers] : call.layers
  if (!Array.isArray(layers) || layers.length === 0 || layers.some((l) => typeof l !== 'string')) {
    return E.left(invalidSpec([{ path: ['layers'], message: `expected a layer name or a non-empty list of them (signature.layers), got ${JSON.stringify(call.layers)}` }]))
  }
  if (call.classifierFn !== undefined && typeof call.classifierFn !== 'function') {
    return E.left(invalidSpec([{ path: ['classifierFn'], message: 'expected a function (activations, key) => Either<error, { weights, classes, accuracy }>' }]))
  }
  const concepts = checkExperimentalSets(call.experimentalSets)
  if (E.isLeft(concepts)) return concepts
  const tensors: string[] = []
  for (let i = 0; i < layers.length; i++) {
    const name = layers[i] as string
    if (layers.indexOf(name) !== i) return E.left(invalidSpec([{ path: ['layers', String(i)], message: `layer ${JSON.stringify(name)} is listed twice` }]))
    const known = layerInfo(model, name, ['layers', String(i)])
    if (E.isLeft(known)) return known
    if (o.right.attributeToLayerInput ?? tcavDefaults.attributeToLayerInput) {
      const input = layerInputOf(model, name)
      if (E.isLeft(input)) return E.left({ ...input.left, path: ['layers', String(i)] })
      tensors.push(input.right)
    } else tensors.push(name)
  }
  return E.right({
    layers: layers as string[],
    tensors,
    sets: call.experimentalSets,
    concepts: concepts.right,
    classifier: call.classifierFn ?? classifierOf(o.right.classifier ?? tcavDefaults.classifier),
    seed: o.right.seed ?? tcavDefaults.seed,
    target: o.right.target ?? tcavDefaults.target,
  })
}

/** FNV-1a over a string's UTF-16 code units: keys randomness by set key and layer name, not by position. */
const hashString = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** The key of one (set, layer) training: independent of the order sets and layers are listed in. */
export const cavKey = (seed: number, key: string, layer: string): Key => foldIn(foldIn(keyOf(seed), hashString(key)), hashString(layer))

/** Checks a given CAV against its set (one row per concept) and, when known, the layer's size. */
const checkGivenCav = (cav: Cav, set: ExperimentalSet, key: string, layer: string, dim: number | undefined): E.Either<AttributionError, Cav> => {
  const path = ['cavs', key, layer]
  const p = hostTensorProblem(cav.weights)
  if (p !== undefined || cav.weights.dtype !== 'float32' || cav.weights.shape.length !== 2) {
    return E.left(err('ShapeMismatch', `the CAV given for set ${key} at layer ${JSON.stringify(layer)} must have float32 weights [classes, D]${p === undefined ? '' : ` (${p.message})`}`, path))
  }
  const ids = set.map((c) => c.id)
  if (cav.classes.length !== cav.weights.shape[0] || cav.classes.length !== ids.length || !ids.every((id) => cav.classes.includes(id))) {
    return E.left(err('ShapeMismatch', `the CAV given for set ${key} at layer ${JSON.stringify(layer)} has classes [${cav.classes.join(', ')}] and ${cav.weights.shape[0]} weight row(s); it needs one row per concept of the set (${ids.join(', ')})`, path))
  }
  if (dim !== undefined && cav.weights.shape[1] !== dim) {
    return E.left(err('ShapeMismatch', `the CAV given for set ${key} at layer ${JSON.stringify(layer)} has ${cav.weights.shape[1]} columns but that layer has ${dim} values per example: was it trained at another layer (or with attributeToLayerInput set differently)?`, path))
  }
  return E.right(cav)
}

/** Trains (or takes from `given`) every CAV of the prepared call. `dims`: layer sizes already known. */
const cavsFor = async <T>(
  model: Model<T>,
  p: Prepared,
  given: Cavs | undefined,
  exampleShape: readonly number[] | undefined,
  dims: ReadonlyMap<string, number>,
): Promise<E.Either<AttributionError, Cavs>> => {
  const acts = new Map<number, ReadonlyMap<string, LayerRows>>()
  const activationsOf = async (c: Concept): Promise<E.Either<AttributionError, ReadonlyMap<string, LayerRows>>> => {
    const have = acts.get(c.id)
    if (have !== undefined) return E.right(have)
    const a = await conceptActivations(model, c, p.tensors, exampleShape)
    if (E.isRight(a)) acts.set(c.id, a.right)
    return a
  }
  const out: Record<string, Record<string, Cav>> = {}
  for (const set of p.sets) {
    const key = setKey(set)
    const row: Record<string, Cav> = (out[key] ??= {})
    for (let l = 0; l < p.layers.length; l++) {
      const layer = p.layers[l]!
      const g = given?.[key]?.[layer]
      if (g !== undefined) {
        const ok = checkGivenCav(g, set, key, layer, dims.get(p.tensors[l]!))
        if (E.isLeft(ok)) return ok
        row[layer] = g
        continue
      }
      const parts: LayerRows[] = []
      const labels: number[] = []
      for (const c of set) {
        const a = await activationsOf(c)
        if (E.isLeft(a)) return a
        const rows = a.right.get(p.tensors[l]!)!
        parts.push(rows)
        for (let r = 0; r < rows.rows; r++) labels.push(c.id)
      }
      const dim = parts[0]!.dim
      const x = new Float32Array(labels.length * dim)
      let at = 0
      for (const q of parts) {
        x.set(q.data, at)
        at += q.data.length
      }
      const trained = await p.classifier({ rows: labels.length, dim, x, labels: Int32Array.from(labels) }, cavKey(p.seed, key, layer))
      if (E.isLeft(trained)) return E.left({ ...trained.left, path: ['experimentalSets', key, layer, ...trained.left.path] })
      const { weights, classes, accuracy } = trained.right
      if (weights.length !== classes.length * dim || classes.length !== set.length || !set.every((c) => classes.includes(c.id))) {
        return E.left(err('ShapeMismatch', `the classifier returned ${weights.length} weights for classes [${classes.join(', ')}] at layer ${JSON.stringify(layer)}; set ${key} needs one row of ${dim} values per concept (${set.map((c) => c.id).join(', ')})`, ['classifierFn']))
      }
      row[layer] = {
        concepts: set.map((c) => ({ id: c.id, name: c.name })),
        layer,
        weights: { dtype: 'float32', shape: [classes.length, dim], data: weights },
        classes: [...classes],
        accuracy,
      }
    }
  }
  return E.right(out)
}

/**
 * The CAVs of every experimental set at every layer: trained from the concepts' activations by
 * the call's classifier, except those given in `call.cavs` (checked against their set). Never
 * throws: errors are in the Left.
 */
export const computeCavs = <T>(model: Model<T>, call: TcavCall): TE.TaskEither<AttributionError, Cavs> => async () => {
  const p = prepare(model, call)
  if (E.isLeft(p)) return p
  return cavsFor(model, p.right, call.cavs, undefined, new Map())
}

/** The inputs and extra arguments as host tensors (backend tensors are read back), or a typed error naming the bad one. */
const hostInputs = async <T>(model: Model<T>, inputs: unknown, extra: unknown): Promise<E.Either<AttributionError, readonly HostTensor[]>> => {
  const list = [inputs, ...(Array.isArray(extra) ? extra : extra === undefined ? [] : [extra])]
  const out: HostTensor[] = []
  for (let i = 0; i < list.length; i++) {
    const x = list[i]
    const path = i === 0 ? ['inputs'] : ['additionalForwardArgs', String(i - 1)]
    if (model.backend.isTensor(x)) out.push(await model.backend.toHost(x))
    else if (isHostTensor(x)) out.push(x)
    else {
      const problem = hostTensorProblem(x)
      return E.left(err('ShapeMismatch', `${path.join('.')} must be a ${model.backend.name} tensor or a host tensor {dtype, shape, data}${problem === undefined ? '' : `: ${problem.message}`}`, path))
    }
  }
  const first = out[0]!
  if (first.shape.length < 1 || first.shape[0] === 0) return E.left(err('EmptyInput', 'inputs must hold at least one example [N ≥ 1, …]', ['inputs']))
  return E.right(out)
}

/**
 * TCAV scores of `inputs` (one tensor `[N, …]`: a host tensor or the backend's own) for every
 * experimental set and layer of `call` (see the module doc). Never throws: errors are in the Left.
 */
export const tcav = <T>(model: Model<T>, inputs: TensorLike<T>, call: TcavCall): TE.TaskEither<AttributionError, TcavResult> => async () => {
  const p = prepare(model, call)
  if (E.isLeft(p)) return p
  const xs = await hostInputs(model, inputs, call.additionalForwardArgs)
  if (E.isLeft(xs)) return xs
  const x = xs.right[0]!
  const grads = await layerGradients(model, xs.right, p.right.target, p.right.tensors)
  if (E.isLeft(grads)) return grads
  const dims = new Map([...grads.right].map(([k, v]) => [k, v.dim]))
  const cavs = await cavsFor(model, p.right, call.cavs, x.shape.slice(1), dims)
  if (E.isLeft(cavs)) return cavs
  const n = x.shape[0]!
  const scores: Record<string, Record<string, TcavScores>> = {}
  const perInput: Record<string, Record<string, HostTensor<'float32'>>> = {}
  for (const set of p.right.sets) {
    const key = setKey(set)
    scores[key] ??= {}
    perInput[key] ??= {}
    for (let l = 0; l < p.right.layers.length; l++) {
      const layer = p.right.layers[l]!
      const g = grads.right.get(p.right.tensors[l]!)!
      const cav = cavs.right[key]![layer]!
      const k = set.length
      const m = new Float32Array(n * k)
      const signCount = new Float32Array(k)
      const magnitude = new Float32Array(k)
      for (let c = 0; c < k; c++) {
        const row = cav.classes.indexOf(set[c]!.id)
        const w = cav.weights.data
        let positive = 0
        let sum = 0
        for (let i = 0; i < n; i++) {
          let s = 0
          for (let j = 0; j < g.dim; j++) s += g.data[i * g.dim + j]! * w[row * g.dim + j]!
          const sf = Math.fround(s)
          m[i * k + c] = sf
          if (sf > 0) positive++
          sum += sf
        }
        signCount[c] = positive / n
        magnitude[c] = sum / n
      }
      scores[key]![layer] = { signCount: { dtype: 'float32', shape: [k], data: signCount }, magnitude: { dtype: 'float32', shape: [k], data: magnitude } }
      perInput[key]![layer] = { dtype: 'float32', shape: [n, k], data: m }
    }
  }
  return E.right({ scores, perInputScores: perInput, cavs: cavs.right })
}
