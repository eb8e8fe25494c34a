/**
 * `attribute`: run any method (a {@link Pipeline}) on any model, with Captum's call options.
 * This is the one function the Captum-style classes call; it never throws: failures are typed
 * errors in the Left of the returned TaskEither.
 *
 * @category api
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith, Integer, PositiveInt, PositiveNumber } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import { hostTensorProblem } from '../core/codecs.js'
import { declaredShapeProblem } from '../core/declaredShape.js'
import type { HostTensor } from '../core/tensor.js'
import { Target, type TargetFn } from '../core/target.js'
import { TargetExpr } from '../core/targetExpr.js'
import type { CallData, Progress } from '../dsl/flow.js'
import type { Plugins } from '../dsl/perturbation/plugins.js'
import { runPipeline, type AttributionResult, type RunRequest } from '../dsl/run.js'
import { callDataOf, compositionOf, decodePipeline, type Pipeline } from '../dsl/spec.js'
import { prepareBaselines, prepareDistribution, prepareInputs, promoteForBaselines, toBackend, type Baseline, type Owned, type TensorLike } from './callData.js'

/** Options every method call accepts (validated with {@link CallOptionsCodec}). */
export interface CallOptions<T> {
  /**
   * Which output scalar to explain (see `Target`), a target expression as data (`{ expr: [...] }`,
   * see `TargetExpr`: softmax, log-softmax, select, sum, mean, dot on any backend), or a reducer
   * function (gradient methods: tfjs models only; perturbation methods: any backend).
   */
  readonly target?: Target | TargetFn<T> | TargetExpr
  /** Baselines x′ for methods that use them; default zeros. */
  readonly baselines?: Baseline<T> | readonly Baseline<T>[]
  /** Extra model inputs after the attributed ones (never attributed); expanded with the rows. */
  readonly additionalForwardArgs?: TensorLike<T> | readonly TensorLike<T>[]
  /** Captum's internal_batch_size: rows per model call (steps per chunk = max(1, ⌊this/N⌋)). */
  readonly internalBatchSize?: number
  /** Working-memory budget for one chunk in bytes (default: the model's `memoryBudgetBytes`, else 512 MiB); chunks are planned from it. */
  readonly memoryBudgetBytes?: number
  /** Seed for stochastic methods (default 0). */
  readonly seed?: number
  readonly signal?: AbortSignal
  /**
   * Wall-clock limit for the call in milliseconds; past it the call returns `Cancelled` (within one
   * model call, even one that never settles). Default: no limit.
   */
  readonly timeoutMs?: number
  /**
   * NaN or ±Infinity in the inputs, baselines, target mask, model outputs or gradients is a
   * `NonFinite` error naming where it appeared (default). Set true to get such values back instead.
   */
  readonly allowNonFinite?: boolean
  readonly onProgress?: (p: Progress) => void
  /**
   * Perturbation methods: integer feature ids, one tensor per input, broadcastable to it (shared
   * `(1, …)`, per-example `(N, …)`, or fewer dims); equal ids are perturbed together, across inputs
   * too. Default: every scalar is its own feature.
   */
  readonly featureMask?: TensorLike<T> | readonly TensorLike<T>[]
  /**
   * Perturbation methods: at most this many perturbed copies of the batch per model call.
   * Captum: `perturbations_per_eval` (default 1 there); here the default packs as many copies as
   * the memory budget allows. Results do not depend on it.
   */
  readonly perturbationsPerEval?: number
  /** Functions a pipeline names as `{ _tag: 'custom', name }` (LimeBase's sampler, similarity, interpretable model). */
  readonly plugins?: Plugins
  /**
   * Layer perturbation methods: the values that replace ablated neurons of the layer (Captum:
   * `layer_baselines`): a number for every neuron, or a tensor broadcastable to the layer's value
   * (shaped like one example, with a batch of 1, or like the whole layer). Default 0.
   */
  readonly layerBaselines?: number | TensorLike<T>
  /**
   * Layer perturbation methods: integer group ids over the layer's neurons, broadcastable to the
   * layer's value (Captum: `layer_mask`); neurons with the same id are perturbed together.
   * Default: every neuron is its own group.
   */
  readonly layerMask?: TensorLike<T>
  /**
   * Neuron methods whose selector is `{ fromCall: 'neuronFn' }`: the selector function, layer
   * [rows, …] → one scalar per row, written in the backend's tensor language (Captum's callable
   * `neuron_selector`; gradients need tfjs). The Captum-style classes set it from a function
   * `neuronSelector`.
   */
  readonly neuronFn?: (layer: T) => T
  /**
   * Metrics over given explanations (`givenAttributions`): precomputed attributions, one tensor per
   * input shaped like it (Captum's `attributions` argument of `infidelity`).
   */
  readonly attributions?: TensorLike<T> | readonly TensorLike<T>[]
}

/** io-ts codec for the scalar call options (tensors and functions are checked when used). */
export const CallOptionsCodec = t.partial({
  target: t.union([Target, TargetExpr, t.Function]),
  internalBatchSize: PositiveInt,
  memoryBudgetBytes: PositiveNumber,
  seed: Integer,
  perturbationsPerEval: PositiveInt,
  timeoutMs: PositiveNumber,
  allowNonFinite: t.boolean,
  neuronFn: t.Function,
})

const asList = <A>(x: A | readonly A[] | undefined, isOne: (u: unknown) => boolean): readonly A[] =>
  x === undefined ? [] : Array.isArray(x) && !isOne(x) ? (x as readonly A[]) : [x as A]

/** Runs `method` on `model` for `inputs` (one tensor or a list). */
export const attribute = <T>(
  method: Pipeline,
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: CallOptions<T> = {},
): TE.TaskEither<AttributionError, AttributionResult> => withRunRequest(method, model, inputs, options, (p, req) => runPipeline(p, model, req))

/**
 * What `attribute` does before the interpreter runs: validates the method and the call options,
 * prepares inputs, baselines and masks as backend tensors, and hands the interpreter's request to
 * `run` (which may run the whole pipeline, one span of it, or finish it from partials: `run.ts`).
 * Everything prepared is disposed when `run` settles.
 */
export const withRunRequest = <T, A>(
  method: Pipeline,
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: CallOptions<T>,
  run: (p: Pipeline, req: RunRequest<T>) => TE.TaskEither<AttributionError, A>,
  exampleOffset = 0,
): TE.TaskEither<AttributionError, A> => {
  // Decode the method first: it may be arbitrary data (parsed JSON), and nothing below may read it before.
  const decoded = decodePipeline(method)
  if (E.isLeft(decoded)) return TE.left(decoded.left)
  const needs = callDataOf(decoded.right)
  const checked = decodeWith(CallOptionsCodec, options)
  if (E.isLeft(checked)) return TE.left(checked.left)
  // Data given to a method that reads none is a mistake to report, not to ignore (Captum raises on
  // unexpected keyword arguments too). Chunking knobs (perturbationsPerEval, internalBatchSize) are
  // bounds, not data: a method without perturbations simply has nothing to bound.
  const unused = [
    options.baselines !== undefined && !needs.has('baselines') && !needs.has('baselineDistribution') ? 'baselines' : undefined,
    options.featureMask !== undefined && !needs.has('featureMask') ? 'featureMask' : undefined,
    options.layerBaselines !== undefined && !needs.has('layerBaselines') ? 'layerBaselines' : undefined,
    options.layerMask !== undefined && !needs.has('layerMask') ? 'layerMask' : undefined,
    options.neuronFn !== undefined && !needs.has('neuronFn') ? 'neuronFn' : undefined,
    options.attributions !== undefined && !needs.has('attributions') ? 'attributions' : undefined,
  ].filter((f): f is string => f !== undefined)
  if (unused.length > 0) {
    return TE.left(invalidSpec(unused.map((f) => ({
      path: [f],
      message: `${decoded.right.name} does not use ${f}: no stage of its pipeline (${compositionOf(decoded.right)}) reads it. Leave it out, or use a method that takes it`,
    }))))
  }
  const backend = model.backend
  const isOne = (u: unknown): boolean => backend.isTensor(u) || (typeof u === 'object' && u !== null && 'dtype' in u && 'shape' in u)
  const owned: Owned<T> = { list: [] }
  /** Feature masks as host tensors (one integer tensor per input). */
  const prepareMasks = async (given: readonly TensorLike<T>[]): Promise<E.Either<AttributionError, readonly HostTensor[]>> => {
    const masks: HostTensor[] = []
    for (const m of given) {
      const i = masks.length
      if (backend.isTensor(m)) {
        masks.push(await backend.toHost(m))
        continue
      }
      const why = hostTensorProblem(m)
      if (why !== undefined) return E.left(err(why.tag, `featureMask.${i}: ${why.message} (give one integer tensor per input)`, ['featureMask', String(i)]))
      masks.push(m as HostTensor)
    }
    return E.right(masks)
  }
  /** The layer mask as a host tensor (one integer tensor over the layer). */
  const prepareLayerMask = async (m: TensorLike<T>): Promise<E.Either<AttributionError, HostTensor>> => {
    if (backend.isTensor(m)) return E.right(await backend.toHost(m))
    const why = hostTensorProblem(m)
    return why !== undefined ? E.left(err(why.tag, `layerMask: ${why.message} (give one integer tensor over the layer's neurons)`, ['layerMask'])) : E.right(m as HostTensor)
  }
  /** The layer baselines as one backend tensor (a number becomes a 0-d tensor, broadcast by the stage). */
  const prepareLayerBaselines = (b: number | TensorLike<T>): E.Either<AttributionError, T> => {
    if (typeof b === 'number') {
      if (!Number.isFinite(b)) return E.left(err('BadBaseline', `layerBaselines is ${b}; baselines must be finite`, ['layerBaselines']))
      const t = backend.fill([], b, 'float32')
      owned.list.push(t)
      return E.right(t)
    }
    if (!backend.isTensor(b)) {
      const why = hostTensorProblem(b)
      if (why !== undefined) return E.left(err(why.tag === 'ShapeMismatch' ? 'BadBaseline' : why.tag, `layerBaselines: ${why.message} (give a number or a tensor broadcastable to the layer)`, ['layerBaselines']))
    }
    return E.right(toBackend(backend, owned, b))
  }
  return async () => {
    try {
      const xs = prepareInputs(backend, owned, asList(inputs, isOne), 'inputs')
      if (E.isLeft(xs)) return xs
      const extras = prepareInputs(backend, owned, asList(options.additionalForwardArgs, isOne), 'additionalForwardArgs')
      if (E.isLeft(extras)) return extras
      const given = needs.has('attributions') && options.attributions !== undefined
        ? prepareInputs(backend, owned, asList(options.attributions, isOne), 'attributions')
        : E.right(undefined)
      if (E.isLeft(given)) return given
      // Checked before any expansion, so the message shows the caller's shapes.
      const badShape = declaredShapeProblem(xs.right.map((x) => backend.shapeOf(x)), model.signature)
      if (badShape !== undefined) return E.left(badShape)
      // Call data is prepared from what the stages declare (abstract.ts), never from stage tags.
      const shaped = xs.right.length > 0 && xs.right.every((x) => backend.shapeOf(x).length > 0)
      // Captum's promotion: an integer input with a fractional baseline is attributed as float32.
      const ins = (needs.has('baselines') || needs.has('baselineDistribution')) && shaped
        ? await promoteForBaselines(backend, owned, xs.right, options.baselines, model.signature)
        : E.right(xs.right)
      if (E.isLeft(ins)) return ins
      const dist = needs.has('baselineDistribution') && shaped ? prepareDistribution(backend, owned, ins.right, options.baselines) : E.right(undefined)
      if (E.isLeft(dist)) return dist
      const bs = needs.has('baselines') && shaped ? prepareBaselines(backend, owned, ins.right, options.baselines) : E.right(undefined)
      if (E.isLeft(bs)) return bs
      const masks = needs.has('featureMask') && options.featureMask !== undefined ? await prepareMasks(asList(options.featureMask, isOne)) : E.right(undefined)
      if (E.isLeft(masks)) return masks
      const layerMask = needs.has('layerMask') && options.layerMask !== undefined ? await prepareLayerMask(options.layerMask) : E.right(undefined)
      if (E.isLeft(layerMask)) return layerMask
      const layerBaselines = needs.has('layerBaselines') && options.layerBaselines !== undefined ? prepareLayerBaselines(options.layerBaselines) : E.right(undefined)
      if (E.isLeft(layerBaselines)) return layerBaselines
      const callData: CallData<T> = {
        ...(bs.right ? { baselines: bs.right } : {}),
        ...(dist.right ? { baselineDistribution: dist.right } : {}),
        ...(masks.right ? { featureMask: masks.right } : {}),
        ...(layerMask.right ? { layerMask: layerMask.right } : {}),
        ...(layerBaselines.right !== undefined ? { layerBaselines: layerBaselines.right } : {}),
        ...(needs.has('perturbationsPerEval') && options.perturbationsPerEval !== undefined ? { perturbationsPerEval: options.perturbationsPerEval } : {}),
        ...(needs.has('plugins') && options.plugins ? { plugins: options.plugins } : {}),
        ...(needs.has('neuronFn') && options.neuronFn !== undefined ? { neuronFn: options.neuronFn } : {}),
        ...(given.right !== undefined ? { attributions: given.right } : {}),
      }
      return await run(decoded.right, {
        ...(exampleOffset !== 0 ? { exampleOffset } : {}),
        inputs: ins.right,
        callData,
        extraArgs: extras.right,
        ...(options.target !== undefined ? { target: options.target } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        chunk: {
          ...(options.internalBatchSize !== undefined ? { internalBatchSize: options.internalBatchSize } : {}),
          // the call's budget, else the model's device default (fromOnnx on 'webgpu': 2 GiB), else the interpreter's
          ...(options.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: options.memoryBudgetBytes } : model.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: model.memoryBudgetBytes } : {}),
        },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.allowNonFinite !== undefined ? { allowNonFinite: options.allowNonFinite } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      })()
    } finally {
      for (const t of owned.list) backend.dispose(t)
    }
  }
}
