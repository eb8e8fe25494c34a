/**
 * Typed constructors for stage specs, so hand-written pipelines read like the math:
 *
 * ```ts
 * pipeline('IntegratedGradients',
 *   stage.interpolate({ nSteps: 50, method: 'gausslegendre' }),
 *   stage.grad(), stage.quadrature(), stage.scaleByDelta())
 * ```
 *
 * One builder per stage of `ALL_STAGES`, derived from the list: `stage.<tag>(params)` returns
 * `{ _tag: '<tag>', ...params }`, and `params` may be left out when the stage's parameters have no
 * required field. A new stage gets its builder from its line in `ALL_STAGES`. The one exception is
 * `apply`, whose only parameter is a pipeline: `stage.apply(method)`.
 *
 * @category dsl
 * @since 0.1.0
 */
import type { AnyStageDef } from './stage.js'
import { ALL_STAGES } from './stages/index.js'
import type { ParamsOf, Pipeline, SpecOf, StageSpec } from './spec.js'

/** A stage's builder: its parameters (optional when none is required) → its spec. */
export type StageBuilder<D> = object extends ParamsOf<D> ? (params?: ParamsOf<D>) => SpecOf<D> : (params: ParamsOf<D>) => SpecOf<D>

/** One builder per stage definition, keyed by tag. */
export type StageBuilders<Defs extends readonly AnyStageDef[]> = { readonly [D in Defs[number] as D['tag']]: StageBuilder<D> }

/** The builders of a list of stage definitions (`{ _tag, ...params }`, `_tag` first as the codec writes it). */
export const buildersOf = <const Defs extends readonly AnyStageDef[]>(defs: Defs): StageBuilders<Defs> =>
  Object.fromEntries(defs.map((d) => [d.tag, (params: object = {}) => ({ _tag: d.tag, ...params })])) as StageBuilders<Defs>

export type ApplySpec = Extract<StageSpec, { readonly _tag: 'apply' }>

export const stage: Omit<StageBuilders<typeof ALL_STAGES>, 'apply'> & {
  /** Runs a whole method on the current rows as its examples (the higher-order stage). */
  readonly apply: (method: Pipeline) => ApplySpec
} = {
  ...buildersOf(ALL_STAGES),
  apply: (method) => ({ _tag: 'apply', pipeline: method }),
}
