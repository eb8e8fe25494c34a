/**
 * Captum's call prologue, written once: accept inputs as one tensor or a list (host tensors or
 * the backend's own), lay baselines out with one row per example (scalar, per-input scalar or
 * tensor, batch-1 broadcast, per-example, or shaped like one example), and remember which
 * tensors clarus created so they are disposed after the call.
 *
 * @category api
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Backend, ModelSignature } from '../core/backend.js'
import { hostTensorProblem, isHostTensor } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import type { DType, HostTensor } from '../core/tensor.js'

/** A tensor as a user may pass it: a host tensor or the backend's own tensor type. */
export type TensorLike<T> = T | HostTensor

/** One baseline per input: a number (every element), or a tensor shaped like the input, like one example, or with a batch of 1. */
export type Baseline<T> = number | TensorLike<T>

/** NumPy broadcasting of shape `from` to exactly `to`. */
const broadcastable = (from: readonly number[], to: readonly number[]): boolean =>
  from.length <= to.length && from.every((d, k) => d === 1 || d === to[to.length - from.length + k])

/** Tensors created for one call, disposed when it ends. */
export interface Owned<T> {
  readonly list: T[]
}

export const toBackend = <T>(backend: Backend<T>, owned: Owned<T>, x: TensorLike<T>): T => {
  if (backend.isTensor(x)) return x
  if (isHostTensor(x)) {
    const t = backend.fromHost(x)
    owned.list.push(t)
    return t
  }
  throw new TypeError('not a tensor')
}

/**
 * The error for a value that should have been a tensor: says which field (`inputs.0`), what is
 * wrong with it (float64 data, a length that disagrees with the shape, …) and what to do.
 */
const notATensor = <T>(backend: Backend<T>, u: unknown, path: readonly string[], tag: 'ShapeMismatch' | 'BadBaseline' = 'ShapeMismatch'): AttributionError => {
  const field = path.join('.')
  const looksLikeHost = typeof u === 'object' && u !== null && ('dtype' in u || 'data' in u)
  const problem = hostTensorProblem(u)
  if (looksLikeHost && problem !== undefined) return err(problem.tag, `${field}: ${problem.message}`, path)
  return err(tag, `${field} is not a tensor: pass ${tag === 'BadBaseline' ? 'a number, ' : ''}a ${backend.name} tensor or a host tensor {dtype, shape, data}`, path)
}

/** Inputs as a list of backend tensors, or a typed error naming the bad entry. */
export const prepareInputs = <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly unknown[],
  what: 'inputs' | 'additionalForwardArgs' | 'attributions',
): E.Either<AttributionError, T[]> => {
  const out: T[] = []
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]
    if (!backend.isTensor(x) && !isHostTensor(x)) return E.left(notATensor(backend, x, [what, String(i)]))
    out.push(toBackend(backend, owned, x as TensorLike<T>))
  }
  return E.right(out)
}

const isIntegral = (d: DType): boolean => d !== 'float32'

/** One baseline entry per input: `undefined` (zeros), one value for all, or the user's list. */
const baselineList = <T>(backend: Backend<T>, n: number, baselines: Baseline<T> | readonly Baseline<T>[] | undefined): readonly (Baseline<T> | undefined)[] =>
  baselines === undefined
    ? Array.from({ length: n }, () => undefined)
    : Array.isArray(baselines) && !isHostTensor(baselines) && !backend.isTensor(baselines)
      ? (baselines as readonly Baseline<T>[])
      : Array.from({ length: n }, () => baselines as Baseline<T>)

/** The first value of a host tensor that is not a whole number, if any. */
const firstFraction = (h: HostTensor): number | undefined => {
  if (h.dtype !== 'float32') return undefined
  for (const v of h.data as Float32Array) if (Number.isFinite(v) && !Number.isInteger(v)) return v
  return undefined
}

/**
 * A non-whole baseline value on an integer input, found without reading device memory (numbers
 * and host tensors); {@link promoteForBaselines} also reads backend tensors.
 */
const hostFraction = (b: unknown): number | undefined =>
  typeof b === 'number' ? (Number.isFinite(b) && !Number.isInteger(b) ? b : undefined) : isHostTensor(b) ? firstFraction(b) : undefined

const wholeNumberNeeded = (i: number, dtype: DType, v: number, declared?: { readonly name: string; readonly dtype: DType }): AttributionError =>
  err('DTypeMismatch',
    declared !== undefined
      ? `baselines.${i}: the model's input ${i} (${JSON.stringify(declared.name)}) is integer (${declared.dtype}), so its baseline must be a whole number; got ${v}. ` +
        'clarus does not round baselines: give a whole number (for token ids, e.g. a padding id)'
      : `baselines.${i}: input ${i} is integer (${dtype}), so its baseline must be a whole number; got ${v}. ` +
        'clarus does not round baselines: give a whole number, or pass the input as float32 if the model takes floats',
    ['baselines', String(i)])

/**
 * Captum's dtype promotion for baselines: an integer (or bool) input whose baseline is not a
 * whole number (0.2, or a float tensor with fractional values) is cast to float32, so the
 * perturbed and interpolated copies carry the baseline's values exactly. Where the model declares
 * that input as integer (`signature.inputs[i].dtype`, e.g. an ONNX graph whose input is int64)
 * it cannot take floats, and the call fails with `DTypeMismatch` at `baselines.<i>` instead;
 * clarus never truncates a baseline silently. Whole-number baselines leave the input as it is.
 * Returns the inputs to use from here on (promoted copies are added to `owned`).
 */
export const promoteForBaselines = async <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly T[],
  baselines: Baseline<T> | readonly Baseline<T>[] | undefined,
  signature: ModelSignature,
): Promise<E.Either<AttributionError, T[]>> => {
  const list = baselineList(backend, inputs.length, baselines)
  const out = [...inputs]
  for (let i = 0; i < inputs.length && i < list.length; i++) {
    const x = inputs[i]!
    const dtype = backend.dtypeOf(x)
    if (!isIntegral(dtype)) continue
    const b = list[i]
    const h = backend.isTensor(b) && backend.dtypeOf(b) === 'float32' ? await backend.toHost(b) : isHostTensor(b) ? b : undefined
    // checked here, on the host: a GPU backend's cast to an integer dtype cannot check synchronously
    const bad = h?.dtype === 'float32' ? (h.data as Float32Array).find((u) => !Number.isFinite(u)) : undefined
    if (bad !== undefined) {
      return E.left(err('NonFinite', `baselines.${i} holds ${bad}, but input ${i} is integer (${dtype}): an integer input needs finite, whole-number baselines`, ['baselines', String(i)]))
    }
    const v = h !== undefined ? firstFraction(h) : hostFraction(b)
    if (v === undefined) continue
    const declared = signature.inputs[i]
    if (declared !== undefined && isIntegral(declared.dtype)) return E.left(wholeNumberNeeded(i, dtype, v, declared))
    const promoted = backend.cast(x, 'float32')
    owned.list.push(promoted)
    out[i] = promoted
  }
  return E.right(out)
}

/**
 * Baselines laid out like the inputs (one row per example). `undefined` means zeros; a single
 * value is used for every input; a list gives one per input. A baseline is cast to its input's
 * dtype; on an integer input a baseline that is not a whole number is a `DTypeMismatch` (call
 * {@link promoteForBaselines} first to promote such inputs to float32 as Captum does).
 */
export const prepareBaselines = <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly T[],
  baselines: Baseline<T> | readonly Baseline<T>[] | undefined,
): E.Either<AttributionError, T[]> => {
  const list = baselineList(backend, inputs.length, baselines)
  if (list.length !== inputs.length) {
    return E.left(err('BadBaseline', `got ${list.length} baselines for ${inputs.length} inputs: give one per input (or one value for all)`, ['baselines']))
  }
  const out: T[] = []
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!
    const shape = backend.shapeOf(x)
    const n = shape[0]!
    const b = list[i]
    const keep = (t: T): T => {
      owned.list.push(t)
      return t
    }
    const fraction = isIntegral(backend.dtypeOf(x)) ? hostFraction(b) : undefined
    if (fraction !== undefined) return E.left(wholeNumberNeeded(i, backend.dtypeOf(x), fraction))
    if (b === undefined || typeof b === 'number') {
      const v: number = typeof b === 'number' ? b : 0
      if (!Number.isFinite(v)) return E.left(err('BadBaseline', `baselines.${i} is ${v}; baselines must be finite`, ['baselines', String(i)]))
      out.push(keep(backend.fill(shape, v, backend.dtypeOf(x))))
      continue
    }
    if (!backend.isTensor(b) && !isHostTensor(b)) return E.left(notATensor(backend, b, ['baselines', String(i)], 'BadBaseline'))
    let t = toBackend(backend, owned, b)
    const bs = backend.shapeOf(t)
    if (backend.dtypeOf(t) !== backend.dtypeOf(x)) {
      t = keep(backend.cast(t, backend.dtypeOf(x)))
    }
    const same = bs.length === shape.length && bs.every((d, k) => d === shape[k])
    if (same) {
      out.push(t)
      continue
    }
    const oneExample = bs.length === shape.length - 1 && bs.every((d, k) => d === shape[k + 1])
    const batchOne = bs.length === shape.length && bs[0] === 1 && bs.every((d, k) => k === 0 || d === shape[k])
    if (!oneExample && !batchOne && broadcastable(bs, shape)) {
      // Any shape that broadcasts to the input (Captum's perturbation methods accept it, §3.4).
      out.push(keep(backend.add(keep(backend.fill(shape, 0, backend.dtypeOf(x))), t)))
      continue
    }
    if (!oneExample && !batchOne) {
      return E.left(err('BadBaseline',
        `baseline ${i} has shape [${bs.join(', ')}]; it must match its input [${shape.join(', ')}], have a batch dimension of 1 ([1, ${shape.slice(1).join(', ')}]), or be shaped like one example ([${shape.slice(1).join(', ')}])`,
        ['baselines', String(i)]))
    }
    const one = oneExample ? keep(backend.reshape(t, [1, ...bs])) : t
    out.push(keep(backend.gatherRows(one, new Int32Array(n))))
  }
  return E.right(out)
}

/**
 * Baselines as a distribution: per input, B reference rows shaped like one example each
 * ([B, …input.shape[1:]]; a tensor shaped like one example counts as B = 1). Every input needs
 * the same B. Used by methods that average over references (KernelShap with a background).
 */
export const prepareDistribution = <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly T[],
  baselines: Baseline<T> | readonly Baseline<T>[] | undefined,
): E.Either<AttributionError, T[]> => {
  if (baselines === undefined) {
    return E.left(err('BadBaseline', 'a baseline distribution is required: pass baselines with B reference rows per input, shape [B, …one example]', ['baselines']))
  }
  const list = baselineList(backend, inputs.length, baselines) as readonly Baseline<T>[]
  if (list.length !== inputs.length) {
    return E.left(err('BadBaseline', `got ${list.length} baseline distributions for ${inputs.length} inputs: give one per input`, ['baselines']))
  }
  const out: T[] = []
  let rows: number | undefined
  for (let i = 0; i < inputs.length; i++) {
    const shape = backend.shapeOf(inputs[i]!)
    const b = list[i]!
    const fraction = isIntegral(backend.dtypeOf(inputs[i]!)) ? hostFraction(b) : undefined
    if (fraction !== undefined) return E.left(wholeNumberNeeded(i, backend.dtypeOf(inputs[i]!), fraction))
    if (typeof b === 'number') {
      out.push(owned.list[owned.list.push(backend.fill([1, ...shape.slice(1)], b, backend.dtypeOf(inputs[i]!))) - 1]!)
    } else {
      if (!backend.isTensor(b) && !isHostTensor(b)) return E.left(notATensor(backend, b, ['baselines', String(i)], 'BadBaseline'))
      let t = toBackend(backend, owned, b)
      const bs = backend.shapeOf(t)
      const inner = shape.slice(1)
      const oneExample = bs.length === inner.length && bs.every((d, k) => d === inner[k])
      const many = bs.length === shape.length && bs.slice(1).every((d, k) => d === inner[k])
      if (!oneExample && !many) {
        return E.left(err('BadBaseline', `baseline distribution ${i} has shape [${bs.join(', ')}]; it must be [B, ${inner.join(', ')}] (B reference rows) or one example [${inner.join(', ')}]`, ['baselines', String(i)]))
      }
      if (oneExample) t = owned.list[owned.list.push(backend.reshape(t, [1, ...bs])) - 1]!
      if (backend.dtypeOf(t) !== backend.dtypeOf(inputs[i]!)) t = owned.list[owned.list.push(backend.cast(t, backend.dtypeOf(inputs[i]!))) - 1]!
      out.push(t)
    }
    const B = backend.shapeOf(out[i]!)[0]!
    if (B === 0) return E.left(err('BadBaseline', `baseline distribution ${i} has no rows`, ['baselines', String(i)]))
    if (rows !== undefined && B !== rows && B !== 1) {
      return E.left(err('BadBaseline', `baseline distributions disagree on the number of reference rows: ${rows} and ${B}`, ['baselines', String(i)]))
    }
    rows = Math.max(rows ?? 1, B)
  }
  // Broadcast single-row distributions of some inputs to the common B.
  return E.right(out.map((t) => (backend.shapeOf(t)[0] === rows ? t : owned.list[owned.list.push(backend.gatherRows(t, new Int32Array(rows!))) - 1]!)))
}
