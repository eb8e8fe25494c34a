/**
 * `clip`: clamps computed values elementwise to [min, max] (either bound may be left out):
 * clip(a) = min(max(a, min), max). With `{ min: 0 }` it keeps the positive evidence only, as
 * Captum's `relu_attributions=True` does for GradCAM; with both bounds it caps outliers before a
 * heat-map. Rows, space and slots are unchanged.
 *
 * The Backend has `maximum` and no `minimum`: min(a, m) is computed as −max(−a, −m), exact in
 * floating point (negation only flips the sign bit).
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { AttributionError } from '../../core/errors.js'
import { firstProblem, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

const FiniteNumber = t.refinement(t.number, Number.isFinite, 'FiniteNumber')

export const ClipParams = t.readonly(t.partial({ min: FiniteNumber, max: FiniteNumber }))
export type ClipParams = t.TypeOf<typeof ClipParams>

export const clip: MapStageDef<'clip', ClipParams> = {
  tag: 'clip',
  kind: 'map',
  params: ClipParams,
  validate: (p) =>
    p.min === undefined && p.max === undefined
      ? [{ path: [], message: 'clip needs a bound: give min, max or both' }]
      : p.min !== undefined && p.max !== undefined && p.min > p.max
        ? [{ path: ['max'], message: `clip needs min ≤ max, got min ${p.min} and max ${p.max}` }]
        : [],
  abstract: (_p, f) => firstProblem([wrongKind(f, ['values'], 'clip clamps computed values (attributions)')], () => f),
  summary: (p) => `[${p.min ?? '−∞'}, ${p.max ?? '∞'}]`,
  run: <T>(p: ClipParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    const b = ctx.backend
    const bound = (v: T, at: number): T => ctx.track(b.fill(b.shapeOf(v), at, b.dtypeOf(v)))
    const above = (v: T, lo: number): T => ctx.track(b.maximum(v, bound(v, lo)))
    const below = (v: T, hi: number): T => ctx.track(b.scale(above(ctx.track(b.scale(v, -1)), -hi), -1))
    const clamp = (v: T): T => {
      const lo = p.min === undefined ? v : above(v, p.min)
      return p.max === undefined ? lo : below(lo, p.max)
    }
    return TE.right({ ...flow, value: flow.value.map(clamp) })
  },
}
