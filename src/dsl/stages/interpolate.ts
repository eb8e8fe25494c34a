/**
 * `interpolate`: points along a path from the baseline x′ to the input x, on a new `path` axis.
 *
 * Straight path (IG): x′ + α_k (x − x′). With a power schedule s(α) = α^p the points are
 * x′ + s(α_k)(x − x′) and the weights carry the path's speed s′(α_k), so
 * Σ_k w_k s′(α_k) ∂F/∂x(point_k) ⊙ (x − x′) still integrates the gradient along the path and
 * completeness still holds. Nodes and weights come from the quadrature rule (Captum's names);
 * `nSteps` is at most `MAX_STEPS`, and the rule is built once per (rule, nSteps), not per chunk.
 * Rows are step-major (row = k·R + r), as in Captum.
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, invalidSpec, type AttributionError } from '../../core/errors.js'
import { QuadratureRule, StepCount, checkSteps, sharedQuadrature } from '../quadratureRules.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { ExpandStageDef, Expanded } from '../stage.js'
import type { Flow, RunContext } from '../flow.js'

export const PathSchedule = t.union([
  t.readonly(t.type({ _tag: t.literal('straight') })),
  t.readonly(t.type({ _tag: t.literal('power'), exponent: t.refinement(t.number, (e) => e > 0 && Number.isFinite(e), 'PositiveExponent') })),
])
export type PathSchedule = t.TypeOf<typeof PathSchedule>

export const InterpolateParams = t.readonly(
  t.intersection([t.type({ nSteps: StepCount, method: QuadratureRule }), t.partial({ path: PathSchedule })]),
)
export type InterpolateParams = t.TypeOf<typeof InterpolateParams>

const scheduleOf = (path: PathSchedule | undefined): { s: (a: number) => number; ds: (a: number) => number } =>
  path === undefined || path._tag === 'straight'
    ? { s: (a) => a, ds: () => 1 }
    : { s: (a) => Math.pow(a, path.exponent), ds: (a) => path.exponent * Math.pow(a, path.exponent - 1) }

export const interpolate: ExpandStageDef<'interpolate', InterpolateParams> = {
  tag: 'interpolate',
  kind: 'expand',
  axis: 'path',
  params: InterpolateParams,
  needs: () => ['baselines'],
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['points'], 'interpolate lays points on the path from x′ to x'), missingSlot(f, ['baseline'], 'this flow lost its baselines (put interpolate before stages that drop them)')],
      () => ({ ...f, kind: 'points', slots: new Set(['baseline']), depth: f.depth + 1 })),
  summary: (p) =>
    `nSteps=${p.nSteps}, method=${p.method}` + (p.path && p.path._tag === 'power' ? `, path=x′+α^${p.path.exponent}(x−x′)` : ''),
  count: (p) => p.nSteps,
  // a size check only: the rule itself is built (once, memoised) when the run needs it
  validate: (p) => {
    const bad = checkSteps(p.method, p.nSteps)
    return bad === undefined ? [] : [{ path: ['nSteps'], message: bad }]
  },
  expand: <T>(p: InterpolateParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => {
    const q = sharedQuadrature(p.method, p.nSteps)
    if (typeof q === 'string') return TE.left(invalidSpec([{ path: ['nSteps'], message: q }]))
    const baseline = flow.baseline
    if (baseline === undefined) {
      return TE.left(err('BadBaseline', 'interpolate needs baselines: this flow has none (put interpolate before stages that drop them)', ['baselines']))
    }
    const { s, ds } = scheduleOf(p.path)
    const b = ctx.backend
    // α rounded to float32, as a float32 scale factor is: x′ + α·(x − x′) for all steps in two
    // broadcast ops ([K, 1, …] against [1, N, …]), the same float32 products and sums as K separate
    // scale-and-add steps, without K small tensors and a concat.
    const K = end - start
    const alphas = Float32Array.from({ length: K }, (_, i) => Math.fround(s(q.alphas[start + i]!)))
    const value = flow.value.map((x, j) => {
      const x0 = baseline[j]!
      const d = ctx.track(b.sub(x, x0))
      if (K === 1) return ctx.track(b.add(x0, ctx.track(b.scale(d, alphas[0]!))))
      const shape = b.shapeOf(d)
      const a = ctx.track(b.fromHost({ dtype: 'float32', shape: [K, ...shape.map(() => 1)], data: alphas }))
      const scaled = ctx.track(b.mul(ctx.track(b.reshape(d, [1, ...shape])), a))
      const points = ctx.track(b.add(ctx.track(b.reshape(x0, [1, ...b.shapeOf(x0)])), scaled))
      return ctx.track(b.reshape(points, [K * (shape[0] ?? 1), ...shape.slice(1)]))
    })
    const R = flow.rowExample.length
    const rowExample = new Int32Array((end - start) * R)
    for (let k = 0; k < end - start; k++) rowExample.set(flow.rowExample, k * R)
    const expandedBaseline = baseline.map((x0) => {
      const copies = Array.from({ length: end - start }, () => x0)
      return copies.length === 1 ? x0 : ctx.track(b.concat(copies, 0))
    })
    const weights = new Float64Array(end - start)
    for (let k = start; k < end; k++) weights[k - start] = q.weights[k]! * ds(q.alphas[k]!)
    return TE.right({ flow: { value, baseline: expandedBaseline, rowExample, space: flow.space }, weights })
  },
}
