/**
 * `eachBaseline`: pairs every row with every reference row of the call's baseline distribution, on
 * a `sample` axis with one entry per reference row: copy k of row r is the row itself with the
 * distribution's row k as its baseline. Closed by `sampleMean({ type: 'smoothgrad' })` it averages
 * a baseline method over the whole background, exactly, with no draws: Captum's DeepLiftShap,
 * which expands the inputs B times and tiles the B baselines (§4.7). The stages inside get
 * `baselines` from this stage, not from the call.
 *
 * The axis has B entries (the distribution's rows), so the interpreter may split it into chunks;
 * every copy carries its own baseline, so a stage that evaluates a row with its reference in one
 * batch (`grad({ referenceRows })`) always has both.
 *
 * @category stages
 * @since 0.3.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import { childRowKeys, type Flow, type RunContext } from '../flow.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

export const EachBaselineParams = t.readonly(t.type({}))
export type EachBaselineParams = t.TypeOf<typeof EachBaselineParams>

/** Reference rows of the call's distribution (the first input's; prepared distributions share B). */
const rowsOfDistribution = <T>(ctx: RunContext<T>): number => {
  const d = ctx.callData.baselineDistribution?.[0]
  return d === undefined ? 0 : ctx.backend.shapeOf(d)[0] ?? 0
}

export const eachBaseline: ExpandStageDef<'eachBaseline', EachBaselineParams> = {
  tag: 'eachBaseline',
  kind: 'expand',
  axis: 'sample',
  params: EachBaselineParams,
  needs: () => ['baselineDistribution'],
  provides: () => ['baselines'],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'eachBaseline pairs model inputs with reference rows'),
      f.space.kind === 'input' ? undefined : 'eachBaseline pairs model inputs with reference rows: put it before any layer stage',
    ], () => ({ ...f, depth: f.depth + 1, slots: withSlots(f, ['baseline']) })),
  summary: () => 'every row with every baseline row of the distribution',
  count: (_p, _flow, ctx) => Math.max(1, rowsOfDistribution(ctx)),
  expand: <T>(_p: EachBaselineParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => {
    const b = ctx.backend
    const dist = ctx.callData.baselineDistribution
    if (dist === undefined || dist.length !== flow.value.length) {
      return TE.left(err('BadBaseline', 'eachBaseline takes its baselines from a distribution: give one tensor of reference rows [B, …one example] per input', ['baselines']))
    }
    const R = flow.rowExample.length
    const K = end - start
    const src = Int32Array.from({ length: K * R }, (_, q) => q % R)
    const pick = Int32Array.from({ length: K * R }, (_, q) => start + Math.floor(q / R))
    const value = flow.value.map((x) => ctx.track(b.gatherRows(x, src)))
    const baseline = dist.map((d) => ctx.track(b.gatherRows(d, pick)))
    return TE.right({
      flow: { value, baseline, rowExample: Int32Array.from(src, (r) => flow.rowExample[r]!), rowKeys: childRowKeys(flow, start, end), space: flow.space },
    })
  },
}
