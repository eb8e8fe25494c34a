/**
 * The one contract every backend implements. A {@link Backend} supplies tensor creation and the
 * small set of tensor ops the pipeline stages need; a {@link Model} (made by a backend) supplies
 * forward passes and vector-Jacobian products. Stages and the interpreter are written only
 * against these two interfaces, so every pipeline runs unchanged on tfjs and ONNX Runtime.
 *
 * @category core
 * @since 0.1.0
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type { AttributionError } from './errors.js'
import type { RuleSet } from './ruleSet.js'
import type { DType, HostTensor } from './tensor.js'

/** A model input or output as the model declares it; `null` or a string marks a symbolic dim. */
export interface TensorInfo {
  readonly name: string
  readonly dtype: DType
  readonly shape: readonly (number | string | null)[]
}

/**
 * How a layer tensor lays out its channels: `NCHW` = channels on dim 1 (channels first, whatever
 * the number of spatial dims: NCW and NCDHW count too), `NHWC` = channels on the last dim
 * (channels last), `other` = not an image-like tensor, or unknown.
 */
export type Layout = 'NCHW' | 'NHWC' | 'other'

/**
 * What a backend knows about one layer (an internal tensor of {@link ModelSignature.layers}):
 * - `name`: the tensor's name, as `layers` lists it (what layer methods take);
 * - `opType`: what computes it: the ONNX op type of the producing node (`Conv`, `Relu`, …), the
 *   tfjs layer class (`Conv2D`, `Dense`, …) or graph-node op (`Conv2D`, `Relu`, …); `tap` for a
 *   tapped function's tensors, whose producer is unknown;
 * - `dtype`: the element type, or null when unknown;
 * - `shape`: the per-example dims (the batch dim left out), a string or null for a symbolic or
 *   unknown dim; null when even the rank is unknown;
 * - `layout`: where its channels are (see {@link Layout});
 * - `inputs`: the non-constant tensors its producer reads, in the producer's argument order (weights,
 *   initializers and constants left out): other layers, or model inputs. "The layer's input" of
 *   Captum's `attribute_to_layer_input` is resolved through it (`layerInputOf`).
 */
export interface LayerInfo {
  readonly name: string
  readonly opType: string
  readonly dtype: DType | null
  readonly shape: readonly (number | string | null)[] | null
  readonly layout: Layout
  readonly inputs: readonly string[]
}

/** What a model takes and returns, plus the internal tensors it can expose as layers. */
export interface ModelSignature {
  readonly inputs: readonly TensorInfo[]
  readonly outputs: readonly TensorInfo[]
  /**
   * Names of internal tensors that can be captured, differentiated or replaced ("layers"), in graph
   * order: activations only, i.e. tensors computed from the inputs (weights are `parameters`).
   */
  readonly layers: readonly string[]
  /**
   * One {@link LayerInfo} per entry of `layers`, same order. Kept next to `layers` rather than
   * replacing it, so the many places that only need names (and signatures written by hand, e.g.
   * `fromTfjs(fn, { signature })`) are unchanged; a signature without it is read as name-only
   * entries (opType `unknown`, layout `other`) by `findLayers` and `layerInputOf`.
   */
  readonly layerInfo?: readonly LayerInfo[]
  /**
   * The model's trainable parameters (ONNX: the float initializers some node differentiates, then
   * the float weights of `Constant` nodes, where exporters such as paddle2onnx keep them;
   * tfjs: the tensors given as `fromTfjs(model, { parameters })`; absent otherwise). A
   * `{ kind: 'param', name }` entry of a `wrt` list names one of them. Used by training-data
   * influence (TracIn).
   */
  readonly parameters?: readonly ParameterInfo[]
}

/**
 * How one example's gradient w.r.t. a parameter follows from tensors of the same batched
 * backward pass, when every row of the batch is one example (the "sample-wise trick"):
 * - `outer`: the parameter is the weight of a fully-connected op, `output = input · Wᵀ` (or
 *   `input · W`): row i's gradient is `scale · gᵢ ⊗ aᵢ` (`outputFirst`, shape [out, in]) or
 *   `scale · aᵢ ⊗ gᵢ` (shape [in, out]), gᵢ = row i of the gradient at `output`, aᵢ = row i of
 *   `input` (a model input or a layer);
 * - `rows`: the parameter is a bias added to every row of `output`: row i's gradient is `scale · gᵢ`.
 * Both `output` and `input` are rank-2 [rows, features] tensors; callers check the shapes.
 */
export type PerExampleGrad =
  | { readonly kind: 'outer'; readonly output: string; readonly input: string; readonly outputFirst: boolean; readonly scale: number }
  | { readonly kind: 'rows'; readonly output: string; readonly scale: number }

/** One trainable parameter of a model (see {@link ModelSignature.parameters}). */
export interface ParameterInfo {
  readonly name: string
  readonly dtype: DType
  readonly shape: readonly number[]
  /** Set when per-example gradients of this parameter factorise (see {@link PerExampleGrad}). */
  readonly perExample?: PerExampleGrad
}

/**
 * How the explained scalar is picked from the seeded tensor (the model output unless
 * {@link VjpOptions.of} says otherwise), as the backend sees it.
 * - `linear`: the scalar per row is Σ over non-batch dims of `seeded ⊙ seed`; `seed(shape)` builds
 *   the seed (a one-hot for an index target, a mask for a region) once the seeded tensor's shape
 *   is known: it always receives the shape of the tensor being seeded, whichever that is. The
 *   gradient of that scalar is the VJP with the seed as cotangent.
 * - `fn`: an arbitrary reducer written in the backend's own tensor language (tfjs only): it maps
 *   the seeded tensor to one scalar per row.
 */
export type Selector<T> =
  | { readonly kind: 'linear'; readonly seed: (outputShape: readonly number[]) => Either<AttributionError, HostTensor> }
  | { readonly kind: 'fn'; readonly fn: (output: T) => T }

/**
 * Differentiate w.r.t. the first `count` model inputs (default: all; they must be float32), or
 * w.r.t. a named internal tensor. Inputs after `count` (additional forward arguments) are held
 * constant. For several tensors at once (inputs and layers mixed), give a list of
 * {@link WrtEntry} instead.
 */
export type Wrt = { readonly kind: 'inputs'; readonly count?: number } | { readonly kind: 'layer'; readonly name: string }

/**
 * One tensor a gradient is taken w.r.t., in a `wrt` list:
 * - `input`: the `index`-th tensor passed to `vjp` (0-based; it must be float32);
 * - `layer`: the named internal tensor (one of `signature.layers`). Its gradient is the total
 *   derivative there: every path from it to the seeded tensor counts, and an `input` entry in the
 *   same list still gets its full gradient (paths through the layer included);
 * - `param`: the named model parameter (one of `signature.parameters`): the gradient of the
 *   summed selected value w.r.t. that weight, shaped like it (backends without parameter
 *   gradients answer `Unsupported`).
 */
export type WrtEntry =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'layer'; readonly name: string }
  | { readonly kind: 'param'; readonly name: string }

/**
 * What `vjp` seeds, i.e. which tensor the selector reads. Left out: the model's explained output.
 * - `output`: the model's `index`-th output, in the model's own output order (ONNX: the graph
 *   outputs of the file, whichever one `signature.outputs` names as explained; tfjs: a
 *   LayersModel's `outputs` or a GraphModel's `outputNodes`). A model kind that returns one tensor
 *   (a tfjs function) has only index 0; a larger index is `Unsupported`.
 * - `tensor`: a named internal tensor (one of `signature.layers`), e.g. one neuron's gradient is
 *   this with a one-hot seed.
 */
export type VjpOf = { readonly kind: 'output'; readonly index: number } | { readonly kind: 'tensor'; readonly name: string }

/** Whether `wrt` is a list of {@link WrtEntry} (rather than the single {@link Wrt} form). */
export const isWrtList = (wrt: Wrt | readonly WrtEntry[]): wrt is readonly WrtEntry[] => Array.isArray(wrt)

export interface ForwardOptions<T> {
  /** Internal tensors (layers) to return next to the output. */
  readonly capture?: readonly string[]
  /** Internal tensors to replace by these values (the graph is cut there). */
  readonly inject?: Readonly<Record<string, T>>
  /** Return NaN/Infinity in outputs instead of a `NonFinite` error (the call's `allowNonFinite`). */
  readonly allowNonFinite?: boolean
}

export interface ForwardResult<T> {
  readonly output: T
  readonly captured: Readonly<Record<string, T>>
}

export interface VjpOptions<T> extends ForwardOptions<T> {
  /**
   * What to differentiate w.r.t.: a {@link Wrt} (the attributed inputs, or one layer), or a list
   * of {@link WrtEntry}: one gradient per entry, in the order given, all from one backward pass.
   * An entry that names no input or layer is a typed error whose path is `['wrt', <position>]`.
   */
  readonly wrt: Wrt | readonly WrtEntry[]
  /** What is seeded (default: the explained output); see {@link VjpOf}. Errors have path `['of', …]`. */
  readonly of?: VjpOf
  /**
   * Modified-backprop rules to use instead of the ordinary gradients (default: none); see
   * {@link RuleSet}. Nodes on the gradient path that the rule set leaves without a rule (and that are
   * not pass-through ops) are an `UnsupportedOps` error listing all of them, path `['ruleSet']`.
   */
  readonly ruleSet?: RuleSet
  /**
   * Where the rows' references are, for rules that compare each row with its reference (DeepLift's
   * `rescale`): `'halves'` means the batch has 2n rows and row n + i is the reference of row i
   * (both halves are evaluated in the same pass, as Captum does). Default: none; a rule that needs
   * references is then a typed error before anything runs (ONNX lists the nodes in an
   * `UnsupportedOps` at `['ruleSet']`; tfjs answers `Unsupported` at `['referenceRows']`).
   */
  readonly referenceRows?: 'halves'
}

export interface VjpResult<T> {
  /** The model's explained output for every row, whatever was seeded (the caller disposes it). */
  readonly output: T
  /** The selected scalar per row of the seeded tensor, shape [rows]. */
  readonly value: T
  /**
   * Gradients of Σ_rows value: w.r.t. each attributed input (or the one layer tensor) for the
   * {@link Wrt} form, or one per {@link WrtEntry} in list order (each with that tensor's shape).
   */
  readonly grads: readonly T[]
  readonly captured: Readonly<Record<string, T>>
}

/**
 * A model bound to a backend. `inputs` are the attributed inputs followed by any additional
 * forward arguments, in the model's positional order; all have the same number of rows.
 */
export interface Model<T> {
  readonly backend: Backend<T>
  readonly signature: ModelSignature
  /** Rough bytes of working memory one example row costs in a forward+backward pass. */
  readonly bytesPerRow?: (inputs: readonly T[]) => number
  /**
   * The chunk budget (bytes of working memory per model call) for calls that give none, when this
   * model's device wants another than the interpreter's default (a GPU: fewer, larger calls).
   */
  readonly memoryBudgetBytes?: number
  forward(inputs: readonly T[], options?: ForwardOptions<T>): TaskEither<AttributionError, ForwardResult<T>>
  /** One forward and backward pass: the selected scalar per row of the seeded tensor and its gradients. */
  vjp(inputs: readonly T[], selector: Selector<T>, options: VjpOptions<T>): TaskEither<AttributionError, VjpResult<T>>
  /**
   * Optional, for causal language models (`input_ids` [N, L] → logits [N, L, vocab]): for the same
   * inputs, log softmax(logits[n, p])[ids[n, p + 1]] as float32 [N, L] (the last position: ignore it),
   * computed where the model runs so the logits never reach the host. LLM scoring uses it when
   * present and falls back to the logits otherwise; the ONNX and tfjs backends provide it.
   */
  nextTokenLogProbs?(inputs: readonly T[]): TaskEither<AttributionError, T>
  /** Releases what the model holds (sessions, weights it owns). */
  dispose(): Promise<void>
}

/**
 * Tensor creation and the few ops stages need. All binary ops broadcast like NumPy. Every op
 * returns a new tensor the caller owns; inputs are never mutated.
 */
export interface Backend<T> {
  readonly name: string
  isTensor(u: unknown): u is T
  fromHost(h: HostTensor): T
  toHost(t: T): Promise<HostTensor>
  shapeOf(t: T): readonly number[]
  dtypeOf(t: T): DType
  dispose(t: T): void

  fill(shape: readonly number[], value: number, dtype?: DType): T
  cast(a: T, dtype: DType): T
  add(a: T, b: T): T
  sub(a: T, b: T): T
  mul(a: T, b: T): T
  div(a: T, b: T): T
  scale(a: T, s: number): T
  abs(a: T): T
  square(a: T): T
  sqrt(a: T): T
  /** Sum over `axes` (all axes when empty), dropping them unless `keepDims`. */
  sum(a: T, axes: readonly number[], keepDims?: boolean): T
  /** Elementwise maximum of two tensors. */
  maximum(a: T, b: T): T
  concat(ts: readonly T[], axis: number): T
  slice(a: T, begin: readonly number[], size: readonly number[]): T
  reshape(a: T, shape: readonly number[]): T
  /** Rows of `a` (axis 0) picked by `rows`, in that order; repeats allowed. */
  gatherRows(a: T, rows: Int32Array): T
  /**
   * Runs `f` (user code such as a target function) and disposes every tensor it created except
   * its result. Backends without tensor lifetimes may leave it out.
   */
  readonly tidy?: <A extends T>(f: () => A) => A
}

/** Disposes every tensor in a list or record (null-safe). */
export const disposeAll = <T>(backend: Backend<T>, ts: Iterable<T | undefined>): void => {
  for (const t of ts) if (t !== undefined) backend.dispose(t)
}
