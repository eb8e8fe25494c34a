/**
 * `randomPoint`: one point per row on the straight path from its baseline to it,
 * x′ + α(x − x′) with α ~ U(0, 1) drawn per row (shared by the row's input tensors), on a `path`
 * axis of one entry with weight 1. Closed by `quadrature`, it gives the gradient at a random point
 * of the path: Captum's InputBaselineXGradient, the step inside GradientShap, whose mean over
 * samples is an unbiased estimate of Integrated Gradients (Erion et al.'s expected gradients).
 *
 * α is keyed by the row's identity, so results do not depend on chunking.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, uniforms } from '../../core/random.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import { childRowKeys, rowKey, type Flow, type RunContext } from '../flow.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

export const RandomPointParams = t.readonly(t.type({}))
export type RandomPointParams = t.TypeOf<typeof RandomPointParams>

const ALPHA = 0x616c7068

export const randomPoint: ExpandStageDef<'randomPoint', RandomPointParams> = {
  tag: 'randomPoint',
  kind: 'expand',
  axis: 'path',
  params: RandomPointParams,
  needs: () => ['baselines'],
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['points'], 'randomPoint picks a point on the path from x′ to x'), missingSlot(f, ['baseline'], 'this flow has no baselines')],
      () => ({ ...f, kind: 'points', slots: new Set(['baseline']), depth: f.depth + 1 })),
  summary: () => 'x′ + α(x − x′), α ~ U(0, 1) per row',
  count: () => 1,
  expand: <T>(_p: RandomPointParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => {
    const baseline = flow.baseline
    if (baseline === undefined) return TE.left(err('BadBaseline', 'randomPoint needs baselines: this flow has none', ['baselines']))
    const b = ctx.backend
    const R = flow.rowExample.length
    const keys = childRowKeys(flow, start, end)
    const key = foldIn(ctx.key, ALPHA)
    const alpha = new Float32Array(R)
    for (let r = 0; r < R; r++) alpha[r] = uniforms(rowKey(key, keys, r), 1)[0]!
    const value = flow.value.map((x, j) => {
      const x0 = baseline[j]!
      const rank = b.shapeOf(x).length
      const a = ctx.track(b.fromHost({ dtype: 'float32', shape: [R, ...new Array<number>(Math.max(0, rank - 1)).fill(1)], data: alpha }))
      const xf = b.dtypeOf(x) === 'float32' ? x : ctx.track(b.cast(x, 'float32'))
      const x0f = b.dtypeOf(x0) === 'float32' ? x0 : ctx.track(b.cast(x0, 'float32'))
      return ctx.track(b.add(x0f, ctx.track(b.mul(ctx.track(b.sub(xf, x0f)), a))))
    })
    return TE.right({ flow: { value, baseline, rowExample: flow.rowExample, rowKeys: keys, space: flow.space }, weights: Float64Array.of(1) })
  },
}
