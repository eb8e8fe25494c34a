/**
 * `multiplyByInputs`: multiplies by the anchor x, the point where the gradient was taken
 * (InputXGradient: x ⊙ ∂F/∂x; LayerGradientXActivation: a ⊙ ∂F/∂a).
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const MultiplyByInputsParams = t.readonly(t.type({}))
export type MultiplyByInputsParams = t.TypeOf<typeof MultiplyByInputsParams>

export const multiplyByInputs: MapStageDef<'multiplyByInputs', MultiplyByInputsParams> = {
  tag: 'multiplyByInputs',
  kind: 'map',
  params: MultiplyByInputsParams,
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['values'], 'multiplyByInputs scales computed values by the point they were computed at'), missingSlot(f, ['anchor'], 'put grad (or a reduction) before it')], () => f),
  summary: () => '⊙ x',
  run: <T>(_p: MultiplyByInputsParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const anchor = flow.anchor
    if (anchor === undefined || anchor.value.length !== flow.value.length) {
      return TE.left(err('BadPipeline', 'multiplyByInputs needs the point the gradient was taken at: place it after grad', ['stages']))
    }
    const value = flow.value.map((v, j) => ctx.track(ctx.backend.mul(v, anchor.value[j]!)))
    return TE.right({ ...flow, value })
  },
}
