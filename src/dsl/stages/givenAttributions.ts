/**
 * `givenAttributions`: the explanation is data, not a method. The flow's points become the
 * attributions the call passes (`options.attributions`, one tensor per input, shaped like it;
 * Captum's `attributions` argument of `infidelity`), with the points kept in the `anchor` slot as
 * `explain` keeps them, so a metric can evaluate explanations computed anywhere.
 *
 * @category stages
 * @since 0.4.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

export const GivenAttributionsParams = t.readonly(t.type({}))
export type GivenAttributionsParams = t.TypeOf<typeof GivenAttributionsParams>

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, k) => d === b[k])

export const givenAttributions: MapStageDef<'givenAttributions', GivenAttributionsParams> = {
  tag: 'givenAttributions',
  kind: 'map',
  params: GivenAttributionsParams,
  needs: () => ['attributions'],
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'givenAttributions pairs the call\'s attributions with the inputs they explain'),
      f.space.kind === 'input' && f.depth === 0 ? undefined : 'givenAttributions reads attributions of the call\'s inputs: put it first, before any expansion or layer stage',
    ], () => ({ ...f, kind: 'values', slots: withSlots(f, ['anchor', ...(f.slots.has('baseline') ? ['anchorBaseline' as const] : [])], ['delta']) })),
  summary: () => 'the call\'s attributions',
  run: <T>(_p: GivenAttributionsParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const given = ctx.callData.attributions
    const b = ctx.backend
    if (given === undefined) {
      return TE.left(err('MissingInput', 'this metric evaluates given attributions: pass options.attributions (one tensor per input, shaped like it)', ['attributions']))
    }
    if (given.length !== flow.value.length) {
      return TE.left(err('ShapeMismatch', `${given.length} attribution tensor(s) for ${flow.value.length} input(s): give one per input`, ['attributions']))
    }
    for (let i = 0; i < given.length; i++) {
      const a = b.shapeOf(given[i]!)
      const x = b.shapeOf(flow.value[i]!)
      if (!sameShape(a, x)) {
        return TE.left(err('ShapeMismatch', `attributions ${i} have shape [${a.join(', ')}] but input ${i} has shape [${x.join(', ')}]: attributions must have exactly the inputs' shapes`, ['attributions', String(i)]))
      }
      if (b.dtypeOf(given[i]!) !== 'float32') {
        return TE.left(err('DTypeMismatch', `attributions ${i} are ${b.dtypeOf(given[i]!)}; give float32 attributions`, ['attributions', String(i)]))
      }
    }
    const { delta: _delta, ...kept } = flow
    void _delta
    return TE.right({ ...kept, value: given, anchor: { value: flow.value, ...(flow.baseline !== undefined ? { baseline: flow.baseline } : {}) } })
  },
}
