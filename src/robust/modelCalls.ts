/**
 * The two model calls every attack is made of, on host tensors and split into chunks of rows under
 * a memory budget: the model output, and the input gradient of a loss (a forward pass for the
 * output, then one VJP seeded with d loss / d output). Rows are independent in both, so a chunked
 * call returns exactly what one call over the whole batch would. Every backend tensor made here is
 * disposed before the call returns.
 *
 * @internal
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import { hostTensorProblem, isHostTensor } from '../core/codecs.js'
import { backendFailure, err, isAttributionError, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { DEFAULT_MEMORY_BUDGET } from '../dsl/run.js'
import { concatRows, hostRows } from './hostMath.js'
import { lossSeed, type LossOption } from './loss.js'

/** What stays fixed over the model calls of one attack: the extra inputs and the chunk size. */
export interface CallPlan {
  /** Additional forward arguments (host), one row per example, appended after the attacked inputs. */
  readonly extras: readonly HostTensor[]
  /** Rows per model call. */
  readonly rowsPerChunk: number
}

type Result<A> = Promise<E.Either<AttributionError, A>>

const failure = (e: unknown, what: string): AttributionError =>
  isAttributionError(e) ? e : backendFailure(`${what} failed: ${e instanceof Error ? e.message : String(e)}`, e)

/** One tensor list as host tensors (backend tensors are read back), or a typed error naming the bad entry. */
export const toHostList = async <T>(model: Model<T>, given: readonly TensorLike<T>[], what: string): Result<HostTensor[]> => {
  const out: HostTensor[] = []
  for (let i = 0; i < given.length; i++) {
    const x = given[i]
    if (model.backend.isTensor(x)) out.push(await model.backend.toHost(x))
    else if (isHostTensor(x)) out.push(x)
    else {
      const why = hostTensorProblem(x)
      return E.left(err(why?.tag ?? 'ShapeMismatch', `${what}.${i}: ${why?.message ?? 'not a tensor'} (pass a ${model.backend.name} tensor or a host tensor {dtype, shape, data})`, [what, String(i)]))
    }
  }
  return E.right(out)
}

/** One or a list of tensors, as a list. */
export const asTensorList = <T>(model: Model<T>, x: TensorLike<T> | readonly TensorLike<T>[] | undefined): readonly TensorLike<T>[] =>
  x === undefined ? [] : Array.isArray(x) && !model.backend.isTensor(x) && !isHostTensor(x) ? (x as readonly TensorLike<T>[]) : [x as TensorLike<T>]

/**
 * Rows per model call under `budget` bytes: the model's own per-row estimate where it has one
 * (measured on a one-row copy of the inputs), else 64 × the bytes of one row of all inputs.
 */
export const planRows = <T>(model: Model<T>, xs: readonly HostTensor[], extras: readonly HostTensor[], budget = DEFAULT_MEMORY_BUDGET): number => {
  const all = [...xs, ...extras]
  const rowBytes = all.reduce((a, x) => a + sizeOf(x.shape.slice(1)) * 4, 0)
  let per = rowBytes * 64
  if (model.bytesPerRow !== undefined && all.every((x) => (x.shape[0] ?? 0) > 0)) {
    const one = all.map((x) => model.backend.fromHost(hostRows(x, 0, 1)))
    try {
      const est = model.bytesPerRow(one)
      if (est > 0) per = est
    } finally {
      for (const t of one) model.backend.dispose(t)
    }
  }
  return Math.max(1, Math.floor(budget / Math.max(1, per)))
}

/** Runs `f` on each chunk of rows [start, end) of a batch of `rows`, in order, stopping at the first error. */
const eachChunk = async <A>(rows: number, size: number, f: (start: number, end: number) => Result<A>): Result<A[]> => {
  const out: A[] = []
  for (let start = 0; start < rows; start += size) {
    const r = await f(start, Math.min(rows, start + size))
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

const toBackend = <T>(model: Model<T>, hs: readonly HostTensor[], start: number, end: number): T[] =>
  hs.map((h) => model.backend.fromHost(hostRows(h, start, end)))

/** The model output for the rows of `xs` (with the plan's extras), chunked. */
export const outputOf = async <T>(model: Model<T>, plan: CallPlan, xs: readonly HostTensor[]): Result<HostTensor<'float32'>> => {
  const rows = xs[0]?.shape[0] ?? 0
  const parts = await eachChunk(rows, plan.rowsPerChunk, async (start, end): Result<HostTensor> => {
    const ins = [...toBackend(model, xs, start, end), ...toBackend(model, plan.extras, start, end)]
    try {
      const r = await model.forward(ins)()
      if (E.isLeft(r)) return r
      try {
        return E.right(await model.backend.toHost(r.right.output))
      } finally {
        model.backend.dispose(r.right.output)
        for (const t of Object.values(r.right.captured)) model.backend.dispose(t)
      }
    } catch (e) {
      return E.left(failure(e, 'the model call'))
    } finally {
      for (const t of ins) model.backend.dispose(t)
    }
  })
  if (E.isLeft(parts)) return parts
  if (parts.right.some((p) => p.dtype !== 'float32')) return E.left(err('DTypeMismatch', 'attacks need a float32 model output', ['model']))
  return E.right(concatRows(parts.right))
}

/**
 * d (Σ loss) / d x for each attacked input (float32, shaped like it), the loss seeded on the model
 * output (or on the layer `lossOn`, e.g. the logits before a final softmax) row by row. `labels`
 * has one entry per row.
 */
export const lossGradientOf = async <T>(
  model: Model<T>,
  plan: CallPlan,
  xs: readonly HostTensor[],
  labels: Int32Array,
  loss: LossOption,
  lossOn?: string,
): Result<HostTensor<'float32'>[]> => {
  const rows = xs[0]?.shape[0] ?? 0
  const parts = await eachChunk(rows, plan.rowsPerChunk, async (start, end): Result<HostTensor[]> => {
    const ins = [...toBackend(model, xs, start, end), ...toBackend(model, plan.extras, start, end)]
    const owned: T[] = []
    try {
      const fwd = await model.forward(ins, lossOn === undefined ? {} : { capture: [lossOn] })()
      if (E.isLeft(fwd)) return fwd
      owned.push(fwd.right.output, ...Object.values(fwd.right.captured))
      const seeded = lossOn === undefined ? fwd.right.output : fwd.right.captured[lossOn]
      if (seeded === undefined) return E.left(err('UnknownTensor', `lossOn: the model has no layer ${JSON.stringify(lossOn)} (see signature.layers)`, ['lossOn']))
      const output = await model.backend.toHost(seeded)
      const seed = lossSeed(loss, output, labels.subarray(start, end), rows)
      if (E.isLeft(seed)) return seed
      const r = await model.vjp(ins, { kind: 'linear', seed: () => E.right(seed.right) }, {
        wrt: { kind: 'inputs', count: xs.length },
        ...(lossOn === undefined ? {} : { of: { kind: 'tensor', name: lossOn } as const }),
      })()
      if (E.isLeft(r)) return r
      owned.push(r.right.output, r.right.value, ...r.right.grads, ...Object.values(r.right.captured))
      const grads: HostTensor[] = []
      for (const g of r.right.grads) grads.push(await model.backend.toHost(g))
      return E.right(grads)
    } catch (e) {
      return E.left(failure(e, 'the gradient call'))
    } finally {
      for (const t of [...ins, ...owned]) model.backend.dispose(t)
    }
  })
  if (E.isLeft(parts)) return parts
  return E.right(xs.map((_, i) => concatRows(parts.right.map((p) => p[i]!))))
}
