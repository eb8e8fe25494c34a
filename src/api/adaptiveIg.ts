/**
 * Integrated Gradients to a requested accuracy: `adaptiveIntegratedGradients` places the path
 * points where the integrand changes instead of spreading a fixed number evenly, and stops as soon
 * as the completeness error is within the tolerance.
 *
 * Completeness says Σ IG = F(x) − F(x′), and both sides are computable: the right side by two
 * forward passes, the left side from the quadrature. With any rule of points α_p and weights w_p on
 * the path x′ + α(x − x′),
 *
 *   IG(x) ≈ (x − x′) ⊙ Σ_p w_p ∇F(α_p),
 *
 * and the error |Σ IG − (F(x) − F(x′))| is known exactly after every round, not estimated. Where to
 * add points is decided per panel of the path by the scalar integrand s(α) = (x − x′) · ∇F(α)
 * (whose integral is Σ IG); a round splits every panel whose error indicator is at least
 * `refineFraction` of the example's largest. Three panel rules:
 *
 * - `gaussKronrod` (default): 15 Kronrod points inside each panel, its error indicator the
 *   difference between the 15-point Kronrod and the embedded 7-point Gauss value; a split panel is
 *   replaced by its two halves (30 new gradients). Exact for polynomials of degree 22, so a smooth
 *   integrand — a deep network, where thousands of units switch along the path and their kinks blur
 *   into a smooth curve — needs one panel: on the reference resnet18, 15 gradients reach a smaller
 *   completeness error and attribution error than Captum's 50-step Gauss–Legendre (bench/RESULTS.md).
 *   Its points never touch α = 0 or 1, where a network's gradient is often not the limit of its
 *   neighbours' (at an all-zero baseline every max-pool window is a tie and every ReLU sits at 0):
 *   rules that evaluate there (trapezoid, Simpson, Captum's `riemann_trapezoid`) converge only at
 *   first order on such paths.
 * - `simpson`: panels of two intervals with their midpoint; a split adds the two quarter points
 *   and every gradient stays in use.
 * - `trapezoid`: panels of one interval; a split adds its midpoint. The cheapest refinement where
 *   the integrand jumps: on a small ReLU network s is piecewise constant with a few jumps where a
 *   unit switches, bisection closes in on them, and each level costs one gradient (the reference
 *   mlp reaches 1e-4 with 167–185 gradients here, Gauss–Kronrod with 1005).
 *
 * For the mesh rules the indicator of a split panel is the change of its value, inherited (halved)
 * by both halves; the non-uniform path sampling of Kapishnikov et al. and the step-placement results
 * of RiemannOpt report the same effect of placing points where the integrand changes.
 *
 * Each round's points, over all examples, are one gradient call (`attribute` with a plain
 * gradient pipeline), chunked under the memory budget like any method. Gradients of all points in
 * use are kept on the host until the end: points × (input elements per example) × 4 bytes.
 *
 * With `maxSteps = initialSteps + 1` (mesh rules) nothing is refined: the trapezoid rule is then
 * Captum's `riemann_trapezoid` with `initialSteps + 1` steps (up to float summation order), and
 * Simpson's is its Richardson extrapolation (4 T(n) − T(n/2)) / 3.
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
    /**
     * The first, uniform mesh: intervals for the mesh rules (initialSteps + 1 gradients per example,
     * default 8), panels for Gauss–Kronrod (15 gradients each, default 1).
     */
    initialSteps: PositiveIntUpTo(65_535),
    /** The most gradient evaluations per example, initial mesh included (at most 65 536). */
    maxSteps: PositiveIntUpTo(65_536),
    /** A round splits the panels whose indicator is at least this fraction of the largest, in (0, 1]. */
    refineFraction: t.refinement(t.number, (f) => f > 0 && f <= 1, 'Fraction'),
    /**
     * The rule on each panel. `gaussKronrod` (the default): 15 Kronrod points inside each panel
     * (`initialSteps` panels to start), never at α = 0 or 1, exact for polynomials of degree 22; a
     * split panel's points are replaced by its halves' 30. The fewest gradients where the integrand
     * is smooth, as on deep networks, and blind to the value at the baseline itself, where a ReLU
     * network's gradient is often not the limit of its neighbours' (ties in max-pooling, units
     * exactly at 0). `simpson`: panels of two intervals with their midpoint, reusing every point.
     * `trapezoid`: panels of one interval: the cheapest refinement where the integrand jumps, as on
     * small ReLU networks, one new gradient per split.
     */
    rule: t.keyof({ gaussKronrod: null, simpson: null, trapezoid: null }),
  }),
  'AdaptiveIgOptions',
)
export type AdaptiveIgOptions = t.TypeOf<typeof AdaptiveIgOptions>

export const adaptiveIgDefaults = { tolerance: 1e-3, relativeTolerance: 0, initialSteps: 8, maxSteps: 256, refineFraction: 0.5, rule: 'gaussKronrod' } as const

/** Initial panels of the Gauss–Kronrod rule when `initialSteps` is not given (15 gradients each). */
export const GAUSS_KRONROD_INITIAL_PANELS = 1

/**
 * The 15-point Kronrod extension of the 7-point Gauss–Legendre rule on [−1, 1] (the nodes and
 * weights of QUADPACK's QK15): nodes ±x_k, Kronrod weights wk, and the Gauss weights of the
 * Gauss nodes (the odd k here, and 0).
 */
const GK_X = [0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
  0.586087235467691130294144845693013, 0.405845151377397166906606412076961, 0.207784955007898467600689403773245, 0]
const GK_WK = [0.022935322010529224963732008058970, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
  0.169004726639267902826583426598550, 0.190350578064785409913256402421014, 0.204432940075298892414161999234649, 0.209482141084727828012999174891714]
const GK_WG = [0, 0.129484966168869693270611432679082, 0, 0.279705391489276667901467771423780, 0, 0.381830050505118944950369775488975, 0, 0.417959183673469387755102040816327]

/** The 15 points of [a, b] (ascending) with their Kronrod and Gauss weights (Gauss weight 0 off the Gauss nodes). */
export const kronrodPoints = (a: number, b: number): { readonly alphas: number[]; readonly wk: number[]; readonly wg: number[] } => {
  const c = (a + b) / 2
  const h = (b - a) / 2
  const alphas: number[] = []
  const wk: number[] = []
  const wg: number[] = []
  for (let k = 0; k < 8; k++) {
    alphas.push(c - h * GK_X[k]!)
    wk.push(h * GK_WK[k]!)
    wg.push(h * GK_WG[k]!)
  }
  for (let k = 6; k >= 0; k--) {
    alphas.push(c + h * GK_X[k]!)
    wk.push(h * GK_WK[k]!)
    wg.push(h * GK_WG[k]!)
  }
  return { alphas, wk, wg }
}

/** A Gauss–Kronrod panel: its interval, points, gradients, integrand values, Kronrod value and error estimate |K − G|. */
interface KPanel {
  readonly a: number
  readonly b: number
  readonly alphas: readonly number[]
  readonly wk: readonly number[]
  readonly grads: readonly Float32Array[]
  readonly value: number
  readonly err: number
}
const kpanel = (a: number, b: number, grads: readonly Float32Array[], s: readonly number[]): KPanel => {
  const q = kronrodPoints(a, b)
  let k = 0
  let g = 0
  for (let i = 0; i < 15; i++) {
    k += q.wk[i]! * s[i]!
    g += q.wg[i]! * s[i]!
  }
  return { a, b, alphas: q.alphas, wk: q.wk, grads, value: k, err: Math.abs(k - g) }
}

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
  /** Gradient evaluations made per example (Gauss–Kronrod: including those of panels since split). */
  readonly passes: readonly number[]
  /** Whether each example reached the tolerance within `maxSteps`. */
  readonly converged: readonly boolean[]
  /** The points each example's result uses, ascending (mesh rules: from 0 to 1; Gauss–Kronrod: inside (0, 1)). */
  readonly alphas: readonly (readonly number[])[]
  /** Gradient calls made (rounds, the initial mesh included). */
  readonly rounds: number
}

const GRADIENT = pipeline('Gradient', stage.grad())

/**
 * One example's state: its mesh, the gradient and integrand at each point, and panel indicators.
 * Panel k spans points k·w … k·w + w (w = 1 for the trapezoid rule, 2 for Simpson's).
 */
interface Mesh {
  alphas: number[]
  grads: Float32Array[]
  s: number[]
  /** Indicator of panel k. */
  ind: number[]
}

const trap = (a: number, b: number, sa: number, sb: number): number => ((b - a) / 2) * (sa + sb)
/** Simpson's rule on [a, c] with the midpoint's value sm. */
const simpson = (a: number, c: number, sa: number, sm: number, sc: number): number => ((c - a) / 6) * (sa + 4 * sm + sc)

/** A panel rule: its width in intervals, and its value on points `pts` (alphas) with integrand values `vs` (w + 1 each). */
interface PanelRule {
  readonly width: 1 | 2
  readonly value: (pts: readonly number[], vs: readonly number[]) => number
}
const RULES: Readonly<Record<'simpson' | 'trapezoid', PanelRule>> = {
  trapezoid: { width: 1, value: (p, v) => trap(p[0]!, p[1]!, v[0]!, v[1]!) },
  simpson: { width: 2, value: (p, v) => simpson(p[0]!, p[2]!, v[0]!, v[1]!, v[2]!) },
}

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
  const gk = (decoded.right.rule ?? adaptiveIgDefaults.rule) === 'gaussKronrod'
  const o = { ...adaptiveIgDefaults, ...(gk ? { initialSteps: GAUSS_KRONROD_INITIAL_PANELS } : {}), ...decoded.right }
  const rule = RULES[o.rule === 'gaussKronrod' ? 'trapezoid' : o.rule]
  const w = rule.width
  if (gk && o.maxSteps < 15 * o.initialSteps) {
    return E.left(invalidSpec([{ path: ['maxSteps'], message: `maxSteps (${o.maxSteps}) is below the ${15 * o.initialSteps} gradients of the ${o.initialSteps} initial Gauss–Kronrod panel(s) (15 each): raise maxSteps or lower initialSteps` }]))
  }
  if (!gk && o.initialSteps % w !== 0) {
    return E.left(invalidSpec([{ path: ['initialSteps'], message: `Simpson's rule pairs the ${o.initialSteps} initial intervals into panels: give an even initialSteps (or rule: 'trapezoid')` }]))
  }
  if (!gk && o.maxSteps < o.initialSteps + 1) {
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

  // Round 0: the uniform mesh (its Kronrod points, for Gauss–Kronrod panels).
  const n0 = o.initialSteps
  const first: [number, number][] = []
  const mesh0 = gk ? Array.from({ length: n0 }, (_, k) => kronrodPoints(k / n0, (k + 1) / n0).alphas).flat() : Array.from({ length: n0 + 1 }, (_, k) => k / n0)
  for (let e = 0; e < N; e++) for (const a of mesh0) first.push([e, a])
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

  const allowed = (e: number): number => Math.max(o.tolerance, o.relativeTolerance * Math.abs(dF[e]!))
  /** Each example's gradients with their quadrature weights, the points in use, and what it cost. */
  interface Quadrature {
    readonly grads: readonly Float32Array[]
    readonly weights: Float64Array
    readonly alphas: readonly number[]
    readonly passes: number
    readonly converged: boolean
  }
  /** Gauss–Kronrod panels: a round splits the panels whose |K − G| is at least refineFraction of the example's largest. */
  const kronrod = async (): Promise<E.Either<AttributionError, { quads: Quadrature[]; rounds: number }>> => {
    const panels: KPanel[][] = Array.from({ length: N }, (_, e) =>
      Array.from({ length: n0 }, (_, k) => {
        const at = (e * n0 + k) * 15
        return kpanel(k / n0, (k + 1) / n0, g0.right.g.slice(at, at + 15), g0.right.s.slice(at, at + 15))
      }))
    const passes = Array.from({ length: N }, () => 15 * n0)
    const integral = (e: number): number => panels[e]!.reduce((v, p) => v + p.value, 0)
    const done = (e: number): boolean => Math.abs(integral(e) - dF[e]!) <= allowed(e)
    let rounds = 1
    for (;;) {
      if (call.signal?.aborted) return E.left(err('Cancelled', 'the attribution was cancelled by its AbortSignal'))
      const splits: { e: number; i: number }[] = []
      for (let e = 0; e < N; e++) {
        const left = Math.floor((o.maxSteps - passes[e]!) / 30)
        if (done(e) || left <= 0) continue
        const ps = panels[e]!
        const top = Math.max(...ps.map((p) => p.err))
        ps.map((p, i) => ({ v: p.err, i }))
          .filter(({ v }) => (top > 0 ? v >= o.refineFraction * top : true))
          .sort((x, y) => y.v - x.v || x.i - y.i)
          .slice(0, left)
          .forEach(({ i }) => splits.push({ e, i }))
      }
      if (splits.length === 0) break
      const halves = splits.flatMap(({ e, i }) => {
        const p = panels[e]!
        const m = (p[i]!.a + p[i]!.b) / 2
        return [[p[i]!.a, m], [m, p[i]!.b]] as const
      })
      const pts = splits.flatMap(({ e }, k) => [...kronrodPoints(...halves[2 * k]!).alphas, ...kronrodPoints(...halves[2 * k + 1]!).alphas].map((a) => [e, a] as const))
      const g = await gradientsAt(pts)
      if (E.isLeft(g)) return g
      rounds++
      // replace right to left per example so earlier panel indices stay valid
      const order = splits.map((sp, k) => ({ ...sp, k })).sort((x, y) => x.e - y.e || y.i - x.i)
      for (const { e, i, k } of order) {
        const made = [0, 1].map((h) => {
          const at = (2 * k + h) * 15
          const [a, b2] = halves[2 * k + h]!
          return kpanel(a, b2, g.right.g.slice(at, at + 15), g.right.s.slice(at, at + 15))
        })
        panels[e]!.splice(i, 1, ...made)
        passes[e] = passes[e]! + 30
      }
    }
    return E.right({
      rounds,
      quads: panels.map((ps, e) => ({
        grads: ps.flatMap((p) => p.grads),
        weights: Float64Array.from(ps.flatMap((p) => p.wk)),
        alphas: ps.flatMap((p) => p.alphas),
        passes: passes[e]!,
        converged: done(e),
      })),
    })
  }

  /** Trapezoid or Simpson panels over a mesh that keeps every point. */
  const meshed = async (): Promise<E.Either<AttributionError, { quads: Quadrature[]; rounds: number }>> => {
    const meshes: Mesh[] = Array.from({ length: N }, (_, e) => {
      const alphas = Array.from({ length: n0 + 1 }, (_, k) => k / n0)
      const grads = g0.right.g.slice(e * (n0 + 1), (e + 1) * (n0 + 1))
      const s = g0.right.s.slice(e * (n0 + 1), (e + 1) * (n0 + 1))
      // Indicators from the mesh with every other point left out: each pair of panels is compared with
      // the one panel made of their even points, and both inherit half the difference.
      const P = n0 / w
      const ind = new Array<number>(P).fill(P === 1 ? Infinity : 0)
      for (let k = 0; k + 2 <= P; k += 2) {
        const pts = alphas.slice(k * w, (k + 2) * w + 1)
        const vs = s.slice(k * w, (k + 2) * w + 1)
        const big = rule.value(pts.filter((_, i) => i % 2 === 0), vs.filter((_, i) => i % 2 === 0))
        const d = Math.abs(big - rule.value(pts.slice(0, w + 1), vs.slice(0, w + 1)) - rule.value(pts.slice(w), vs.slice(w)))
        ind[k] = d / 2
        ind[k + 1] = d / 2
      }
      if (P % 2 === 1 && P > 1) ind[P - 1] = Math.max(...ind.slice(0, P - 1))
      return { alphas, grads, s, ind }
    })
    /** The value of panel k of mesh m. */
    const panel = (m: Mesh, k: number): number => rule.value(m.alphas.slice(k * w, k * w + w + 1), m.s.slice(k * w, k * w + w + 1))
    const integral = (m: Mesh): number => {
      let v = 0
      for (let k = 0; k < m.ind.length; k++) v += panel(m, k)
      return v
    }
    const done = (e: number): boolean => Math.abs(integral(meshes[e]!) - dF[e]!) <= allowed(e)
    let rounds = 1
    for (;;) {
      if (call.signal?.aborted) return E.left(err('Cancelled', 'the attribution was cancelled by its AbortSignal'))
      const splits: { e: number; i: number }[] = []
      for (let e = 0; e < N; e++) {
        const m = meshes[e]!
        // a split adds w points (the new midpoints of the panel's intervals)
        const left = Math.floor((o.maxSteps - m.alphas.length) / w)
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
      // the new points of each split panel: the midpoints of its w intervals
      const pts = splits.flatMap(({ e, i }) => {
        const a = meshes[e]!.alphas
        return Array.from({ length: w }, (_, q) => [e, (a[i * w + q]! + a[i * w + q + 1]!) / 2] as const)
      })
      const g = await gradientsAt(pts)
      if (E.isLeft(g)) return g
      rounds++
      // Insert right to left per example so earlier panel indices stay valid.
      const order = splits.map((sp, k) => ({ ...sp, k })).sort((a, c) => a.e - c.e || c.i - a.i)
      for (const { e, i, k } of order) {
        const m = meshes[e]!
        const before = panel(m, i)
        // interleave the new midpoints with the panel's points, last first
        for (let q = w - 1; q >= 0; q--) {
          const at = i * w + q + 1
          m.alphas.splice(at, 0, pts[k * w + q]![1])
          m.grads.splice(at, 0, g.right.g[k * w + q]!)
          m.s.splice(at, 0, g.right.s[k * w + q]!)
        }
        m.ind.splice(i, 1, 0, 0)
        const d = Math.abs(before - panel(m, i) - panel(m, i + 1))
        m.ind[i] = d / 2
        m.ind[i + 1] = d / 2
      }
    }
    return E.right({
      rounds,
      quads: meshes.map((m, e) => {
        const L = m.alphas.length
        // each point's weight: the trapezoid rule's (α_{p+1} − α_{p−1}) / 2, or Simpson's h/6, 4h/6, h/6 summed over its panels
        const weights = new Float64Array(L)
        for (let p = 0; p < L; p++) {
          if (w === 1) weights[p] = ((p + 1 < L ? m.alphas[p + 1]! : m.alphas[p]!) - (p > 0 ? m.alphas[p - 1]! : m.alphas[p]!)) / 2
          else if (p % 2 === 1) weights[p] = (4 * (m.alphas[p + 1]! - m.alphas[p - 1]!)) / 6
          else weights[p] = ((p + 2 < L ? m.alphas[p + 2]! - m.alphas[p]! : 0) + (p >= 2 ? m.alphas[p]! - m.alphas[p - 2]! : 0)) / 6
        }
        return { grads: m.grads, weights, alphas: [...m.alphas], passes: L, converged: done(e) }
      }),
    })
  }
  const q = gk ? await kronrod() : await meshed()
  if (E.isLeft(q)) return q
  const { quads, rounds } = q.right

  // IG = (x − x′) ⊙ Σ_p w_p ∇F(α_p), per input.
  const attributions = xs.map((x) => ({ dtype: 'float32' as const, shape: [...x.shape], data: new Float32Array(sizeOf(x.shape)) }))
  const delta = new Float32Array(N)
  for (let e = 0; e < N; e++) {
    const { grads, weights } = quads[e]!
    const acc = new Float64Array(D)
    for (let p = 0; p < grads.length; p++) {
      const wp = weights[p]!
      const gp = grads[p]!
      for (let j = 0; j < D; j++) acc[j] = acc[j]! + wp * gp[j]!
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
    passes: quads.map((m) => m.passes),
    converged: quads.map((m) => m.converged),
    alphas: quads.map((m) => m.alphas),
    rounds,
  })
}
