/**
 * What flows between pipeline stages, and the per-call context every stage can read.
 *
 * A {@link Flow} holds the current tensors (one per attributed input, or per layer tensor), the
 * matching baselines, and for every row the example it belongs to. Expansion stages multiply the
 * rows (step-major: row = k·R + r for expansion index k and incoming row r); reducing stages fold
 * them back. Carrying `rowExample` lets any stage expand targets, extra arguments and baselines
 * exactly as Captum does, whatever the nesting.
 *
 * @category dsl
 * @since 0.1.0
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { Backend, Model } from '../core/backend.js'
import type { AttributionError } from '../core/errors.js'
import { foldIn, type Key } from '../core/random.js'
import type { Target, TargetFn } from '../core/target.js'
import type { TargetExpr } from '../core/targetExpr.js'
import type { Plugins } from './perturbation/plugins.js'
import type { HostTensor } from '../core/tensor.js'

/**
 * Where the flow's tensors live: the model inputs, or internal tensors (layers). A layer space
 * names one layer (`name`: the flow holds one tensor) or a list of them (`names`: one tensor per
 * layer, in list order, all from the same model calls); exactly one of the two is set, and the
 * list form is kept even for one layer, so results mirror what the caller named.
 */
export type Space =
  | { readonly kind: 'input' }
  | { readonly kind: 'layer'; readonly name: string; readonly names?: undefined }
  | { readonly kind: 'layer'; readonly names: readonly string[]; readonly name?: undefined }

export interface Flow<T> {
  readonly value: readonly T[]
  /** Baselines aligned row for row with `value` (absent for methods without baselines). */
  readonly baseline?: readonly T[]
  readonly rowExample: Int32Array
  readonly space: Space
  /** The flow before the most recently closed expansion (the `x` and `x′` of `x − x′`). */
  readonly anchor?: { readonly value: readonly T[]; readonly baseline?: readonly T[] }
  /** A completeness delta per row, once a delta stage ran. */
  readonly delta?: T
  /** The model's output at the unperturbed inputs (perturbation methods; set by the `reference` stage). */
  readonly reference?: Reference
  /**
   * Each row's identity, two 32-bit words per row (see {@link rowKeysOf}): the same row gets the
   * same key whatever the chunking, so per-row random draws (noise, random path points) do not
   * depend on how the interpreter splits an expansion. Absent: the rows are the examples.
   */
  readonly rowKeys?: Uint32Array
}

/** The row keys of `flow`: its own, or the example index per row (top level). */
export const rowKeysOf = <T>(flow: Flow<T>): Uint32Array => {
  if (flow.rowKeys !== undefined) return flow.rowKeys
  const out = new Uint32Array(2 * flow.rowExample.length)
  flow.rowExample.forEach((e, r) => {
    out[2 * r] = e
  })
  return out
}

/**
 * The row keys of entries `start..end` of an expansion of `flow` (step-major: new row
 * (k − start)·R + r is entry k of row r). Every expanding stage's rows get these keys.
 */
export const childRowKeys = <T>(flow: Flow<T>, start: number, end: number): Uint32Array => {
  const parent = rowKeysOf(flow)
  const R = flow.rowExample.length
  const out = new Uint32Array(2 * R * (end - start))
  for (let k = start; k < end; k++) {
    for (let r = 0; r < R; r++) {
      const [a, b] = foldIn([parent[2 * r]!, parent[2 * r + 1]!], k)
      const q = (k - start) * R + r
      out[2 * q] = a
      out[2 * q + 1] = b
    }
  }
  return out
}

/** The random key of row `r`: `key` folded with the row's identity (chunking-independent). */
export const rowKey = (key: Key, keys: Uint32Array, r: number): Key => foldIn(foldIn(key, keys[2 * r]!), keys[2 * r + 1]!)

/**
 * F(x) as the perturbation methods see it: the raw output shape (for the batch-growth check) and
 * the target-selected values (Captum's `initial_eval`, flattened: `nOut` values, `selShape` their shape).
 */
export interface Reference {
  readonly outputShape: readonly number[]
  /** True when the output does not have one row per example (a batch-scalar "aggregate" forward). */
  readonly aggregate: boolean
  readonly selected: Float32Array
  readonly selShape: readonly number[]
  /** What the values explain when not the call's target on the output: a key naming the neuron (see `Probe`). */
  readonly of?: string
}

/** Progress of a long run: model evaluations (rows) done out of the planned total. */
export interface Progress {
  readonly done: number
  readonly total: number
}

/** How expanded rows are chunked. */
export interface ChunkPolicy {
  /** Upper bound on working memory for one chunk, in bytes. */
  readonly memoryBudgetBytes: number
  /** A hard cap on rows per model call (overrides the budget when smaller). */
  readonly maxRowsPerCall?: number
  /** Captum's `internal_batch_size`: rows per call ≈ this; steps per chunk = max(1, ⌊this / N⌋). */
  readonly internalBatchSize?: number
}

/**
 * The method-specific call data, typed per key (`T`: the backend's tensor type). A stage declares
 * the keys it reads (`StageBase.needs`, see `CallDatum` in abstract.ts); `attribute` prepares
 * exactly the declared ones from the call options and the interpreter hands a stage nothing else.
 */
export interface CallDataTypes<T> {
  /** One baseline x′ per input, laid out with one row per example (`interpolate`, `perturb`, deltas). */
  readonly baselines: readonly T[]
  /** Baselines as a distribution: B reference rows per input (`noise` drawing baselines, KernelShap over a background). */
  readonly baselineDistribution: readonly T[]
  /** Feature masks of perturbation methods, one integer tensor per input (absent: one feature per scalar). */
  readonly featureMask: readonly HostTensor[]
  /** Captum's `perturbations_per_eval` when the caller set it: an upper bound on perturbations per model call. */
  readonly perturbationsPerEval: number
  /** Call-time plug-ins (LimeBase's sampler, similarity, interpretable model) named by the spec. */
  readonly plugins: Plugins
  /**
   * Layer perturbation methods: the layer baseline a′ (Captum's `layer_baselines`), any tensor
   * broadcastable to the layer's value (a 0-d tensor for a number); absent: zeros.
   */
  readonly layerBaselines: T
  /** Layer perturbation methods: integer group ids over the layer's neurons (Captum's `layer_mask`); absent: one group per neuron. */
  readonly layerMask: HostTensor
  /**
   * Neuron methods whose pipeline selects the neuron with `{ fromCall: 'neuronFn' }`: the
   * selector function, layer [rows, …] → one scalar per row (Captum's callable `neuron_selector`).
   */
  readonly neuronFn: (layer: T) => T
  /**
   * Metrics over given explanations: precomputed attributions, one tensor per input shaped like it
   * (Captum's `attributions` argument of `infidelity`); read by the `givenAttributions` stage.
   */
  readonly attributions: readonly T[]
}

/** The keys of the call-data record. */
export type CallDataKey = keyof CallDataTypes<unknown>

/** Every key of {@link CallDataTypes}, in one list (for code that walks the record). */
export const CALL_DATA_KEYS: readonly CallDataKey[] = ['baselines', 'baselineDistribution', 'featureMask', 'perturbationsPerEval', 'plugins', 'layerBaselines', 'layerMask', 'neuronFn', 'attributions']

/** The call data of one run: any subset of the keys, each with its own type. */
export type CallData<T> = { readonly [K in CallDataKey]?: CallDataTypes<T>[K] }

/** `data` restricted to the keys in `keys` (anything else in `keys`, e.g. `floatInputs`, is not data). */
export const pickCallData = <T>(data: CallData<T>, keys: ReadonlySet<string>): CallData<T> => {
  const out: { -readonly [K in CallDataKey]?: CallDataTypes<T>[K] } = {}
  const copy = <K extends CallDataKey>(k: K): void => {
    if (keys.has(k) && data[k] !== undefined) out[k] = data[k]
  }
  CALL_DATA_KEYS.forEach(copy)
  return out
}

/**
 * A cache of values derived from a run context alone (e.g. `perturb`'s feature layout, asked for
 * by `count` and by every chunk): `memo(key, make)` calls `make` once per key and context. A
 * context made by `runInner` has its own, since its inputs and masks differ.
 */
export type Memo = <A>(key: string, make: () => A) => A

/** A fresh {@link Memo}. */
export const memoTable = (): Memo => {
  const table = new Map<string, { readonly value: unknown }>()
  return <A>(key: string, make: () => A): A => {
    const hit = table.get(key)
    if (hit !== undefined) return hit.value as A
    const value = make()
    table.set(key, { value })
    return value
  }
}

/** Everything a stage may read about the call. Owned by the interpreter; stages never mutate it. */
export interface RunContext<T> {
  readonly model: Model<T>
  readonly backend: Backend<T>
  readonly nExamples: number
  readonly inputs: readonly T[]
  /** The method-specific call data the pipeline's stages declared (see {@link CallDataTypes}). */
  readonly callData: CallData<T>
  /**
   * The additional forward arguments: a tensor with one row per example is expanded with the rows
   * (Captum tiles or interleaves it the same way); one without that batch dimension is passed unchanged.
   */
  readonly extraArgs: readonly T[]
  readonly target: Target | TargetFn<T> | TargetExpr
  /**
   * When this run's examples are rows of an enclosing call (the `apply` stage), the call example
   * each one stands for and the call's example count: data targets (per-example lists and masks)
   * are written per call example, so they are seeded through this map (`targetRows` in modelCall.ts).
   */
  readonly targetExamples?: { readonly of: Int32Array; readonly n: number }
  readonly key: Key
  readonly chunk: ChunkPolicy
  readonly signal?: AbortSignal
  /** Registers a tensor to be disposed when the current chunk (or the run) ends. */
  readonly track: <U extends T>(t: U) => U
  /** Reports model rows evaluated (the interpreter turns it into progress events). */
  readonly tick: (rows: number) => void
  /** What every model call passes on from the call (today: `allowNonFinite`). */
  readonly modelOptions: { readonly allowNonFinite?: boolean }
  /** This context's cache (see {@link Memo}). */
  readonly memo: Memo
  /**
   * Runs a whole pipeline on the rows of `flow` as its examples (the higher-order `apply` stage):
   * the inputs are the flow's points, the baselines its baseline slot, and targets, extra
   * arguments and per-example masks follow each row's example. Returns the inner result as a flow
   * over the same rows (its value, its space, and its delta when it computes one).
   */
  readonly runInner: (inner: InnerPipeline, flow: Flow<T>) => TaskEither<AttributionError, Flow<T>>
}

/** A pipeline as the `apply` stage holds it (the full type lives in spec.ts, which imports the stages). */
export interface InnerPipeline {
  readonly _tag: 'Pipeline'
  readonly name: string
  readonly stages: readonly { readonly _tag: string }[]
}
