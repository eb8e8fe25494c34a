/**
 * Target expressions: a nonlinear target written as data, so that it works on every backend (ONNX
 * included, where a JS target function cannot be differentiated). An expression is a list of
 * row-wise steps applied to the explained output; whatever values remain per example are summed
 * to the explained scalar (gradient methods), or explained each (perturbation methods, as with a
 * target function). Steps, each over one non-batch axis (`axis`, default -1 = the last; 0 = the
 * first after the batch):
 *
 * - `softmax`, `logSoftmax`: normalise along the axis (the probabilities or log-probabilities of
 *   a model that returns logits);
 * - `select { indices }`: keep these positions along the axis (negative ones count from the end);
 * - `sum`, `mean`: reduce the axis (without `axis`: every non-batch value, leaving one per row);
 * - `dot { weights }`: the weighted sum along the axis (`[1, -1]` after selecting two classes is
 *   their logit difference);
 * - `scale { by }`: multiply by a constant.
 *
 * `{ expr: [{ op: 'logSoftmax' }, { op: 'select', indices: [3] }] }` explains log p(class 3).
 *
 * How gradients follow: a gradient method evaluates the output once, computes here the gradient of
 * the expression there, and seeds the model's backward pass with it (the chain rule), so each
 * gradient step costs one extra forward pass.
 *
 * Captum: a `target` is an index (tuple); a nonlinear function of the output is written by wrapping
 * the forward function. Here that wrapping is data.
 *
 * @category core
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { Integer } from './codecs.js'
import { err, type AttributionError } from './errors.js'
import { sizeOf, type HostTensor } from './tensor.js'

const Axis = t.partial({ axis: Integer })
const step = <O extends string, P extends t.Props>(op: O, required: P) =>
  t.readonly(t.intersection([t.type({ op: t.literal(op) }), t.type(required), Axis]))

/** One step of a {@link TargetExpr} (see the module doc). */
export const TargetStep = t.union([
  step('softmax', {}),
  step('logSoftmax', {}),
  step('select', { indices: t.readonlyArray(Integer) }),
  step('sum', {}),
  step('mean', {}),
  step('dot', { weights: t.readonlyArray(t.number) }),
  t.readonly(t.type({ op: t.literal('scale'), by: t.number })),
])
export type TargetStep = t.TypeOf<typeof TargetStep>

/** A target written as data: steps applied to the output per example (see the module doc). */
export const TargetExpr = t.readonly(t.type({ expr: t.readonlyArray(TargetStep) }), 'TargetExpr')
export type TargetExpr = t.TypeOf<typeof TargetExpr>

/** Whether a call's target is a {@link TargetExpr}. */
export const isTargetExpr = (u: unknown): u is TargetExpr =>
  typeof u === 'object' && u !== null && !Array.isArray(u) && 'expr' in u

/** A row-major float tensor while an expression runs on it. */
interface Values {
  readonly shape: readonly number[]
  readonly data: Float64Array
}

/** One step's forward result and how to pull a gradient back through it. */
interface Applied {
  readonly out: Values
  readonly back: (g: Float64Array) => Float64Array
}

const bad = (k: number, message: string): E.Either<AttributionError, never> => E.left(err('BadTarget', message, ['target', 'expr', String(k)]))

/** The shape seen as [outer, n, inner] around full-shape axis `a`. */
const around = (shape: readonly number[], a: number): [number, number, number] => [sizeOf(shape.slice(0, a)), shape[a]!, sizeOf(shape.slice(a + 1))]

/** Applies `f` to every 1-D fibre of `src` along axis `a`, writing `dst`: `f(get, set)` index the fibre by position. */
const fibres = (shape: readonly number[], a: number, f: (get: (j: number) => number, set: (j: number, v: number) => void) => void, src: Float64Array, dst: Float64Array): void => {
  const [outer, n, inner] = around(shape, a)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      f((j) => src[base + j * inner]!, (j, v) => {
        dst[base + j * inner] = v
      })
    }
  }
}

/** Softmax (or, with `log`, log-softmax, computed as x − max − log Σ exp(x − max), finite where softmax underflows) along axis `a`. */
const softmaxOf = (x: Values, a: number, log = false): Float64Array => {
  const y = new Float64Array(x.data.length)
  const n = x.shape[a]!
  fibres(x.shape, a, (get, set) => {
    let m = -Infinity
    for (let j = 0; j < n; j++) m = Math.max(m, get(j))
    let s = 0
    for (let j = 0; j < n; j++) s += Math.exp(get(j) - m)
    for (let j = 0; j < n; j++) set(j, log ? get(j) - m - Math.log(s) : Math.exp(get(j) - m) / s)
  }, x.data, y)
  return y
}

/** Each fibre's sum along axis `a`, repeated at every position of the fibre. */
const fibreSums = (shape: readonly number[], a: number, g: Float64Array): Float64Array => {
  const n = shape[a]!
  const out = new Float64Array(g.length)
  fibres(shape, a, (get, set) => {
    let d = 0
    for (let j = 0; j < n; j++) d += get(j)
    for (let j = 0; j < n; j++) set(j, d)
  }, g, out)
  return out
}

/** Reduces axis `a` with per-position weights `w` (sum: all 1, mean: all 1/n). */
const weighted = (x: Values, a: number, w: readonly number[]): Applied => {
  const [outer, n, inner] = around(x.shape, a)
  const out = new Float64Array(outer * inner)
  for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) out[o * inner + i]! += w[j]! * x.data[(o * n + j) * inner + i]!
  return {
    out: { shape: [...x.shape.slice(0, a), ...x.shape.slice(a + 1)], data: out },
    back: (g) => {
      const gx = new Float64Array(x.data.length)
      for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) gx[(o * n + j) * inner + i] = w[j]! * g[o * inner + i]!
      return gx
    },
  }
}

const apply = (s: TargetStep, k: number, x: Values): E.Either<AttributionError, Applied> => {
  if (s.op === 'scale') return E.right({ out: { shape: x.shape, data: x.data.map((v) => v * s.by) }, back: (g) => g.map((v) => v * s.by) })
  const rank = x.shape.length - 1
  if ((s.op === 'sum' || s.op === 'mean') && s.axis === undefined) {
    const flat: Values = { shape: [x.shape[0]!, sizeOf(x.shape.slice(1))], data: x.data }
    const n = flat.shape[1]!
    return E.right(weighted(flat, 1, new Array<number>(n).fill(s.op === 'mean' ? 1 / Math.max(1, n) : 1)))
  }
  const given = s.axis ?? -1
  const ax = given < 0 ? given + rank : given
  if (rank === 0 || ax < 0 || ax >= rank) {
    return bad(k, `${s.op}: axis ${given} is out of range for values of shape [${x.shape.join(', ')}] per batch (${rank} non-batch dimension(s); -1 is the last)`)
  }
  const a = ax + 1
  const n = x.shape[a]!
  switch (s.op) {
    case 'softmax': {
      const y = softmaxOf(x, a)
      return E.right({
        out: { shape: x.shape, data: y },
        // ∂/∂x of Σ g ⊙ softmax(x) = y ⊙ (g − Σ_fibre g ⊙ y)
        back: (g) => {
          const dot = fibreSums(x.shape, a, g.map((v, i) => v * y[i]!))
          return g.map((v, i) => y[i]! * (v - dot[i]!))
        },
      })
    }
    case 'logSoftmax': {
      const p = softmaxOf(x, a)
      return E.right({
        out: { shape: x.shape, data: softmaxOf(x, a, true) },
        // ∂/∂x of Σ g ⊙ logSoftmax(x) = g − softmax(x) · Σ_fibre g
        back: (g) => {
          const tot = fibreSums(x.shape, a, g)
          return g.map((v, i) => v - p[i]! * tot[i]!)
        },
      })
    }
    case 'select': {
      const idx: number[] = []
      for (const j of s.indices) {
        const q = j < 0 ? j + n : j
        if (q < 0 || q >= n) return bad(k, `select: index ${j} is out of range for an axis of size ${n} (valid: ${-n}..${n - 1})`)
        idx.push(q)
      }
      const [outer, , inner] = around(x.shape, a)
      const m = idx.length
      const out = new Float64Array(outer * m * inner)
      for (let o = 0; o < outer; o++) idx.forEach((q, r) => { for (let i = 0; i < inner; i++) out[(o * m + r) * inner + i] = x.data[(o * n + q) * inner + i]! })
      return E.right({
        out: { shape: [...x.shape.slice(0, a), m, ...x.shape.slice(a + 1)], data: out },
        back: (g) => {
          const gx = new Float64Array(x.data.length)
          for (let o = 0; o < outer; o++) idx.forEach((q, r) => { for (let i = 0; i < inner; i++) gx[(o * n + q) * inner + i]! += g[(o * m + r) * inner + i]! })
          return gx
        },
      })
    }
    case 'sum':
    case 'mean':
      return E.right(weighted(x, a, new Array<number>(n).fill(s.op === 'mean' ? 1 / n : 1)))
    case 'dot':
      return s.weights.length === n
        ? E.right(weighted(x, a, s.weights))
        : bad(k, `dot: ${s.weights.length} weights for an axis of size ${n}; give one weight per position`)
  }
}

/** The steps applied to `y` ([rows, …]), each with its way back. */
const run = (e: TargetExpr, y: HostTensor): E.Either<AttributionError, { readonly out: Values; readonly backs: readonly ((g: Float64Array) => Float64Array)[] }> => {
  if (y.shape.length === 0) return E.left(err('BadTarget', 'a target expression needs an output with a batch dimension', ['target']))
  let x: Values = { shape: y.shape, data: Float64Array.from(y.data as ArrayLike<number | bigint>, (v) => Number(v)) }
  const backs: ((g: Float64Array) => Float64Array)[] = []
  for (const [k, s] of e.expr.entries()) {
    const r = apply(s, k, x)
    if (E.isLeft(r)) return r
    x = r.right.out
    backs.push(r.right.back)
  }
  return E.right({ out: x, backs })
}

/** The expression's values on `y` ([rows, …] → [rows, …rest]), as perturbation methods explain them. */
export const evalTargetExpr = (e: TargetExpr, y: HostTensor): E.Either<AttributionError, HostTensor<'float32'>> =>
  E.map(({ out }: { out: Values }): HostTensor<'float32'> => ({ dtype: 'float32', shape: [...out.shape], data: Float32Array.from(out.data) }))(run(e, y))

/**
 * The explained scalar per row (Σ of the expression's values) and its gradient w.r.t. `y`: the
 * cotangent that seeds the model's backward pass.
 */
export const targetExprSeed = (e: TargetExpr, y: HostTensor): E.Either<AttributionError, { readonly value: HostTensor<'float32'>; readonly seed: HostTensor<'float32'> }> =>
  E.map(({ out, backs }: { out: Values; backs: readonly ((g: Float64Array) => Float64Array)[] }) => {
    const rows = out.shape[0]!
    const per = sizeOf(out.shape.slice(1))
    const value = new Float32Array(rows)
    for (let r = 0; r < rows; r++) for (let j = 0; j < per; j++) value[r]! += out.data[r * per + j]!
    let g: Float64Array = new Float64Array(out.data.length).fill(1)
    for (let k = backs.length - 1; k >= 0; k--) g = backs[k]!(g)
    return { value: { dtype: 'float32' as const, shape: [rows], data: value }, seed: { dtype: 'float32' as const, shape: [...y.shape], data: Float32Array.from(g) } }
  })(run(e, y))
