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
import type { Backend } from '../core/backend.js'
import { isHostTensor } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'

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

/** Inputs as a list of backend tensors, or a typed error naming the bad entry. */
export const prepareInputs = <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly unknown[],
  what: 'inputs' | 'additionalForwardArgs',
): E.Either<AttributionError, T[]> => {
  const out: T[] = []
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]
    if (!backend.isTensor(x) && !isHostTensor(x)) {
      return E.left(err('ShapeMismatch', `${what}[${i}] is not a tensor: pass a ${backend.name} tensor or a host tensor {dtype, shape, data}`, [what, String(i)]))
    }
    out.push(toBackend(backend, owned, x as TensorLike<T>))
  }
  return E.right(out)
}

/**
 * Baselines laid out like the inputs (one row per example). `undefined` means zeros; a single
 * value is used for every input; a list gives one per input.
 */
export const prepareBaselines = <T>(
  backend: Backend<T>,
  owned: Owned<T>,
  inputs: readonly T[],
  baselines: Baseline<T> | readonly Baseline<T>[] | undefined,
): E.Either<AttributionError, T[]> => {
  const list: readonly (Baseline<T> | undefined)[] =
    baselines === undefined
      ? inputs.map(() => undefined)
      : Array.isArray(baselines) && !isHostTensor(baselines) && !backend.isTensor(baselines)
        ? (baselines as readonly Baseline<T>[])
        : inputs.map(() => baselines as Baseline<T>)
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
    if (b === undefined || typeof b === 'number') {
      const v: number = typeof b === 'number' ? b : 0
      if (!Number.isFinite(v)) return E.left(err('BadBaseline', `baseline ${i} is ${v}; baselines must be finite`, ['baselines', String(i)]))
      out.push(keep(backend.fill(shape, v, backend.dtypeOf(x))))
      continue
    }
    if (!backend.isTensor(b) && !isHostTensor(b)) {
      return E.left(err('BadBaseline', `baseline ${i} is neither a number nor a tensor`, ['baselines', String(i)]))
    }
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
  const list: readonly Baseline<T>[] =
    Array.isArray(baselines) && !isHostTensor(baselines) && !backend.isTensor(baselines) ? (baselines as readonly Baseline<T>[]) : inputs.map(() => baselines as Baseline<T>)
  if (list.length !== inputs.length) {
    return E.left(err('BadBaseline', `got ${list.length} baseline distributions for ${inputs.length} inputs: give one per input`, ['baselines']))
  }
  const out: T[] = []
  let rows: number | undefined
  for (let i = 0; i < inputs.length; i++) {
    const shape = backend.shapeOf(inputs[i]!)
    const b = list[i]!
    if (typeof b === 'number') {
      out.push(owned.list[owned.list.push(backend.fill([1, ...shape.slice(1)], b, backend.dtypeOf(inputs[i]!))) - 1]!)
    } else {
      if (!backend.isTensor(b) && !isHostTensor(b)) return E.left(err('BadBaseline', `baseline ${i} is neither a number nor a tensor`, ['baselines', String(i)]))
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
