/**
 * The shape of a stage definition (like tfjs's `GradConfig`): a tag, an io-ts codec for its
 * parameters, and the rules that run it. Three kinds:
 *
 * - `map`: Flow → Flow on the same rows (grad, forward, abs, scaleByDelta, …).
 * - `expand`: adds an axis (`path`, `sample`, `perturbation`) of `count` entries; the interpreter
 *   asks for any sub-range `[start, end)` of it, so it can chunk under the memory budget.
 * - `reduce`: removes the axis its matching expand added. Partial results over chunks are
 *   combined by a monoid (`fold` adds one chunk, `finalize` turns the sum into the result), which
 *   is why results never depend on the chunk size.
 *
 * @category dsl
 * @since 0.1.0
 */
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import type * as t from 'io-ts'
import type { AttributionError } from '../core/errors.js'
import type { AbstractFlow, CallDatum, Slot, Transfer } from './abstract.js'
import type { Flow, InnerPipeline, RunContext } from './flow.js'

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
}

export interface MapStageDef<Tag extends string, P> extends StageBase<Tag, P> {
  readonly kind: 'map'
  /** Model evaluations per row this stage makes (for progress totals); 0 when absent. */
  readonly modelCalls?: number
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
  /** Anything else the matching reducer needs about this chunk (e.g. the coalitions it evaluated); passed on as `ChunkInfo.meta`. */
  readonly meta?: unknown
}

export interface ExpandStageDef<Tag extends string, P> extends StageBase<Tag, P> {
  readonly kind: 'expand'
  readonly axis: Axis
  readonly count: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>) => number
  /** An upper bound on expansion entries per chunk the stage's parameters or call data impose (e.g. Captum's `perturbations_per_eval`). */
  readonly maxPerChunk?: <T>(p: P, ctx: RunContext<T>) => number | undefined
  readonly expand: <T>(p: P, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number) => TaskEither<AttributionError, Expanded<T>>
}

/** What a reducer gets about one chunk. */
export interface ChunkInfo {
  readonly start: number
  readonly end: number
  /** Total size of the expansion axis. */
  readonly count: number
  /** Rows of the flow before expansion. */
  readonly rowsIn: number
  readonly weights?: Float64Array
  /** The chunk's `Expanded.meta`. */
  readonly meta?: unknown
}

export interface ReduceStageDef<Tag extends string, P> extends StageBase<Tag, P> {
  readonly kind: 'reduce'
  readonly axis: Axis
  /**
   * Adds one chunk to the running partial result (`acc` undefined on the first chunk). The
   * interpreter keeps the returned tensors alive across chunks and disposes the previous ones.
   */
  readonly fold: <T>(
    p: P,
    acc: readonly T[] | undefined,
    chunk: Flow<T>,
    info: ChunkInfo,
    ctx: RunContext<T>,
  ) => TaskEither<AttributionError, readonly T[]>
  /** Turns the summed partials into the reduced values (one per tensor of the flow). */
  readonly finalize: <T>(p: P, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>) => TaskEither<AttributionError, readonly T[]>
  /**
   * Slots the reducer carries across its axis. Only `delta` can be carried: a reducer that lists it
   * gets each chunk's delta in the chunk flow and returns the outer delta from {@link finalDelta};
   * any other reducer closing an axis with a delta inside is a `BadPipeline`.
   */
  readonly carries?: readonly Slot[]
  /** The outer delta, built from the same partial result (reducers that carry `delta`). */
  readonly finalDelta?: <T>(p: P, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>) => TaskEither<AttributionError, T | undefined>
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds stages of every parameter type
export type AnyStageDef = MapStageDef<string, any> | ExpandStageDef<string, any> | ReduceStageDef<string, any>
