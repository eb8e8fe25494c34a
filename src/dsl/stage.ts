/**
 * The shape of a stage definition (like tfjs's `GradConfig`): a tag, an io-ts codec for its
 * parameters, and the rules that run it. Three kinds:
 *
 * - `map`: Flow → Flow on the same rows (grad, forward, abs, scaleByDelta, …).
 * - `expand`: adds an axis (`path`, `sample`, `perturbation`) of `count` entries; the interpreter
 *   asks for any sub-range `[start, end)` of it, so it can chunk under the memory budget.
 * - `reduce`: removes the axis its matching expand added. It is a monoid over chunks (see
 *   `partial.ts`): `lift` turns one chunk into a serialisable partial result, `combine` merges the
 *   partials of adjacent chunks (associative; "no partial" is the identity), `finalize` turns the
 *   partial of the whole axis into the result. That is why results never depend on the chunk size.
 *
 * @category dsl
 * @since 0.1.0
 */
import type { Either } from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type * as t from 'io-ts'
import type { AttributionError } from '../core/errors.js'
import type { AbstractFlow, CallDatum, Slot, Transfer } from './abstract.js'
import type { Flow, InnerPipeline, RunContext } from './flow.js'
import type { PartialResult } from './partial.js'

/** The closed set of expansion axes. */
export type Axis = 'path' | 'sample' | 'perturbation'

interface StageBase<Tag extends string, P> {
  readonly tag: Tag
  /** Codec for the stage's parameters, without the `_tag`. */
  readonly params: t.Type<P, unknown, unknown>
  /** One-line summary of the parameters, for `describe`. */
  readonly summary: (p: P) => string
  /** Checks beyond the codec (e.g. a rule's minimum step count), run before anything executes. */
  readonly validate?: (p: P) => readonly { readonly path: readonly string[]; readonly message: string }[]
  /**
   * The stage on an abstract flow (see `abstract.ts`): the flow it produces, or why it cannot run
   * there. An expanding stage returns the flow inside its expansion; a reducing stage the kind and
   * slots its result has before the interpreter restores the outer slots.
   */
  readonly abstract: (p: P, flow: AbstractFlow) => Transfer
  /** Call data the stage needs (the interpreter prepares exactly what the stages declare). */
  readonly needs?: (p: P) => readonly CallDatum[]
  /**
   * Call data an expanding stage supplies to the stages inside its expansion, so the call need
   * not (a noise stage that draws a baseline per sample from a distribution provides `baselines`).
   */
  readonly provides?: (p: P) => readonly CallDatum[]
  /**
   * Whether an example's result depends on the other examples of its call (a feature permuted
   * across the batch): such a call cannot be split by example without changing its results.
   */
  readonly batchDependent?: (p: P) => boolean
}

export interface MapStageDef<Tag extends string, P> extends StageBase<Tag, P> {
  readonly kind: 'map'
  /**
   * Model rows this stage evaluates per flow row (for progress totals): a number, or one that
   * depends on the parameters and the call's target (a grad that evaluates each row with its
   * reference costs 2, a target expression one forward pass more); 0 when absent.
   */
  readonly modelCalls?: number | ((p: P, call: { readonly target: unknown }) => number)
  /**
   * A higher-order stage's inner pipeline (run by `ctx.runInner` on the flow's rows): the
   * interpreter reads it to plan chunks and progress around it.
   */
  readonly inner?: (p: P) => InnerPipeline
  readonly run: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>) => TaskEither<AttributionError, Flow<T>>
}

/** One chunk of an expansion: the expanded flow and per-expansion-index data for the reducer. */
export interface Expanded<T> {
  readonly flow: Flow<T>
  /** Per expansion index of the chunk (e.g. quadrature weights). */
  readonly weights?: Float64Array
  /**
   * Anything else the matching reducer needs about this chunk (e.g. the coalitions it evaluated);
   * checked by the reducer's `meta` guard and passed on as `ChunkInfo.meta`.
   */
  readonly meta?: unknown
}

export interface ExpandStageDef<Tag extends string, P> extends StageBase<Tag, P> {
  readonly kind: 'expand'
  readonly axis: Axis
  readonly count: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>) => number
  /** An upper bound on expansion entries per chunk the stage's parameters or call data impose (e.g. Captum's `perturbations_per_eval`). */
  readonly maxPerChunk?: <T>(p: P, ctx: RunContext<T>) => number | undefined
  /**
   * What the matching reducer needs about the whole expansion, the same for every chunk (perturb:
   * the feature layout and F(x)). Computed once before the first chunk; checked by the reducer's
   * `scope` guard and passed to its `lift` and `finalize`.
   */
  readonly scope?: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>) => Either<AttributionError, unknown>
  readonly expand: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number) => TaskEither<AttributionError, Expanded<T>>
}

/** A type guard: how a reducer checks the data an expander sends it, instead of casting. */
export type Guard<A> = (u: unknown) => u is A

/** What a reducer knows about the whole expansion it closes. */
export interface ExpansionInfo<S = unknown> {
  /** Total size of the expansion axis. */
  readonly count: number
  /** Rows of the flow before expansion. */
  readonly rowsIn: number
  /** The expander's `scope` (undefined when it has none). */
  readonly scope: S
}

/** What a reducer gets about one chunk. */
export interface ChunkInfo<M = unknown, S = unknown> extends ExpansionInfo<S> {
  readonly start: number
  readonly end: number
  readonly weights?: Float64Array
  /** The chunk's `Expanded.meta`. */
  readonly meta: M
}

/** A reducer's result: the reduced values (one per tensor of the flow) and, when it carries one, the outer delta. */
export interface Reduced<T> {
  readonly value: readonly T[]
  readonly delta?: T
}

/**
 * A reducing stage, as a monoid of {@link PartialResult}s over the chunks of its axis. `M` is the
 * chunk meta and `S` the expansion scope it reads from its expander, each checked by a guard.
 */
export interface ReduceStageDef<Tag extends string, P, M = unknown, S = unknown> extends StageBase<Tag, P> {
  readonly kind: 'reduce'
  readonly axis: Axis
  /** Checks each chunk's `Expanded.meta` before `lift` reads it (absent: the reducer reads none). */
  readonly meta?: Guard<M>
  /** Checks the expander's `scope` before `lift` and `finalize` read it (absent: the reducer reads none). */
  readonly scope?: Guard<S>
  /**
   * One chunk's partial result (covering entries `info.start..info.end`). It may compute on the
   * backend; what it returns is host data, so nothing of the chunk needs to outlive it.
   */
  readonly lift: <T>(p: P, chunk: Flow<T>, info: ChunkInfo<M, S>, ctx: RunContext<T>) => TaskEither<AttributionError, PartialResult>
  /**
   * The partial of `a`'s chunks followed by `b`'s (`b` starts where `a` ends). Associative for any
   * bracketing of chunks kept in order; a Left when the partials do not fit together. Pure: it
   * needs no backend, so partials can be merged anywhere.
   */
  readonly combine: (p: P, a: PartialResult, b: PartialResult) => Either<AttributionError, PartialResult>
  /** The reduced values (and carried delta) from the partial of the whole axis. */
  readonly finalize: <T>(p: P, partial: PartialResult, info: ExpansionInfo<S>, ctx: RunContext<T>) => TaskEither<AttributionError, Reduced<T>>
  /**
   * Slots the reducer carries across its axis. Only `delta` can be carried: a reducer that lists it
   * gets each chunk's delta in the chunk flow and returns the outer delta from `finalize`; any
   * other reducer closing an axis with a delta inside is a `BadPipeline`.
   */
  readonly carries?: readonly Slot[]
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds stages of every parameter type
export type AnyStageDef = MapStageDef<string, any> | ExpandStageDef<string, any> | ReduceStageDef<string, any, any, any>
