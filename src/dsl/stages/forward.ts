/**
 * `forward`: the model at every row of a perturbation chunk, target-selected without summing
 * (captum-semantics.md §3.10). The flow's value becomes one `[K, nOut]` matrix: for each of the
 * chunk's K perturbed copies, the nOut selected values (as many as in F(x)). Copies are packed
 * into one model call when the output grows with the batch, else evaluated one call each.
 *
 * @category stages
 * @since 0.1.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { evaluatePerturbed } from '../perturbation/outputs.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { MapStageDef } from '../stage.js'

export const ForwardParams = t.readonly(t.type({}))
export type ForwardParams = t.TypeOf<typeof ForwardParams>

export const forward: MapStageDef<'forward', ForwardParams> = {
  tag: 'forward',
  kind: 'map',
  modelCalls: 1,
  params: ForwardParams,
  // one call per copy when the caller asked for several per call and the output cannot hold them is an error
  needs: () => ['perturbationsPerEval'],
  abstract: (_p, f) =>
    firstProblem([wrongKind(f, ['points'], 'forward evaluates the model'), missingSlot(f, ['reference'], 'put the reference stage before the expansion')], () => ({ ...f, kind: 'outputs' })),
  summary: () => 'F(x̃) per copy',
  run: <T>(_p: ForwardParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const ref = flow.reference
    if (ref === undefined) return TE.left(err('BadPipeline', 'forward compares with F(x): put the reference stage before the expansion', ['stages']))
    const K = flow.rowExample.length / ctx.nExamples
    return pipe(
      evaluatePerturbed(ctx, ref, flow.value, flow.rowExample),
      TE.map((values) => ({
        ...flow,
        value: [ctx.track(ctx.backend.fromHost({ dtype: 'float32', shape: [K, ref.selected.length], data: values }))],
      })),
    )
  },
}
