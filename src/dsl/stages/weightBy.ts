/**
 * `weightBy`: multiplies the flow's attributions by the map another method computes at the same
 * inputs. The inner pipeline runs on the call's inputs for the flow's rows (as `apply` runs it) and
 * must return one tensor (e.g. a Grad-CAM map upsampled to the input size, (N, 1, H, W)); every
 * attributed tensor is multiplied by it with NumPy broadcasting (the map's single channel spreads
 * over the input's channels). GuidedGradCam (§4.5) is `grad(guided rules) ∘ weightBy(LayerGradCam
 * with ReLU, upsampled to the input)`.
 *
 * The inner pipeline is checked like any pipeline, when the outer one is decoded; a problem is
 * reported at `stages.<i>.pipeline.stages.<j>`.
 *
 * @category stages
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { rowsOf } from '../modelCall.js'
// spec.ts imports this file through the stage list: its bindings are read only inside functions.
import { abstractResult, compositionOf } from '../spec.js'
import { InnerPipelineCodec, innerPipelineFields } from '../innerPipeline.js'
import type { MapStageDef } from '../stage.js'


export const WeightByParams = t.readonly(t.type({ pipeline: InnerPipelineCodec }))
export type WeightByParams = t.TypeOf<typeof WeightByParams>

const showShape = (s: readonly number[]): string => `[${s.join(', ')}]`

/** Can `w` broadcast onto `v` without changing `v`'s shape (same rank, each dim equal or 1)? */
const broadcastsOnto = (w: readonly number[], v: readonly number[]): boolean =>
  w.length === v.length && w.every((d, i) => d === v[i] || d === 1)

export const weightBy: MapStageDef<'weightBy', WeightByParams> = {
  tag: 'weightBy',
  kind: 'map',
  params: WeightByParams,
  ...innerPipelineFields,
  abstract: (p, f) => {
    const inner = abstractResult(p.pipeline)
    if (E.isLeft(inner)) return `its pipeline ${p.pipeline.name}: ${inner.left.message} (at pipeline.${inner.left.path.join('.')})`
    return firstProblem([
      wrongKind(f, ['values'], `weightBy multiplies computed attributions by the map of ${p.pipeline.name}`),
      f.space.kind === 'input' ? undefined : `weightBy weighs attributions to the model inputs by ${p.pipeline.name}: put it before any layer stage`,
      f.depth === 0 ? undefined : `weightBy runs ${p.pipeline.name} on the call's inputs: put it outside any expansion`,
    ], () => f)
  },
  summary: (p) => `⊙ ${p.pipeline.name} (${compositionOf(p.pipeline)})`,
  run: <T>(p: WeightByParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const b = ctx.backend
    const rows = flow.rowExample
    if (flow.space.kind !== 'input') return TE.left(err('BadPipeline', `weightBy weighs attributions to the model inputs by ${p.pipeline.name}: put it before any layer stage`, ['stages']))
    const at: Flow<T> = { value: ctx.inputs.map((x) => rowsOf(ctx, x, rows)), rowExample: rows, space: { kind: 'input' }, ...(flow.rowKeys ? { rowKeys: flow.rowKeys } : {}) }
    return pipe(
      ctx.runInner(p.pipeline, at),
      TE.chainEitherK((inner) => {
        if (inner.value.length !== 1) {
          return E.left(err('BadPipeline', `weightBy needs ${p.pipeline.name} to return one map; it returned ${inner.value.length} tensors (name one layer)`, ['stages']))
        }
        const w = inner.value[0]!
        const ws = b.shapeOf(w)
        const bad = flow.value.findIndex((v) => !broadcastsOnto(ws, b.shapeOf(v)))
        if (bad >= 0) {
          return E.left(err('ShapeMismatch', `the map of ${p.pipeline.name} has shape ${showShape(ws)}, which does not broadcast onto attribution ${bad} of shape ${showShape(b.shapeOf(flow.value[bad]!))}: ` +
            'upsample the map to that input\'s spatial size', ['inputs', String(bad)]))
        }
        return E.right({ ...flow, value: flow.value.map((v) => ctx.track(b.mul(v, w))) })
      }),
    )
  },
}
