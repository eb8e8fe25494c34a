/**
 * Integrated Gradients to a requested accuracy: `adaptiveIntegratedGradients` places the path
 * points where the integrand changes instead of spreading a fixed number evenly, and stops as soon
 * as the completeness error is within the tolerance.
 *
 * Completeness says Σ IG = F(x) − F(x′), and both sides are computable: the right side by two
 * forward passes, the left side from the quadrature. With trapezoid quadrature on a mesh
 * 0 = α₀ < … < α_L = 1 of the path x′ + α(x − x′),
 *
 *   IG(x) ≈ (x − x′) ⊙ Σ_p w_p ∇F(α_p),   w_p = (α_{p+1} − α_{p−1}) / 2 (one-sided at the ends),
 *
 * and the error |Σ IG − (F(x) − F(x′))| is known exactly after every round, not estimated. Where to
 * add points is decided per interval by the scalar integrand s(α) = (x − x′) · ∇F(α) (whose
 * integral is Σ IG): when an interval is split at its midpoint, the change of its trapezoid value
 * is its error indicator, inherited (halved) by both halves; a round splits every interval whose
 * indicator is at least `refineFraction` of the example's largest. Every gradient ever computed
 * stays in use: a split reweights the endpoints and adds one point. On a ReLU network s is
 * piecewise constant with jumps where a unit switches; bisection closes in on the jumps, which is
 * where a uniform grid wastes its steps (the non-uniform path sampling of Kapishnikov et al. and
 * the step-placement results of RiemannOpt report the same effect).
 *
 * Each round's points, over all examples, are one gradient call (`attribute` with a plain
 * gradient pipeline), chunked under the memory budget like any method. Gradients of all points of
 * an example are kept on the host until the end: points × (input elements per example) × 4 bytes.
 *
 * With `maxSteps = initialSteps + 1` nothing is refined and the result is the uniform trapezoid rule
 * with `initialSteps` intervals (Captum's `riemann_trapezoid` with `initialSteps + 1` steps, up to
 * float summation order).
 *
 * Captum: none (Captum's IG takes a fixed `n_steps`).
 *
 * @category api
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { decodeWith, isHostTensor, NonNegativeNumber, PositiveIntUpTo, PositiveNumber } from '../core/codecs.js'
import type { Model } from '../core/backend.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import { seedOf, type Target } from '../core/target.js'
import { hostGatherRows, sizeOf, type HostTensor } from '../core/tensor.js'
import { stage } from '../dsl/build.js'
import { pipeline } from '../dsl/spec.js'
import { attribute } from './attribute.js'
import type { TensorLike } from './callData.js'

export const AdaptiveIgOptions = t.readonly(
  t.partial({
    /** Stop an example once |Σ IG − (F(x) − F(x′))| ≤ max(tolerance, relativeTolerance · |F(x) − F(x′)|). */
    tolerance: PositiveNumber,
    relativeTolerance: NonNegativeNumber,
    /** Intervals of the first, uniform mesh (so initialSteps + 1 gradients per example). */
    initialSteps: PositiveIntUpTo(65_535),
    /** The most gradient evaluations per example, initial mesh included (at most 65 536: every one is kept). */
    maxSteps: PositiveIntUpTo(65_536),
    /** A round splits the intervals whose indicator is at least this fraction of the largest, in (0, 1]. */
    refineFraction: t.refinement(t.number, (f) => f > 0 && f <= 1, 'Fraction'),
  }),
  'AdaptiveIgOptions',
)
export type AdaptiveIgOptions = t.TypeOf<typeof AdaptiveIgOptions>

export const adaptiveIgDefaults = { tolerance: 1e-3, relativeTolerance: 0, initialSteps: 8, maxSteps: 256, refineFraction: 0.5 } as const

/** The call: what `attribute` takes for IG, with a data target (no target functions). */
export interface AdaptiveIgCall<T> {
  /** One baseline per input (a number for every element, or a tensor of the input's shape or with one row); zeros by default. */
  readonly baselines?: number | TensorLike<T> | readonly (number | TensorLike<T>)[]
  readonly target?: Target
  readonly additionalForwardArgs?: TensorLike<T> | readonly TensorLike<T>[]
  readonly memoryBudgetBytes?: number
  readonly signal?: AbortSignal
}

export interface AdaptiveIgResult {
  /** IG per input, float32, the input's shape. */
  readonly attributions: readonly HostTensor<'float32'>[]
  /** Σ IG − (F(x) − F(x′)) per example (signed, as Captum's convergence delta), float32 `[N]`. */
  readonly delta: HostTensor<'float32'>
  /** Gradient evaluations used per example. */
  readonly passes: readonly number[]
  /** Whether each example reached the tolerance within `maxSteps`. */
  readonly converged: readonly boolean[]
  /** The final mesh of each example (α from 0 to 1). */
  readonly alphas: readonly (readonly number[])[]
  /** Gradient calls made (rounds, the initial mesh included). */
  readonly rounds: number
}

const GRADIENT = pipeline('Gradient', stage.grad())

/** One example's state: its mesh, the gradient and integrand at each point, and interval indicators. */
interface Mesh {
  alphas: number[]
  grads: Float32Array[]
  s: number[]
  /** Indicator of interval [alphas[i], alphas[i + 1]]. */
  ind: number[]
}

const trap = (a: number, b: number, sa: number, sb: number): number => ((b - a) / 2) * (sa + sb)

const isList = (u: unknown): u is readonly unknown[] => Array.isArray(u)

/** The target for `rows` rows, row r explaining example rowExample[r]. */
const targetForRows = (target: Target, rowExample: readonly number[]): Target => {
  if (target !== null && isList(target)) return rowExample.map((e) => (target as readonly (number | readonly number[])[])[e]!) as Target
  return target
}

/**
 * Runs IG on `model` at `inputs` with an adaptive trapezoid mesh per example until the completeness
 * error is within tolerance or `maxSteps` gradients are spent. Never throws.
 */
export const adaptiveIntegratedGradients = <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  call: AdaptiveIgCall<T> = {},
  options: AdaptiveIgOptions = {},
): TE.TaskEither<AttributionError, AdaptiveIgResult> => async () => {
  const decoded = decodeWith(AdaptiveIgOptions, options)
  if (E.isLeft(decoded)) return decoded
  const o = { ...adaptiveIgDefaults, ...decoded.right }
  if (o.maxSteps < o.initialSteps + 1) {
    return E.left(invalidSpec([{ path: ['maxSteps'], message: `maxSteps (${o.maxSteps}) is below the ${o.initialSteps + 1} gradients of the initial mesh (initialSteps + 1): raise maxSteps or lower initialSteps` }]))
  }
  const b = model.backend
  const toHost = async (x: TensorLike<T>, at: readonly string[]): Promise<E.Either<AttributionError, HostTensor>> => {
    if (b.isTensor(x)) return E.right(await b.toHost(x))
    if (isHostTensor(x)) return E.right(x)
    return E.left(invalidSpec([{ path: [...at], message: `not a tensor (give a backend tensor or a host tensor)` }]))
  }
  const xsList = isHostTensor(inputs) || b.isTensor(inputs) ? [inputs as TensorLike<T>] : Array.isArray(inputs) ? (inputs as readonly TensorLike<T>[]) : undefined
  if (xsList === undefined) return E.left(invalidSpec([{ path: ['inputs'], message: 'not a tensor or a list of tensors (give backend tensors or host tensors {dtype, shape, data})' }]))
  if (xsList.length === 0) return E.left(err('EmptyInput', 'no inputs given: pass at least one tensor', ['inputs']))
  const xs: HostTensor[] = []
  for (const [i, x] of xsList.entries()) {
    const h = await toHost(x, ['inputs', String(i)])
    if (E.isLeft(h)) return h
    if (h.right.dtype !== 'float32') return E.left(err('DTypeMismatch', `input ${i} has dtype ${h.right.dtype}; Integrated Gradients needs float32 inputs (for token ids, attribute to the embedding with LayerIntegratedGradients)`, ['inputs', String(i)]))
    if (h.right.shape.length === 0 || h.right.shape[0] === 0) return E.left(err('ShapeMismatch', `input ${i} needs a batch dimension with at least one example (shape [N, …])`, ['inputs', String(i)]))
    xs.push(h.right)
  }
  const N = xs[0]!.shape[0]!
  if (xs.some((x) => x.shape[0] !== N)) return E.left(err('ShapeMismatch', 'inputs disagree on the number of examples', ['inputs']))
  const extrasGiven = call.additionalForwardArgs === undefined ? [] : isHostTensor(call.additionalForwardArgs) || b.isTensor(call.additionalForwardArgs) ? [call.additionalForwardArgs as TensorLike<T>] : (call.additionalForwardArgs as readonly TensorLike<T>[])
  const extras: HostTensor[] = []
  for (const [i, x] of extrasGiven.entries()) {
    const h = await toHost(x, ['additionalForwardArgs', String(i)])
    if (E.isLeft(h)) return h
    if (h.right.shape[0] !== N) return E.left(err('ShapeMismatch', `additionalForwardArgs.${i} has ${h.right.shape[0]} rows for ${N} example(s)`, ['additionalForwardArgs', String(i)]))
    extras.push(h.right)
  }
  // Baselines: one per input, broadcast from a number or a one-row tensor.
  const bGiven = call.baselines === undefined ? xs.map(() => 0) : isList(call.baselines) ? call.baselines : xs.map(() => call.baselines as number | TensorLike<T>)
  if (bGiven.length !== xs.length) return E.left(err('BadBaseline', `${bGiven.length} baseline(s) for ${xs.length} input(s): give one per input`, ['baselines']))
  const per = xs.map((x) => sizeOf(x.shape.slice(1)))
  /** Where input i starts inside one example's flattened row of all inputs. */
  const offsets = per.map((_, i) => per.slice(0, i).reduce((a, c) => a + c, 0))
  const D = per.reduce((a, c) => a + c, 0)
  const x0 = new Float64Array(N * D)
  const dx = new Float64Array(N * D)
  for (let i = 0; i < xs.length; i++) {
    const off = offsets[i]!
    const bi = bGiven[i]!
    let bh: HostTensor | undefined
    if (typeof bi !== 'number') {
      const h = await toHost(bi, ['baselines', String(i)])
      if (E.isLeft(h)) return h
      bh = h.right
      const ok = bh.shape.length === xs[i]!.shape.length && bh.shape.slice(1).every((d, k) => d === xs[i]!.shape[k + 1]) && (bh.shape[0] === N || bh.shape[0] === 1)
      if (!ok) return E.left(err('BadBaseline', `baseline ${i} has shape [${bh.shape.join(', ')}]; its input has shape [${xs[i]!.shape.join(', ')}] (give that shape, or one row)`, ['baselines', String(i)]))
    } else if (!Number.isFinite(bi)) return E.left(err('BadBaseline', `baseline ${i} is ${bi}; baselines must be finite`, ['baselines', String(i)]))
    const xd = xs[i]!.data as Float32Array
    for (let e = 0; e < N; e++) {
      for (let j = 0; j < per[i]!; j++) {
        const base = bh === undefined ? (bi as number) : Number((bh.data as Float32Array)[(bh.shape[0] === 1 ? 0 : e) * per[i]! + j])
        x0[e * D + off + j] = base
        dx[e * D + off + j] = xd[e * per[i]! + j]! - base
      }
    }
  }
  const target = call.target ?? null
  /** Host rows of every input at (example, α) pairs: x′ + α (x − x′), as float32. */
  const rowsAt = (pts: readonly (readonly [number, number])[]): HostTensor<'float32'>[] =>
    xs.map((x, i) => {
      const off = offsets[i]!
      const out = new Float32Array(pts.length * per[i]!)
      pts.forEach(([e, a], r) => {
        for (let j = 0; j < per[i]!; j++) out[r * per[i]! + j] = x0[e * D + off + j]! + a * dx[e * D + off + j]!
      })
      return { dtype: 'float32', shape: [pts.length, ...x.shape.slice(1)], data: out }
    })
  const extraRows = (rowExample: readonly number[]): HostTensor[] => extras.map((h) => hostGatherRows(h, Int32Array.from(rowExample)))
  const budget = call.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: call.memoryBudgetBytes } : {}
  const signal = call.signal ? { signal: call.signal } : {}

  /** ∇F at each (example, α) point, flattened per point ([D] each), and the integrand s there. */
  const gradientsAt = async (pts: readonly (readonly [number, number])[]): Promise<E.Either<AttributionError, { g: Float32Array[]; s: number[] }>> => {
    const rowExample = pts.map(([e]) => e)
    const r = await attribute(GRADIENT, model, rowsAt(pts), {
      target: targetForRows(target, rowExample),
      ...(extras.length > 0 ? { additionalForwardArgs: extraRows(rowExample) } : {}),
      ...budget,
      ...signal,
    })()
    if (E.isLeft(r)) return r
    const g: Float32Array[] = []
    const s: number[] = []
    pts.forEach(([e], row) => {
      const flat = new Float32Array(D)
      let si = 0
      r.right.attributions.forEach((a, i) => flat.set((a.data as Float32Array).subarray(row * per[i]!, (row + 1) * per[i]!), offsets[i]!))
      for (let j = 0; j < D; j++) si += dx[e * D + j]! * flat[j]!
      g.push(flat)
      s.push(si)
    })
    return E.right({ g, s })
  }

  // Round 0: the uniform mesh.
  const n0 = o.initialSteps
  const first: [number, number][] = []
  for (let e = 0; e < N; e++) for (let k = 0; k <= n0; k++) first.push([e, k / n0])
  const g0 = await gradientsAt(first)
  if (E.isLeft(g0)) return g0
  // F(x) − F(x′) per example (after round 0, whose gradient call has checked the inputs against the model): one forward over the N inputs and the N baselines.
  const ends: [number, number][] = []
  for (let e = 0; e < N; e++) ends.push([e, 1], [e, 0])
  const endRows = rowsAt(ends)
  const modelInputs = [...endRows, ...extraRows(ends.map(([e]) => e))].map((h) => b.fromHost(h))
  const dF = new Float64Array(N)
  try {
    const f = await model.forward(modelInputs)()
    if (E.isLeft(f)) return f
    const out = await b.toHost(f.right.output)
    b.dispose(f.right.output)
    for (const c of Object.values(f.right.captured)) b.dispose(c)
    const rowEx = Int32Array.from(ends.map(([e]) => e))
    const seed = seedOf(target, out.shape, rowEx, N, true)
    if (E.isLeft(seed)) return seed
    const P = sizeOf(out.shape.slice(1))
    for (let r = 0; r < ends.length; r++) {
      let v = 0
      for (let j = 0; j < P; j++) v += Number(out.data[r * P + j]) * seed.right.data[r * P + j]!
      const [e, a] = ends[r]!
      dF[e] = dF[e]! + (a === 1 ? v : -v)
    }
  } finally {
    for (const m of modelInputs) b.dispose(m)
  }

  const meshes: Mesh[] = Array.from({ length: N }, (_, e) => {
    const alphas = Array.from({ length: n0 + 1 }, (_, k) => k / n0)
    const grads = g0.right.g.slice(e * (n0 + 1), (e + 1) * (n0 + 1))
    const s = g0.right.s.slice(e * (n0 + 1), (e + 1) * (n0 + 1))
    // Indicators from the mesh with every other point left out: each pair of intervals inherits half the difference.
    const ind = new Array<number>(n0).fill(n0 === 1 ? Infinity : 0)
    for (let k = 0; k + 2 <= n0; k += 2) {
      const d = Math.abs(trap(alphas[k]!, alphas[k + 2]!, s[k]!, s[k + 2]!) - trap(alphas[k]!, alphas[k + 1]!, s[k]!, s[k + 1]!) - trap(alphas[k + 1]!, alphas[k + 2]!, s[k + 1]!, s[k + 2]!))
      ind[k] = d / 2
      ind[k + 1] = d / 2
    }
    if (n0 % 2 === 1 && n0 > 1) ind[n0 - 1] = Math.max(...ind.slice(0, n0 - 1))
    return { alphas, grads, s, ind }
  })
  const integral = (m: Mesh): number => {
    let v = 0
    for (let i = 0; i + 1 < m.alphas.length; i++) v += trap(m.alphas[i]!, m.alphas[i + 1]!, m.s[i]!, m.s[i + 1]!)
    return v
  }
  const allowed = (e: number): number => Math.max(o.tolerance, o.relativeTolerance * Math.abs(dF[e]!))
  const done = (e: number): boolean => Math.abs(integral(meshes[e]!) - dF[e]!) <= allowed(e)
  let rounds = 1
  for (;;) {
    if (call.signal?.aborted) return E.left(err('Cancelled', 'the attribution was cancelled by its AbortSignal'))
    const splits: { e: number; i: number }[] = []
    for (let e = 0; e < N; e++) {
      const m = meshes[e]!
      const left = o.maxSteps - m.alphas.length
      if (done(e) || left <= 0) continue
      const top = Math.max(...m.ind)
      // No indicator points anywhere (the integrand looked flat): refine everywhere.
      const chosen = m.ind
        .map((v, i) => ({ v, i }))
        .filter(({ v }) => (top > 0 ? v >= o.refineFraction * top : true))
        .sort((a, c) => c.v - a.v || a.i - c.i)
        .slice(0, left)
      for (const { i } of chosen) splits.push({ e, i })
    }
    if (splits.length === 0) break
    const pts = splits.map(({ e, i }) => [e, (meshes[e]!.alphas[i]! + meshes[e]!.alphas[i + 1]!) / 2] as const)
    const g = await gradientsAt(pts)
    if (E.isLeft(g)) return g
    rounds++
    // Insert right to left per example so earlier interval indices stay valid.
    const order = splits.map((sp, k) => ({ ...sp, k })).sort((a, c) => a.e - c.e || c.i - a.i)
    for (const { e, i, k } of order) {
      const m = meshes[e]!
      const [a, c] = [m.alphas[i]!, m.alphas[i + 1]!]
      const mid = pts[k]![1]
      const sm = g.right.s[k]!
      const d = Math.abs(trap(a, c, m.s[i]!, m.s[i + 1]!) - trap(a, mid, m.s[i]!, sm) - trap(mid, c, sm, m.s[i + 1]!))
      m.alphas.splice(i + 1, 0, mid)
      m.grads.splice(i + 1, 0, g.right.g[k]!)
      m.s.splice(i + 1, 0, sm)
      m.ind.splice(i, 1, d / 2, d / 2)
    }
  }

  // IG = (x − x′) ⊙ Σ_p w_p ∇F(α_p), per input.
  const attributions = xs.map((x) => ({ dtype: 'float32' as const, shape: [...x.shape], data: new Float32Array(sizeOf(x.shape)) }))
  const delta = new Float32Array(N)
  for (let e = 0; e < N; e++) {
    const m = meshes[e]!
    const acc = new Float64Array(D)
    const L = m.alphas.length
    for (let p = 0; p < L; p++) {
      const w = ((p + 1 < L ? m.alphas[p + 1]! : m.alphas[p]!) - (p > 0 ? m.alphas[p - 1]! : m.alphas[p]!)) / 2
      const gp = m.grads[p]!
      for (let j = 0; j < D; j++) acc[j] = acc[j]! + w * gp[j]!
    }
    let sum = 0
    for (let i = 0; i < xs.length; i++) {
      const off = offsets[i]!
      const out = attributions[i]!.data
      for (let j = 0; j < per[i]!; j++) {
        const v = dx[e * D + off + j]! * acc[off + j]!
        out[e * per[i]! + j] = v
        sum += v
      }
    }
    delta[e] = sum - dF[e]!
  }
  return E.right({
    attributions,
    delta: { dtype: 'float32', shape: [N], data: delta },
    passes: meshes.map((m) => m.alphas.length),
    converged: meshes.map((_, e) => done(e)),
    alphas: meshes.map((m) => [...m.alphas]),
    rounds,
  })
}
