/**
 * `apply`: the higher-order stage. It holds a whole pipeline as a parameter and runs it on the
 * flow's rows as if they were the call's examples: inside `noise … sampleMean` that is NoiseTunnel
 * around any method (IntegratedGradients, Occlusion, KernelShap, a layer method, another
 * NoiseTunnel). The inner method's inputs are the rows' points, its baselines the rows' baselines,
 * and targets, additional forward arguments and per-example feature masks follow each row's
 * example. Its attributions (in its own space) and its per-row delta, if it computes one, become
 * the flow.
 *
 * The inner pipeline is checked like any pipeline, when the outer one is decoded; a problem is
 * reported at `stages.<i>.pipeline.stages.<j>`.
 *
 * @category stages
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
// spec.ts imports this file through the stage list: its bindings are read only inside functions.
import { abstractResult, compositionOf } from '../spec.js'
import { InnerPipelineCodec, innerPipelineFields } from '../innerPipeline.js'
import type { MapStageDef } from '../stage.js'


export const ApplyParams = t.readonly(t.type({ pipeline: InnerPipelineCodec }))
export type ApplyParams = t.TypeOf<typeof ApplyParams>

export const apply: MapStageDef<'apply', ApplyParams> = {
  tag: 'apply',
  kind: 'map',
  params: ApplyParams,
  ...innerPipelineFields,
  abstract: (p, f) => {
    const inner = abstractResult(p.pipeline)
    if (E.isLeft(inner)) return `its pipeline ${p.pipeline.name}: ${inner.left.message} (at pipeline.${inner.left.path.join('.')})`
    return firstProblem([
      wrongKind(f, ['points'], `apply runs ${p.pipeline.name} on the current rows as its examples`),
      f.space.kind === 'input' ? undefined : `apply runs ${p.pipeline.name} from model inputs: put it before any layer stage`,
      inner.right.needs.has('baselines') && !f.slots.has('baseline')
        ? `${p.pipeline.name} needs baselines, and this flow has none (an enclosing noise stage passes them on, or draws them from a distribution)`
        : undefined,
    ], () => ({ ...f, kind: 'values', space: inner.right.flow.space, slots: withSlots({ ...f, slots: new Set() }, inner.right.flow.slots.has('delta') ? ['delta'] : []) }))
  },
  summary: (p) => `${p.pipeline.name}: ${compositionOf(p.pipeline)}`,
  run: <T>(p: ApplyParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => ctx.runInner(p.pipeline, flow),
}
