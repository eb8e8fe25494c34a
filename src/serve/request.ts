/**
 * The body of `POST /explain` as an io-ts codec, and the conversions between the JSON tensors a
 * client sends (`{ dtype, shape, data: number[] }`) and clarus's host tensors. Every problem is an
 * issue with the dotted path of the field at fault (`inputs.0.data`), so a client can point at it.
 *
 * @category serve
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, Integer, PositiveInt, showValue } from '../core/codecs.js'
import type { InvalidSpec } from '../core/errors.js'
import { sizeOf, toFloat64, type HostTensor } from '../core/tensor.js'
import { TargetExpr } from '../core/targetExpr.js'

/**
 * One problem with a request: the dotted path of the field (`inputs.0.shape`) and what to do.
 *
 * @category serve
 * @since 0.6.0
 */
export interface RequestIssue {
  readonly path: string
  readonly message: string
}

const NonNegativeInt = new t.Type<number, number, unknown>(
  'NonNegativeInt',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c, `expected a whole number ≥ 0, got ${showValue(u)}`)),
  t.identity,
)

/**
 * A tensor in JSON: its element type, its shape (dimension 0 is the example) and its values,
 * flat and row-major.
 *
 * @category serve
 * @since 0.6.0
 */
export const JsonTensor = t.type({
  dtype: t.union([t.literal('float32'), t.literal('int32'), t.literal('int64')]),
  shape: t.readonlyArray(NonNegativeInt),
  data: t.readonlyArray(t.number),
}, 'JsonTensor')

/**
 * @category serve
 * @since 0.6.0
 */
export type JsonTensor = t.TypeOf<typeof JsonTensor>

/** The JSON forms of `Target`, plus a mask given as a JSON tensor. */
const RequestTarget = t.union([
  t.null,
  Integer,
  t.readonlyArray(Integer),
  t.readonlyArray(t.readonlyArray(Integer)),
  t.type({ index: t.readonlyArray(Integer) }),
  t.type({ mask: JsonTensor }),
  TargetExpr,
], 'Target')

const BaselineEntry = t.union([t.number, JsonTensor], 'Baseline')

/**
 * The body of `POST /explain`.
 *
 * - `model`: a model file inside the server's models folder (`"mlp.onnx"`, `"vision/model.json"`).
 * - `spec`: `{ method, options }` (a method of `clarus methods`) or a whole pipeline
 *   (`{ "_tag": "Pipeline", … }`), as in a `clarus explain --spec` file.
 * - `inputs`: one JSON tensor per model input.
 * - `target`, `baselines`, `featureMask`, `seed`, `perturbationsPerEval`, `internalBatchSize`:
 *   the call options of `attribute`, tensors in JSON form.
 * - `report`: also return a standalone HTML report.
 *
 * @category serve
 * @since 0.6.0
 */
export const ExplainRequest = t.intersection([
  t.type({
    model: t.string,
    spec: t.UnknownRecord,
    inputs: t.readonlyArray(JsonTensor),
  }),
  t.partial({
    target: RequestTarget,
    baselines: t.union([BaselineEntry, t.readonlyArray(BaselineEntry)]),
    featureMask: t.union([JsonTensor, t.readonlyArray(JsonTensor)]),
    seed: Integer,
    perturbationsPerEval: PositiveInt,
    internalBatchSize: PositiveInt,
    report: t.boolean,
  }),
], 'ExplainRequest')

/**
 * @category serve
 * @since 0.6.0
 */
export type ExplainRequest = t.TypeOf<typeof ExplainRequest>

const REQUEST_FIELDS = ['model', 'spec', 'inputs', 'target', 'baselines', 'featureMask', 'seed', 'perturbationsPerEval', 'internalBatchSize', 'report']

/**
 * An `InvalidSpec`'s issues with their paths joined by dots (`<root>` for the whole body).
 *
 * @internal
 */
export const issuesOf = (e: InvalidSpec): RequestIssue[] => e.issues.map((i) => ({ path: i.path.join('.') || '<root>', message: i.message }))

/**
 * Decodes a request body; unknown top-level fields are refused too (a typo would otherwise be ignored).
 *
 * @internal
 */
export const decodeExplainRequest = (u: unknown): E.Either<RequestIssue[], ExplainRequest> => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left([{ path: '<root>', message: `the body must be a JSON object with ${REQUEST_FIELDS.slice(0, 3).join(', ')}, got ${u === null ? 'null' : Array.isArray(u) ? 'an array' : typeof u}` }])
  }
  const unknown = Object.keys(u).filter((k) => !REQUEST_FIELDS.includes(k)).map((k) => ({ path: k, message: `not a request field (fields: ${REQUEST_FIELDS.join(', ')})` }))
  const d = decodeWith(ExplainRequest, u)
  const issues = [...(E.isLeft(d) ? issuesOf(d.left) : []), ...unknown]
  if (E.isRight(d) && d.right.inputs.length === 0) issues.push({ path: 'inputs', message: 'give at least one input tensor (one per model input)' })
  return issues.length > 0 || E.isLeft(d) ? E.left(issues) : E.right(d.right)
}

/**
 * A JSON tensor as a host tensor, or the issues with it (data length, integer values) at `path`.
 *
 * @internal
 */
export const fromJsonTensor = (j: JsonTensor, path: string): E.Either<RequestIssue[], HostTensor> => {
  const n = sizeOf(j.shape)
  if (j.data.length !== n) {
    return E.left([{ path: `${path}.data`, message: `has ${j.data.length} values but shape [${j.shape.join(', ')}] needs ${n} (give data flat, row-major)` }])
  }
  if (j.dtype === 'float32') return E.right({ dtype: 'float32', shape: j.shape, data: Float32Array.from(j.data) })
  const limit = j.dtype === 'int32' ? 2 ** 31 : 2 ** 53
  const bad = j.data.findIndex((v) => !Number.isInteger(v) || v < -limit || v >= limit)
  if (bad >= 0) {
    return E.left([{ path: `${path}.data.${bad}`, message: `${j.dtype} values must be whole numbers${j.dtype === 'int32' ? ' from -2^31 to 2^31 - 1' : ' within ±2^53'}, got ${showValue(j.data[bad])}` }])
  }
  return E.right(j.dtype === 'int32'
    ? { dtype: 'int32', shape: j.shape, data: Int32Array.from(j.data) }
    : { dtype: 'int64', shape: j.shape, data: BigInt64Array.from(j.data, (v) => BigInt(v)) })
}

/**
 * A host tensor as JSON (values as plain numbers; float32 values convert exactly).
 *
 * @internal
 */
export const toJsonTensor = (h: HostTensor): { readonly dtype: string; readonly shape: readonly number[]; readonly data: number[] } =>
  ({ dtype: h.dtype, shape: h.shape, data: Array.from(toFloat64(h)) })

/** Converts a list of JSON tensors, collecting the issues of all of them. */
const tensorsOf = (js: readonly JsonTensor[], path: string): E.Either<RequestIssue[], HostTensor[]> => {
  const out: HostTensor[] = []
  const issues: RequestIssue[] = []
  js.forEach((j, i) => {
    const h = fromJsonTensor(j, `${path}.${i}`)
    if (E.isLeft(h)) issues.push(...h.left)
    else out.push(h.right)
  })
  return issues.length > 0 ? E.left(issues) : E.right(out)
}

type TargetOption = null | number | readonly number[] | readonly (readonly number[])[] | { readonly index: readonly number[] } | { readonly mask: HostTensor } | TargetExpr

/**
 * The tensors and call options of a decoded request, in the form `attribute` takes.
 *
 * @internal
 */
export interface CallInputs {
  readonly inputs: readonly HostTensor[]
  readonly target?: TargetOption
  readonly baselines?: number | HostTensor | readonly (number | HostTensor)[]
  readonly featureMask?: readonly HostTensor[]
}

/**
 * Converts the request's tensors (inputs, baselines, feature masks, a target mask); all issues at once.
 *
 * @internal
 */
export const callInputsOf = (r: ExplainRequest): E.Either<RequestIssue[], CallInputs> => {
  const issues: RequestIssue[] = []
  const take = <A>(e: E.Either<RequestIssue[], A>): A | undefined => {
    if (E.isLeft(e)) {
      issues.push(...e.left)
      return undefined
    }
    return e.right
  }
  const inputs = take(tensorsOf(r.inputs, 'inputs'))
  const one = (b: number | JsonTensor, path: string): number | HostTensor | undefined => (typeof b === 'number' ? b : take(fromJsonTensor(b, path)))
  const baselines = r.baselines === undefined ? undefined
    : Array.isArray(r.baselines) ? (r.baselines as readonly (number | JsonTensor)[]).map((b, i) => one(b, `baselines.${i}`))
      : one(r.baselines as number | JsonTensor, 'baselines')
  const featureMask = r.featureMask === undefined ? undefined
    : take(Array.isArray(r.featureMask) ? tensorsOf(r.featureMask as readonly JsonTensor[], 'featureMask') : E.map((h: HostTensor) => [h])(fromJsonTensor(r.featureMask as JsonTensor, 'featureMask')))
  const tg = r.target
  const target: TargetOption | undefined = typeof tg === 'object' && tg !== null && 'mask' in tg ? (() => {
    const m = take(fromJsonTensor(tg.mask, 'target.mask'))
    return m === undefined ? undefined : { mask: m }
  })() : tg
  if (issues.length > 0 || inputs === undefined) return E.left(issues)
  return E.right({
    inputs,
    ...(target !== undefined ? { target } : {}),
    ...(baselines !== undefined ? { baselines: baselines as number | HostTensor | readonly (number | HostTensor)[] } : {}),
    ...(featureMask !== undefined ? { featureMask } : {}),
  })
}
