/**
 * `explain`: the higher-order stage of the metrics. It runs a whole attribution method on the
 * current points as its examples (like `apply`), and keeps what a metric needs next to the
 * explanation: the points it explains (the `anchor` slot: x of e(x)), their baselines, and F(x)
 * when a `reference` stage recorded it. Metrics then perturb the anchor and compare.
 *
 * The method must attribute to the model inputs (a metric perturbs inputs and compares with
 * attributions of the same shape, as Captum requires); a completeness delta it returns is dropped.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import type { AttributionError } from '../../core/errors.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
// spec.ts imports this file through the stage list: its bindings are read only inside functions.
import { PipelineCodec, abstractResult, callDataOf, checkStructure, compositionOf, type Pipeline } from '../spec.js'
import type { MapStageDef } from '../stage.js'

/** The explained method's codec, looked up when used (the pipeline codec is defined over the stages). */
const MethodCodec = new t.Type<Pipeline, Pipeline, unknown>(
  'Pipeline',
  (u): u is Pipeline => PipelineCodec.is(u),
  (u, c) => PipelineCodec.validate(u, c),
  (p) => p,
)

export const ExplainParams = t.readonly(t.type({ pipeline: MethodCodec }))
export type ExplainParams = t.TypeOf<typeof ExplainParams>

export const explain: MapStageDef<'explain', ExplainParams> = {
  tag: 'explain',
  kind: 'map',
  params: ExplainParams,
  inner: (p) => p.pipeline,
  needs: (p) => [...callDataOf(p.pipeline)],
  validate: (p) => checkStructure(p.pipeline).map((i) => ({ path: ['pipeline', ...i.path], message: i.message })),
  abstract: (p, f) => {
    const inner = abstractResult(p.pipeline)
    if (E.isLeft(inner)) return `its method ${p.pipeline.name}: ${inner.left.message} (at pipeline.${inner.left.path.join('.')})`
    return firstProblem([
      wrongKind(f, ['points'], `explain runs ${p.pipeline.name} on the current points`),
      f.space.kind === 'input' ? undefined : `explain runs ${p.pipeline.name} from model inputs: put it before any layer stage`,
      inner.right.flow.space.kind === 'input'
        ? undefined
        : `${p.pipeline.name} attributes to a layer, but a metric compares input perturbations with attributions over the inputs: explain with a method that attributes to the inputs`,
      inner.right.needs.has('baselines') && !f.slots.has('baseline') ? `${p.pipeline.name} needs baselines, and this flow has none` : undefined,
    ], () => ({ ...f, kind: 'values', slots: withSlots(f, ['anchor', ...(f.slots.has('baseline') ? ['anchorBaseline' as const] : [])], ['delta']) }))
  },
  summary: (p) => `${p.pipeline.name}: ${compositionOf(p.pipeline)}`,
  run: <T>(p: ExplainParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> =>
    pipe(
      ctx.runInner(p.pipeline, flow),
      TE.map((res): Flow<T> => {
        const { delta: _delta, ...kept } = flow
        void _delta
        return { ...kept, value: res.value, anchor: { value: flow.value, ...(flow.baseline !== undefined ? { baseline: flow.baseline } : {}) } }
      }),
    ),
}
