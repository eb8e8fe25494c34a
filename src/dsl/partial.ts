/**
 * Partial results of the reducing stages: what a run of consecutive chunks of an expansion
 * contributes to a reduction, as plain data (docs/architecture.md, "Partial results").
 *
 * A reducer is a monoid over chunks: `lift` turns one chunk into a {@link PartialResult},
 * `combine(a, b)` merges the partials of two adjacent runs of chunks (`a` directly before `b`),
 * and "no partial yet" (`undefined`) is the identity, handled once, here ({@link combineOptional}).
 * `combine` is associative for any bracketing of chunks kept in order, so the interpreter may fold
 * left to right (it does), and a distributed run could lift chunks on several machines, ship the
 * partials, and combine them in any tree.
 *
 * Partials live on the host, not on the backend: they must outlive the chunk that made them (a
 * backend tensor would have to be kept alive, moved between disposal scopes and, to be shipped,
 * converted anyway), and every reducer reduces its chunk before lifting it, so a partial is small:
 * at most one reduced result for the summing reducers (quadrature: one input-sized tensor per
 * chunk), and a short row per perturbed copy for the tables (`linearFit`'s samples; `diff`'s
 * removed features and output differences, spread over the input only in `finalize`).
 * Measured against the interpreter that kept partial sums on the backend (bench/partials.ts,
 * bench/RESULTS.md "Partial results on the host"): no difference beyond the machine's noise on
 * tfjs-cpu, tfjs-wasm or ONNX; in the worst case (ONNX resnet18 IntegratedGradients, one step per
 * chunk) the combines take ≈ 1 ms per chunk, ≈ 3 % of the run.
 *
 * Sums are exact (`exactSum.ts`, canonical form), so any bracketing of the same chunks gives the
 * same bits; concatenations (sample deltas, linearFit's and diff's rows) carry their span and only
 * join adjacent runs, in order.
 *
 * @category dsl
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import { addSums, canonicalSums, roundSums, type ExactSums, type SumsView } from './exactSum.js'

/** A float64 array with a shape (exact sums carry their components as a last dimension: `exactSum.ts`). */
export interface Float64Tensor {
  readonly dtype: 'float64'
  readonly shape: readonly number[]
  readonly data: Float64Array
}

/** A dense array of a partial result: a host tensor, or a float64 accumulator. */
export type PartialTensor = HostTensor | Float64Tensor

/** Plain JSON data. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/**
 * What the chunks `[start, end)` of an expansion contribute to its reduction. Plain data only
 * (typed arrays with shapes, and JSON), so it can be cloned, stored or sent between processes
 * (`structuredClone`, `v8.serialize`, `postMessage`).
 */
export interface PartialResult {
  /** First expansion entry covered. */
  readonly start: number
  /** One past the last expansion entry covered. */
  readonly end: number
  readonly tensors: readonly PartialTensor[]
  /** Structure the reducer needs to read its tensors back (e.g. whether a delta is carried). */
  readonly data?: Json
}

const bad = (message: string): AttributionError => err('BadPipeline', `partial results do not combine: ${message}`, ['stages'])

/** A float64 tensor. */
export const f64 = (shape: readonly number[], data: Float64Array): Float64Tensor => ({ dtype: 'float64', shape: [...shape], data })

/** A copy of a host tensor rounded to float32, as the backends take it. */
export const narrow = (t: PartialTensor): HostTensor<'float32'> => ({
  dtype: 'float32',
  shape: [...t.shape],
  data: t.data instanceof BigInt64Array ? Float32Array.from(t.data, Number) : new Float32Array(t.data),
})

/**
 * Exact sums (see `exactSum.ts`) of shape `shape` as a partial tensor: float64, with the sums'
 * components as one more, last dimension, in canonical form (equal sums, equal bits).
 */
export const sumsTensor = (shape: readonly number[], s: ExactSums): Float64Tensor => {
  const c = canonicalSums(s)
  return f64([...shape, c.width], c.data)
}

/**
 * A host tensor's values as exact sums of one term each (float32 and int32 values are exact in
 * float64). A float32 tensor is kept as it is, with a last dimension of 1 (not copied: host
 * tensors are never changed in place); sums made by combining are float64.
 */
export const sumsFrom = (h: HostTensor): PartialTensor =>
  h.dtype === 'float32'
    ? { dtype: 'float32', shape: [...h.shape, 1], data: h.data as Float32Array }
    : f64([...h.shape, 1], Float64Array.from(h.data as ArrayLike<number | bigint>, (v) => (Number(v) === 0 ? 0 : Number(v))))

/** The exact sums a partial tensor holds (read-only), and their shape. */
const sumsOf = (t: PartialTensor): E.Either<AttributionError, { readonly shape: readonly number[]; readonly sums: SumsView }> => {
  const width = t.shape[t.shape.length - 1]
  const ok = t.shape.length > 0 && (t.dtype === 'float64' || (t.dtype === 'float32' && width === 1))
  if (!ok) return E.left(bad(`sums are float64 with a component dimension (or float32 single terms), got ${t.dtype} [${t.shape.join(', ')}]`))
  const shape = t.shape.slice(0, -1)
  return E.right({ shape, sums: { n: sizeOf(shape), width: width!, data: t.data as Float64Array | Float32Array } })
}

/** The sums of a partial tensor, each correctly rounded to float64, and their shape. */
export const roundedSums = (t: PartialTensor): E.Either<AttributionError, { readonly shape: readonly number[]; readonly values: Float64Array }> =>
  E.map(({ shape, sums }: { readonly shape: readonly number[]; readonly sums: SumsView }) => ({ shape, values: roundSums(sums) }))(sumsOf(t))

/** The sums of a partial tensor rounded to a float32 host tensor (of the sums' shape), as the backends take it. */
export const narrowSums = (t: PartialTensor): E.Either<AttributionError, HostTensor<'float32'>> =>
  E.map(({ shape, values }: { readonly shape: readonly number[]; readonly values: Float64Array }): HostTensor<'float32'> => ({ dtype: 'float32', shape: [...shape], data: new Float32Array(values) }))(roundedSums(t))

/** The span of `a` followed by `b`; a Left unless `b` starts where `a` ends. */
export const spanOf = (a: PartialResult, b: PartialResult): E.Either<AttributionError, { readonly start: number; readonly end: number }> =>
  a.end === b.start ? E.right({ start: a.start, end: b.end }) : E.left(bad(`entries [${a.start}, ${a.end}) and [${b.start}, ${b.end}) are not adjacent in this order`))

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

/** The exact elementwise sum of two tensors of exact sums of the same shape (a new tensor). */
export const addTensors = (a: PartialTensor, b: PartialTensor): E.Either<AttributionError, Float64Tensor> => {
  const sa = sumsOf(a)
  const sb = sumsOf(b)
  if (E.isLeft(sa)) return sa
  if (E.isLeft(sb)) return sb
  if (!sameShape(sa.right.shape, sb.right.shape)) return E.left(bad(`sums of shapes [${sa.right.shape.join(', ')}] and [${sb.right.shape.join(', ')}] differ`))
  return E.right(sumsTensor(sa.right.shape, addSums(sa.right.sums, sb.right.sums)))
}

const stacked = <A extends Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array>(x: A, y: A, make: (n: number) => A): A => {
  const out = make(x.length + y.length)
  out.set(x as never, 0)
  out.set(y as never, x.length)
  return out
}

/** The rows of `a`, then those of `b` (dimension 0), for two arrays of the same dtype and row shape. */
export const concatTensors = (a: PartialTensor, b: PartialTensor): E.Either<AttributionError, PartialTensor> => {
  if (a.shape.length === 0 || b.shape.length === 0 || !sameShape(a.shape.slice(1), b.shape.slice(1))) {
    return E.left(bad(`rows of shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not stack`))
  }
  const shape = [a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)]
  if (a.dtype === 'float64' && b.dtype === 'float64') return E.right(f64(shape, stacked(a.data, b.data, (n) => new Float64Array(n))))
  if (a.dtype === 'float32' && b.dtype === 'float32') return E.right({ dtype: 'float32', shape, data: stacked(a.data, b.data, (n) => new Float32Array(n)) })
  if (a.dtype === 'int32' && b.dtype === 'int32') return E.right({ dtype: 'int32', shape, data: stacked(a.data, b.data, (n) => new Int32Array(n)) })
  if (a.dtype === 'int64' && b.dtype === 'int64') return E.right({ dtype: 'int64', shape, data: stacked(a.data, b.data, (n) => new BigInt64Array(n)) })
  if (a.dtype === 'bool' && b.dtype === 'bool') return E.right({ dtype: 'bool', shape, data: stacked(a.data, b.data, (n) => new Uint8Array(n)) })
  return E.left(bad(`dtypes ${a.dtype} and ${b.dtype} differ`))
}

/** Pairs `a.tensors[i]` with `b.tensors[i]` through `f` (the same number of tensors on both sides). */
export const zipTensors = (
  a: PartialResult,
  b: PartialResult,
  f: (x: PartialTensor, y: PartialTensor, i: number) => E.Either<AttributionError, PartialTensor>,
): E.Either<AttributionError, readonly PartialTensor[]> => {
  if (a.tensors.length !== b.tensors.length) return E.left(bad(`${a.tensors.length} and ${b.tensors.length} tensors`))
  const out: PartialTensor[] = []
  for (let i = 0; i < a.tensors.length; i++) {
    const r = f(a.tensors[i]!, b.tensors[i]!, i)
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

/** The combine of a reducer whose partials only add (every tensor holds exact sums). */
export const combineBySum = (a: PartialResult, b: PartialResult): E.Either<AttributionError, PartialResult> => {
  const span = spanOf(a, b)
  if (E.isLeft(span)) return span
  return E.map((tensors: readonly PartialTensor[]): PartialResult => ({ ...span.right, tensors, ...(a.data !== undefined ? { data: a.data } : {}) }))(
    zipTensors(a, b, addTensors),
  )
}

/** The combine of a reducer whose partials only stack rows (every tensor, `a`'s rows first). */
export const combineByConcat = (a: PartialResult, b: PartialResult): E.Either<AttributionError, PartialResult> => {
  const span = spanOf(a, b)
  if (E.isLeft(span)) return span
  return E.map((tensors: readonly PartialTensor[]): PartialResult => ({ ...span.right, tensors, ...(a.data !== undefined ? { data: a.data } : {}) }))(
    zipTensors(a, b, concatTensors),
  )
}

/**
 * `combine` extended to the empty partial (`undefined`), the identity: the one place the identity
 * is handled, for the interpreter and for anything else that merges partials.
 */
export const combineOptional = <P>(
  combine: (p: P, a: PartialResult, b: PartialResult) => E.Either<AttributionError, PartialResult>,
  p: P,
  a: PartialResult | undefined,
  b: PartialResult | undefined,
): E.Either<AttributionError, PartialResult | undefined> => (a === undefined ? E.right(b) : b === undefined ? E.right(a) : combine(p, a, b))
