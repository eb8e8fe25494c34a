/**
 * io-ts codecs for the Captum reference fixtures (`clarus-captum-reference/1`): the directory
 * index (`index.json`) and one case file (`cases/<model>/<id>.json`). The codecs check the JSON
 * structure only; {@link loadCase} (in `load.ts`) turns every tensor into a {@link HostTensor}.
 *
 * The codecs are liberal where the files legitimately vary (optional metadata, open `args` and
 * `constructor` records, extra keys) and strict where a consumer relies on the value (dtypes,
 * shapes, nested data that must match its shape, binary extents).
 *
 * @category conformance
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, HostTensorCodec } from '../core/codecs.js'
import { invalidSpec, type InvalidSpec } from '../core/errors.js'
import { Target } from '../core/target.js'
import { sizeOf } from '../core/tensor.js'

/** The format tag every case file and index carries. */
export const REFERENCE_FORMAT = 'clarus-captum-reference/1'
/** The format tag of a model's weight JSON. */
export const WEIGHTS_FORMAT = 'clarus-captum-reference/1/weights'

// ---------------------------------------------------------------------------------------------
// Scalars

/** An integer ≥ 0 (a dimension, an offset, a count). */
export const NonNegativeInt = t.refinement(t.Int, (n) => n >= 0, 'NonNegativeInt')
export type NonNegativeInt = t.TypeOf<typeof NonNegativeInt>

/** Element types the fixtures may use; they are exactly the host tensor dtypes. */
export const FixtureDType = t.keyof({ float32: null, int32: null, int64: null, bool: null }, 'FixtureDType')
export type FixtureDType = t.TypeOf<typeof FixtureDType>

/** A tolerance for `|actual − expected| ≤ abs + rel·|expected|`; `note` explains unusual ones. */
export const Tolerance = t.intersection(
  [t.type({ abs: t.number, rel: t.number }), t.partial({ note: t.string })],
  'Tolerance',
)
export type Tolerance = t.TypeOf<typeof Tolerance>

/** A model dimension in the index: a size or a symbolic name such as `"batch"`. */
export const SymbolicDim = t.union([NonNegativeInt, t.string], 'SymbolicDim')
export type SymbolicDim = t.TypeOf<typeof SymbolicDim>

// ---------------------------------------------------------------------------------------------
// Tensors

/** Nested row-major data as written in the JSON (`number | NestedData[]`, leaves checked per dtype). */
export type NestedData = unknown

const tensorHead = t.intersection([
  t.type({ dtype: FixtureDType, shape: t.array(NonNegativeInt) }),
  t.partial({ name: t.string }),
])

/** Why a JSON leaf is not a valid element of `dtype`, or `undefined` when it is. */
const leafProblem = (dtype: FixtureDType, v: unknown): string | undefined => {
  switch (dtype) {
    case 'float32':
      // Python's json writes NaN/Infinity as bare tokens (invalid JSON); writers that quote them are accepted.
      return typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity'
        ? undefined
        : 'expected a number'
    case 'int32':
    case 'int64':
      if (typeof v === 'number') return Number.isInteger(v) ? undefined : 'expected an integer'
      // int64 values beyond 2^53 can only survive JSON as strings.
      if (dtype === 'int64' && typeof v === 'string' && /^-?\d+$/.test(v)) return undefined
      return 'expected an integer'
    case 'bool':
      return typeof v === 'boolean' || v === 0 || v === 1 ? undefined : 'expected true, false, 0 or 1'
  }
}

/** Context type of one nesting level; an array type, so error paths keep the element indices. */
const nestedLevel = t.array(t.unknown)

/**
 * Walks nested `data` against `shape`, reporting the first structural problems (at most a few, so a
 * badly broken tensor does not produce thousands of issues).
 */
const checkNested = (
  data: unknown,
  shape: readonly number[],
  dtype: FixtureDType,
  c: t.Context,
): t.Errors => {
  const errors: t.ValidationError[] = []
  const limit = 5
  const walk = (v: unknown, dim: number, ctx: t.Context): void => {
    if (errors.length >= limit) return
    if (dim === shape.length) {
      const problem = leafProblem(dtype, v)
      if (problem !== undefined) errors.push({ value: v, context: ctx, message: `${problem} for a ${dtype} element, got ${JSON.stringify(v)}` })
      return
    }
    const want = shape[dim] ?? 0
    if (!Array.isArray(v) || v.length !== want) {
      const got = Array.isArray(v) ? `an array of length ${v.length}` : JSON.stringify(v)?.slice(0, 40) ?? String(v)
      errors.push({ value: v, context: ctx, message: `expected an array of length ${want} (dimension ${dim} of shape [${shape.join(', ')}]), got ${got}` })
      return
    }
    v.forEach((x, i) => walk(x, dim + 1, [...ctx, { key: String(i), type: dim + 1 < shape.length ? nestedLevel : t.unknown, actual: x }]))
  }
  walk(data, 0, [...c, { key: 'data', type: shape.length > 0 ? nestedLevel : t.unknown, actual: data }])
  return errors
}

/** A tensor written inline: `{dtype, shape, data}` with `data` nested row-major arrays. */
export interface InlineTensor {
  readonly dtype: FixtureDType
  readonly shape: readonly number[]
  readonly data: NestedData
  readonly name?: string
}
export const InlineTensor = new t.Type<InlineTensor, InlineTensor, unknown>(
  'InlineTensor',
  (u): u is InlineTensor => E.isRight(InlineTensor.decode(u)),
  (u, c) => {
    const head = tensorHead.validate(u, c)
    if (E.isLeft(head)) return head
    if (!('data' in (u as object))) return t.failure(u, c, 'expected an inline tensor {dtype, shape, data}')
    const data = (u as { data: unknown }).data
    const errors = checkNested(data, head.right.shape, head.right.dtype, c)
    return errors.length > 0 ? E.left(errors) : t.success({ ...head.right, data })
  },
  t.identity,
)

/** A tensor stored in a binary file next to the case JSON; `length` counts elements, little-endian. */
export interface BinaryTensor {
  readonly dtype: FixtureDType
  readonly shape: readonly number[]
  readonly file: string
  readonly byte_offset: number
  readonly length: number
  readonly name?: string
}
const binaryFields = t.intersection([
  tensorHead,
  t.type({ file: t.string, byte_offset: NonNegativeInt, length: NonNegativeInt }),
])
export const BinaryTensor = new t.Type<BinaryTensor, BinaryTensor, unknown>(
  'BinaryTensor',
  (u): u is BinaryTensor => E.isRight(BinaryTensor.decode(u)),
  (u, c) => {
    const r = binaryFields.validate(u, c)
    if (E.isLeft(r)) return r
    const n = sizeOf(r.right.shape)
    return r.right.length === n
      ? t.success(r.right)
      : t.failure(r.right.length, [...c, { key: 'length', type: NonNegativeInt, actual: r.right.length }],
          `length ${r.right.length} does not match shape [${r.right.shape.join(', ')}] (${n} elements)`)
  },
  t.identity,
)

/** Either tensor form. Which one is decided by the presence of `file`, so errors name the right fields. */
export type TensorJson = InlineTensor | BinaryTensor
export const TensorJson = new t.Type<TensorJson, TensorJson, unknown>(
  'TensorJson',
  (u): u is TensorJson => E.isRight(TensorJson.decode(u)),
  (u, c) =>
    typeof u === 'object' && u !== null && 'file' in u && !('data' in u)
      ? BinaryTensor.validate(u, c)
      : InlineTensor.validate(u, c),
  t.identity,
)

/** True when `u` looks like a fixture tensor (used to find tensors inside the open `args` record). */
export const looksLikeTensor = (u: unknown): boolean =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && 'dtype' in u && 'shape' in u && ('data' in u || 'file' in u)

// ---------------------------------------------------------------------------------------------
// index.json

/** One named model input or output with its dtype and (possibly symbolic) shape. */
export const TensorInfo = t.type({ name: t.string, dtype: t.string, shape: t.array(SymbolicDim) }, 'TensorInfo')
export type TensorInfo = t.TypeOf<typeof TensorInfo>

/** Where a torch module's output lives in the ONNX graph (index form; only `onnx_output` is always known). */
export const LayerInfo = t.intersection(
  [
    t.type({ onnx_output: t.string }),
    t.partial({
      onnx_input: t.string,
      op_types_in_scope: t.array(t.string),
      output_shape_for_example_batch: t.array(NonNegativeInt),
      verified_output: t.boolean,
      verified_input: t.boolean,
      numeric_matches_output: t.array(t.string),
      numeric_matches_input: t.array(t.string),
      max_abs_diff_vs_torch: t.number,
    }),
  ],
  'LayerInfo',
)
export type LayerInfo = t.TypeOf<typeof LayerInfo>

/** One model of the index: files, signature, op types and the layer map. */
export const ModelEntry = t.intersection(
  [
    t.type({
      onnx: t.string,
      inputs: t.array(TensorInfo),
      outputs: t.array(TensorInfo),
    }),
    t.partial({
      description: t.string,
      /** `null` where no weight JSON ships (resnet18). */
      weights: t.union([t.string, t.null]),
      opset: t.Int,
      op_types: t.record(t.string, NonNegativeInt),
      layers: t.record(t.string, LayerInfo),
      file_bytes: NonNegativeInt,
      onnxruntime_check: t.UnknownRecord,
    }),
  ],
  'ModelEntry',
)
export type ModelEntry = t.TypeOf<typeof ModelEntry>

/** Captum family of a case. */
export const CaseFamily = t.keyof({ primary: null, layer: null, neuron: null, metric: null }, 'CaseFamily')
export type CaseFamily = t.TypeOf<typeof CaseFamily>

/** How `expected` relates to Captum's output: exactly, as a sampling limit, or as a Monte-Carlo estimate. */
export const CaseKind = t.keyof({ exact: null, limit: null, monte_carlo: null }, 'CaseKind')
export type CaseKind = t.TypeOf<typeof CaseKind>

/** One case of the index; `layer` is the attributed ONNX tensor (layer and neuron cases) or null. */
export const CaseEntry = t.intersection(
  [
    t.type({
      id: t.string,
      file: t.string,
      model: t.string,
      algorithm: t.string,
      family: CaseFamily,
      kind: CaseKind,
      layer: t.union([t.string, t.null]),
    }),
    t.partial({ binary: t.boolean }),
  ],
  'CaseEntry',
)
export type CaseEntry = t.TypeOf<typeof CaseEntry>

/** A Captum call that raises, recorded instead of a case. */
export const FailureEntry = t.intersection(
  [
    t.type({ id: t.string, model: t.string, algorithm: t.string, error: t.string }),
    t.partial({ captum_call: t.string, expected_error: t.boolean, notes: t.string }),
  ],
  'FailureEntry',
)
export type FailureEntry = t.TypeOf<typeof FailureEntry>

/** `index.json`. */
export const ReferenceIndex = t.intersection(
  [
    t.type({
      format: t.literal(REFERENCE_FORMAT),
      models: t.record(t.string, ModelEntry),
      cases: t.array(CaseEntry),
    }),
    t.partial({
      description: t.string,
      environment: t.UnknownRecord,
      tolerance_rule: t.string,
      default_tolerance: Tolerance,
      failures: t.array(FailureEntry),
      kinds: t.record(t.string, t.string),
      onnxruntime_forward_max_abs_diff_vs_torch: t.record(t.string, t.number),
    }),
  ],
  'ReferenceIndex',
)
export type ReferenceIndex = t.TypeOf<typeof ReferenceIndex>

// ---------------------------------------------------------------------------------------------
// Case files

/** The torch module a layer/neuron case attributes to, and its ONNX tensors. */
export const LayerRef = t.intersection(
  [
    t.type({ onnx_output: t.string, attributed_tensor: t.string }),
    t.partial({ torch_module: t.string, onnx_input: t.union([t.string, t.null]) }),
  ],
  'LayerRef',
)
export type LayerRef = t.TypeOf<typeof LayerRef>

/**
 * The expected result. `attribution` is one tensor in every file of this directory; a list is
 * accepted too because Captum returns a tuple for multi-input models and multi-layer methods.
 */
export const Expected = t.intersection(
  [
    t.type({ attribution: t.union([TensorJson, t.array(TensorJson)]) }),
    t.partial({ convergence_delta: TensorJson }),
  ],
  'Expected',
)
export type Expected = t.TypeOf<typeof Expected>

/** The explanation a metric case evaluates (`infidelity`, `sensitivity_max`). */
export const Explanation = t.intersection(
  [t.type({ algorithm: t.string }), t.partial({ args: t.UnknownRecord })],
  'Explanation',
)
export type Explanation = t.TypeOf<typeof Explanation>

/** One case file. `args` and `constructor` stay open records: Captum's keyword names, verbatim. */
export const CaseFile = t.intersection(
  [
    t.type({
      format: t.literal(REFERENCE_FORMAT),
      id: t.string,
      model: t.string,
      algorithm: t.string,
      family: CaseFamily,
      kind: CaseKind,
      inputs: t.array(TensorJson),
      args: t.UnknownRecord,
      expected: Expected,
      tolerance: Tolerance,
    }),
    t.partial({
      model_file: t.string,
      weights_file: t.string,
      constructor: t.UnknownRecord,
      layer: t.union([LayerRef, t.null]),
      model_output: TensorJson,
      expected_shapes: t.record(t.string, t.array(NonNegativeInt)),
      delta_tolerance: Tolerance,
      float64_check: t.record(t.string, t.number),
      captum_call: t.string,
      notes: t.string,
      environment: t.UnknownRecord,
      explanation: Explanation,
      // wave 2: the area a case belongs to (absent = attribution) and the fixture wave
      area: t.keyof({ llm: null, robust: null, concept: null, influence: null }),
      wave: t.number,
      // kind = limit
      limit_method: t.string,
      limit_uncertainty: t.number,
      sampling_tolerance: Tolerance,
      captum_sample: TensorJson,
      captum_sample_max_abs_error: t.number,
      captum_sample_note: t.string,
      // kind = monte_carlo
      standard_error: TensorJson,
      per_sample_std: TensorJson,
    }),
  ],
  'CaseFile',
)
export type CaseFile = t.TypeOf<typeof CaseFile>

// ---------------------------------------------------------------------------------------------
// Typed reads of the open `args` record (after loading, tensors in it are host tensors)

/** A tensor argument of a loaded case (`feature_mask`, `perturbation`, `attributions`, …). */
export const ArgTensor = HostTensorCodec

/** `baselines`: `null` (zeros), one scalar for every element, or a tensor (see the README). */
export const ArgBaselines = t.union([t.null, t.number, HostTensorCodec], 'ArgBaselines')
export type ArgBaselines = t.TypeOf<typeof ArgBaselines>

/** `target`: `null`, an int, or one int per example (core's `Target` accepts every Captum form). */
export const ArgTarget = Target

/** An int or a list of ints (`sliding_window_shapes`, `strides`, `neuron_selector`). */
export const IntOrInts = t.union([t.Int, t.array(t.Int)], 'IntOrInts')
export type IntOrInts = t.TypeOf<typeof IntOrInts>

/**
 * Reads `args[name]` with `codec`. A missing key gives `undefined` (Captum's default applies); a
 * present key of the wrong type gives an {@link InvalidSpec} whose path is `[...root, 'args', name]`.
 */
export const readArg = <A>(
  args: Readonly<Record<string, unknown>>,
  name: string,
  codec: t.Decoder<unknown, A>,
  root: readonly string[] = [],
): E.Either<InvalidSpec, A | undefined> =>
  Object.prototype.hasOwnProperty.call(args, name) ? decodeWith(codec, args[name], [...root, 'args', name]) : E.right(undefined)

/** Like {@link readArg}, but a missing key is an error too. */
export const requireArg = <A>(
  args: Readonly<Record<string, unknown>>,
  name: string,
  codec: t.Decoder<unknown, A>,
  root: readonly string[] = [],
): E.Either<InvalidSpec, A> =>
  Object.prototype.hasOwnProperty.call(args, name)
    ? decodeWith(codec, args[name], [...root, 'args', name])
    : E.left(invalidSpec([{ path: [...root, 'args', name], message: `missing argument ${name}` }]))
