/**
 * Neuron selectors as pipeline data: which scalar per example of an internal tensor ("layer") a
 * neuron method explains (Captum's `neuron_selector`, captum-semantics.md §3.6 and §6).
 *
 * A {@link NeuronRef} names the layer and one of three selections:
 * - `index`: a tuple over the layer's per-example dims (batch dim left out) whose entries are
 *   integers or Python slices `{ start?, stop?, step? }` (null or absent = None; negative values
 *   count from the end; start/stop are clamped to the dim as Python clamps them; step ≥ 1, as
 *   PyTorch has no negative steps). Integers only: one element, and the tuple must cover every dim.
 *   With a slice anywhere, the selected block (dims past the tuple included) is **summed** per
 *   example, as Captum does (`layer[(:,) + sel].reshape(N, -1).sum(1)`).
 * - `mask`: Σ mask ⊙ layer per example, a weighted sum over the layer's elements (beyond Captum).
 *   The mask is a plain JSON tensor `{ shape, data }`, shaped like one example, with a leading 1,
 *   or with one row per call example. It is data, so it lives in the pipeline: the spec stays
 *   JSON and a printed pipeline says exactly what it explains.
 * - `fromCall: 'neuronFn'`: the call's function `neuronFn(layer) → one scalar per row` (Captum's
 *   callable selector). A function cannot be serialised, so the pipeline only refers to it and the
 *   call supplies it, the way a target function is supplied (call data key `neuronFn`).
 *
 * Index and mask selections are linear functionals of the layer, so they become a backend seed
 * (one cotangent per row) and work on every backend. A function needs a backend that
 * differentiates JS functions (tfjs); ONNX answers `Unsupported` and points to masks.
 *
 * @category dsl
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Selector } from '../core/backend.js'
import { codecOf, Integer, showValue } from '../core/codecs.js'
import { ClarusError, err, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { RunContext } from './flow.js'
import { targetRows } from './modelCall.js'

// ------------------------------------------------------------------------------------------------
// codecs
// ------------------------------------------------------------------------------------------------

/** Python's `slice(start, stop, step)`; absent or null = None. */
export interface PySlice {
  readonly start?: number | null
  readonly stop?: number | null
  readonly step?: number | null
}

const SLICE_KEYS = ['start', 'stop', 'step'] as const

const sliceProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) return `expected an integer or a slice { start?, stop?, step? }, got ${showValue(u)}`
  const extra = Object.keys(u).filter((k) => !(SLICE_KEYS as readonly string[]).includes(k))
  if (extra.length > 0) return `a slice has only start, stop and step (Python's slice(start, stop, step)); unknown key(s): ${extra.join(', ')}`
  const o = u as Record<string, unknown>
  for (const k of SLICE_KEYS) {
    const v = o[k]
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isInteger(v))) return `slice ${k} must be an integer or null, got ${showValue(v)}`
  }
  const step = o['step']
  if (typeof step === 'number' && step < 1) return `slice step ${step}: steps must be ≥ 1 (PyTorch tensors take no zero or negative steps)`
  return undefined
}

/** A {@link PySlice} codec: only the keys start, stop, step, each an integer or null; step ≥ 1. */
export const PySlice = codecOf<PySlice>('Slice', sliceProblem)

/** One entry of an index tuple: an integer or a slice. */
export const NeuronIndexEntry = t.union([Integer, PySlice], 'NeuronIndexEntry')
export type NeuronIndexEntry = number | PySlice

/** A mask as plain JSON: a row-major `data` list of finite numbers and its `shape`. */
export interface NeuronMask {
  readonly shape: readonly number[]
  readonly data: readonly number[]
}

const maskProblem = (u: unknown): string | undefined => {
  if (typeof u !== 'object' || u === null) return `expected a mask { shape, data }, got ${showValue(u)}`
  const o = u as { shape?: unknown; data?: unknown }
  if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) return `mask shape ${showValue(o.shape)} is not a list of whole numbers ≥ 0`
  if (!Array.isArray(o.data)) return `mask data must be a list of numbers, got ${showValue(o.data)}`
  const bad = o.data.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v))
  if (bad >= 0) return `mask data[${bad}] is ${showValue(o.data[bad])}; a neuron mask weights the layer's elements and must be finite`
  const n = sizeOf(o.shape as number[])
  return o.data.length === n ? undefined : `mask data has ${o.data.length} values but shape [${(o.shape as number[]).join(', ')}] needs ${n}`
}

/** A {@link NeuronMask} codec (finite values, a length that matches the shape). */
export const NeuronMask = codecOf<NeuronMask>('NeuronMask', maskProblem)

/** The call data key a `fromCall` selection reads. */
export const NEURON_FN = 'neuronFn' as const

/** A neuron of an internal tensor, as a stage holds it (see the module doc). */
export type NeuronRef =
  | { readonly layer: string; readonly index: readonly NeuronIndexEntry[] }
  | { readonly layer: string; readonly mask: NeuronMask }
  | { readonly layer: string; readonly fromCall: typeof NEURON_FN }

export const NeuronRef: t.Type<NeuronRef, NeuronRef, unknown> = t.union([
  t.readonly(t.type({ layer: t.string, index: t.readonlyArray(NeuronIndexEntry) })),
  t.readonly(t.type({ layer: t.string, mask: NeuronMask })),
  t.readonly(t.type({ layer: t.string, fromCall: t.literal(NEURON_FN) })),
], 'NeuronRef') as unknown as t.Type<NeuronRef, NeuronRef, unknown>

/** A selector function written in the backend's tensor language: layer [rows, …] → one scalar per row. */
export type NeuronFn<T> = (layer: T) => T

/** The call data a neuron selection reads: the function for `fromCall`, nothing otherwise. */
export const neuronNeeds = (n: NeuronRef): readonly typeof NEURON_FN[] => ('fromCall' in n ? [NEURON_FN] : [])

// ------------------------------------------------------------------------------------------------
// printing
// ------------------------------------------------------------------------------------------------

const showSlice = (s: PySlice): string => {
  const part = (v: number | null | undefined): string => (v === undefined || v === null ? '' : String(v))
  return `${part(s.start)}:${part(s.stop)}${s.step !== undefined && s.step !== null ? `:${s.step}` : ''}`
}

/** The selection as a user would write it: `"relu"[0:2, 1]`, `Σ mask[4] ⊙ "relu"`, `neuronFn("relu")`. */
export const describeNeuron = (n: NeuronRef): string =>
  'index' in n
    ? `${JSON.stringify(n.layer)}[${n.index.map((e) => (typeof e === 'number' ? String(e) : showSlice(e))).join(', ')}]`
    : 'mask' in n
      ? `Σ mask[${n.mask.shape.join(', ')}] ⊙ ${JSON.stringify(n.layer)}`
      : `${NEURON_FN}(${JSON.stringify(n.layer)})`

const bad = (n: NeuronRef, message: string): AttributionError => err('BadTarget', `neuron ${describeNeuron(n)}: ${message}`, ['neuron'])

// ------------------------------------------------------------------------------------------------
// seeds (index and mask selections)
// ------------------------------------------------------------------------------------------------

/** The positions a slice selects in a dim of `size` (Python semantics, step ≥ 1). */
export const sliceIndices = (s: PySlice, size: number): number[] => {
  const step = s.step ?? 1
  const clamp = (v: number | null | undefined, dflt: number): number =>
    v === undefined || v === null ? dflt : v < 0 ? Math.max(0, v + size) : Math.min(v, size)
  const out: number[] = []
  for (let i = clamp(s.start, 0); i < clamp(s.stop, size); i += step) out.push(i)
  return out
}

/** Per dim of one example, the positions an index tuple selects, or why it selects nothing valid. */
const positionsOf = (n: NeuronRef & { readonly index: readonly NeuronIndexEntry[] }, per: readonly number[]): E.Either<AttributionError, number[][]> => {
  const idx = n.index
  const dims = `the layer has ${per.length} dimension(s) per example (shape [${per.join(', ')}], batch dimension left out)`
  if (idx.length > per.length) return E.left(bad(n, `the selector has ${idx.length} entries but ${dims}; give at most one entry per dimension`))
  const sliced = idx.some((e) => typeof e !== 'number')
  if (!sliced && idx.length < per.length) {
    const block = sizeOf(per.slice(idx.length))
    return E.left(bad(n, `the selector picks ${block} values per example but ${dims}: give one integer per dimension for one neuron, ` +
      'use slices ({ start, stop }) to explain the sum of a block, or a { mask } for a weighted sum'))
  }
  const out: number[][] = []
  for (let d = 0; d < per.length; d++) {
    const size = per[d]!
    const e = idx[d]
    if (e === undefined) {
      out.push(Array.from({ length: size }, (_, i) => i))
    } else if (typeof e === 'number') {
      const j = e < 0 ? e + size : e
      if (j < 0 || j >= size) return E.left(bad(n, `index ${e} is out of range for dimension ${d + 1} of size ${size} (valid: ${-size}..${size - 1})`))
      out.push([j])
    } else {
      const picked = sliceIndices(e, size)
      if (picked.length === 0) {
        const past = typeof e.start === 'number' && e.start >= size
        const before = typeof e.stop === 'number' && e.stop <= -size
        return E.left(bad(n, past || before
          ? `slice ${showSlice(e)} is out of range for dimension ${d + 1} of size ${size}: it selects no element (starts must be below ${size}, stops above ${-size})`
          : `slice ${showSlice(e)} is empty on dimension ${d + 1} of size ${size}: its start is not before its stop, so it selects no element (an empty sum would explain the constant 0)`))
      }
      out.push(picked)
    }
  }
  return E.right(out)
}

/** The 0/1 pattern over one example's elements selected by `positions` (row-major). */
const patternOf = (positions: readonly number[][], per: readonly number[]): Float32Array => {
  const pattern = new Float32Array(sizeOf(per))
  const strides = per.map((_, d) => sizeOf(per.slice(d + 1)))
  const walk = (d: number, offset: number): void => {
    if (d === per.length) {
      pattern[offset] = 1
      return
    }
    for (const p of positions[d]!) walk(d + 1, offset + p * strides[d]!)
  }
  walk(0, 0)
  return pattern
}

/**
 * The seed (cotangent) of an index or mask selection for a layer of `shape` ([rows, …]), where
 * row r belongs to call example `rowExample[r]` of `nExamples` (used by per-example masks).
 * A `fromCall` selection has no seed: that is an error here (use {@link neuronSelector}).
 */
export const neuronSeed = (n: NeuronRef, rowExample: Int32Array, nExamples: number) => (shape: readonly number[]): E.Either<AttributionError, HostTensor<'float32'>> => {
  if (shape.length === 0) return E.left(bad(n, 'the layer is a scalar; it needs a batch dimension (one row per input row)'))
  const rows = shape[0]!
  const per = shape.slice(1)
  const P = sizeOf(per)
  const seed = new Float32Array(rows * P)
  const done = E.right<AttributionError, HostTensor<'float32'>>({ dtype: 'float32', shape: [...shape], data: seed })
  if ('index' in n) {
    const pos = positionsOf(n, per)
    if (E.isLeft(pos)) return pos
    const pattern = patternOf(pos.right, per)
    for (let r = 0; r < rows; r++) seed.set(pattern, r * P)
    return done
  }
  if ('mask' in n) {
    const ms = n.mask.shape
    const perExample = ms.length === per.length + 1 && ms[0] === nExamples && nExamples > 1
    const inner = perExample || (ms.length === per.length + 1 && ms[0] === 1) ? ms.slice(1) : ms
    if (inner.length !== per.length || inner.some((d, i) => d !== per[i])) {
      return E.left(bad(n, `the mask has shape [${ms.join(', ')}]; it must match the layer without its batch dimension [${per.join(', ')}], ` +
        `with a leading 1 ([1, ${per.join(', ')}]), or with one row per example ([${nExamples}, ${per.join(', ')}])`))
    }
    for (let r = 0; r < rows; r++) {
      const src = perExample ? rowExample[r]! * P : 0
      for (let j = 0; j < P; j++) seed[r * P + j] = n.mask.data[src + j]!
    }
    return done
  }
  return E.left(bad(n, `a function selection has no seed; the call's ${NEURON_FN} is applied instead`))
}

// ------------------------------------------------------------------------------------------------
// selectors and values
// ------------------------------------------------------------------------------------------------

const missingFn = (n: NeuronRef): AttributionError =>
  err('BadPipeline', `neuron ${describeNeuron(n)}: the pipeline selects the neuron with the call's function but the call provides none: ` +
    `pass options.${NEURON_FN} (the Captum-style classes take it as neuronSelector: a function)`, ['neuron'])

/**
 * Checks what a selector function returned for `rows` rows: a tensor with one value per row
 * (shape [rows] or [rows, 1]), or (`scalarOk`, gradients only) one scalar for the whole batch,
 * which Captum reads as the sum over the rows. Returns it flattened to [rows] (or as the scalar).
 */
const checkedFnValue = <T>(ctx: RunContext<T>, n: NeuronRef, v: unknown, rows: number, scalarOk: boolean): T => {
  const b = ctx.backend
  if (!b.isTensor(v)) throw new ClarusError(bad(n, `${NEURON_FN} returned ${showValue(v)}, not a ${b.name} tensor: return one scalar per row`))
  const s = b.shapeOf(v)
  if (s.length === 0 && scalarOk) return v
  if ((s.length === 1 && s[0] === rows) || (s.length === 2 && s[0] === rows && s[1] === 1)) return s.length === 1 ? v : b.reshape(v, [rows])
  throw new ClarusError(bad(n, `${NEURON_FN} returned a tensor of shape [${s.join(', ')}] for a layer of ${rows} rows; it must return one scalar per row (shape [${rows}]): ` +
    'reduce over every dimension but the first (e.g. a sum over axes 1…), and do not mix rows'))
}

/**
 * The backend selector that makes `n` the explained scalar of a `vjp` seeding the layer
 * (`of: { kind: 'tensor', name: n.layer }`), for rows whose examples are `rowExample`.
 */
export const neuronSelector = <T>(n: NeuronRef, rowExample: Int32Array, ctx: RunContext<T>): Selector<T> => {
  if ('fromCall' in n) {
    const fn = ctx.callData.neuronFn
    if (fn === undefined) return { kind: 'linear', seed: () => E.left(missingFn(n)) }
    return { kind: 'fn', fn: (y) => checkedFnValue(ctx, n, fn(y), rowExample.length, true) }
  }
  const { rows, n: nExamples } = targetRows(ctx, rowExample)
  return { kind: 'linear', seed: neuronSeed(n, rows, nExamples) }
}

/**
 * The selected value per row of a layer tensor `y` ([rows, …]) on the backend, shape [rows]:
 * Σ seed ⊙ y for index and mask selections, `neuronFn(y)` for a function (run inside the
 * backend's `tidy` when it has one). The result is tracked by `ctx`. Used by conductanceGrad
 * (applied to ∂F/∂y, as Captum applies the selector to the layer gradient) and by methods that
 * read the neuron from a forward capture (perturbation methods).
 */
export const selectNeuron = <T>(ctx: RunContext<T>, n: NeuronRef, y: T, rowExample: Int32Array): E.Either<AttributionError, T> => {
  const b = ctx.backend
  const rows = rowExample.length
  if ('fromCall' in n) {
    const fn = ctx.callData.neuronFn
    if (fn === undefined) return E.left(missingFn(n))
    try {
      const v = b.tidy ? b.tidy(() => checkedFnValue(ctx, n, fn(y), rows, false)) : checkedFnValue(ctx, n, fn(y), rows, false)
      return E.right(v === y ? v : ctx.track(v))
    } catch (e) {
      if (e instanceof ClarusError) return E.left(e.error)
      return E.left(bad(n, `${NEURON_FN} failed: ${e instanceof Error ? e.message : String(e)}`))
    }
  }
  const { rows: ex, n: nExamples } = targetRows(ctx, rowExample)
  const seed = neuronSeed(n, ex, nExamples)(b.shapeOf(y))
  if (E.isLeft(seed)) return seed
  const picked = ctx.track(b.mul(y, ctx.track(b.fromHost(seed.right))))
  const rank = b.shapeOf(picked).length
  return E.right(rank <= 1 ? picked : ctx.track(b.sum(picked, Array.from({ length: rank - 1 }, (_, i) => i + 1))))
}

/** {@link selectNeuron} read back to the host: one value per row of `y`. */
export const neuronValues = async <T>(ctx: RunContext<T>, n: NeuronRef, y: T, rowExample: Int32Array): Promise<E.Either<AttributionError, Float32Array>> => {
  const v = selectNeuron(ctx, n, y, rowExample)
  if (E.isLeft(v)) return v
  const h = await ctx.backend.toHost(v.right)
  return E.right(h.data instanceof Float32Array ? h.data : Float32Array.from(h.data as ArrayLike<number>, Number))
}
