/**
 * `abs`: elementwise absolute value (Saliency's default `abs=True`).
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const AbsParams = t.readonly(t.type({}))
export type AbsParams = t.TypeOf<typeof AbsParams>

export const abs: MapStageDef<'abs', AbsParams> = {
  tag: 'abs',
  kind: 'map',
  params: AbsParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['values'], 'abs takes the absolute value of computed values')], () => f),
  summary: () => '|·|',
  run: <T>(_p: AbsParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> =>
    TE.right({ ...flow, value: flow.value.map((v) => ctx.track(ctx.backend.abs(v))) }),
}
