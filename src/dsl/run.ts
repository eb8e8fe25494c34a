/**
 * The interpreter: runs any {@link Pipeline} on any backend.
 *
 * It owns Captum's prologue and epilogue once for every method: validating the call, laying out
 * baselines, planning chunks under the memory budget, lifting each chunk to its reducer's partial
 * result and combining the partials (left to right; see `partial.ts`), disposing every intermediate
 * tensor with its chunk, reporting progress, honouring cancellation, and converting the result to
 * host tensors.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { Model } from '../core/backend.js'
import { backendFailure, err, isAttributionError, type AttributionError } from '../core/errors.js'
import { keyOf } from '../core/random.js'
import type { Target, TargetFn } from '../core/target.js'
import type { TargetExpr } from '../core/targetExpr.js'
import type { HostTensor } from '../core/tensor.js'
import { childRowKeys, memoTable, pickCallData, rowKeysOf, type CallData, type ChunkPolicy, type Flow, type InnerPipeline, type Progress, type RunContext, type Space } from './flow.js'
import { extraRows } from './modelCall.js'
import { sameSpace as spaceEquals } from './abstract.js'
import { hostGatherRows } from '../core/tensor.js'
import { nonFiniteIn } from '../core/finite.js'
import { combineOptional, type PartialResult } from './partial.js'
import { callDataOf, compositionOf, decodePipeline, stageDef, type Pipeline, type StageSpec } from './spec.js'
import type { AnyStageDef, ChunkInfo, ExpandStageDef, ReduceStageDef } from './stage.js'

/** Default working-memory budget per chunk: 512 MiB. */
export const DEFAULT_MEMORY_BUDGET = 512 * 1024 * 1024

export interface RunRequest<T> {
  /** Attributed inputs, one row per example (dimension 0), all with the same number of rows. */
  readonly inputs: readonly T[]
  /**
   * The method-specific call data (baselines laid out one row per example, see `prepareBaselines`;
   * a baseline distribution; feature masks; `perturbationsPerEval`; plug-ins). Only the keys the
   * pipeline's stages declare reach them.
   */
  readonly callData?: CallData<T>
  /** Extra model inputs after the attributed ones (never attributed). */
  readonly extraArgs?: readonly T[]
  readonly target?: Target | TargetFn<T> | TargetExpr
  /** Seed of every random draw (stochastic stages only). */
  readonly seed?: number
  readonly chunk?: Partial<ChunkPolicy>
  readonly signal?: AbortSignal
  /**
   * Wall-clock limit for the whole call in milliseconds: past it the run stops with `Cancelled`
   * within one model call, even if a model call never settles.
   */
  readonly timeoutMs?: number
  /** Return NaN/Infinity in results instead of a `NonFinite` error (see `finite.ts`); default false. */
  readonly allowNonFinite?: boolean
  readonly onProgress?: (p: Progress) => void
  /**
   * Index of `inputs`' first row in a larger dataset (default 0). Per-row random draws are keyed by
   * the example's index, so a slice of a dataset run with its offset draws exactly what the rows draw
   * in a run over the whole dataset (the scale-out tasks of `clarus/scale` rely on it).
   */
  readonly exampleOffset?: number
}

/**
 * Which part of a run to do. `whole`: everything (the default). `span`: only the chunks covering
 * entries `[start, end)` of the pipeline's first top-level expansion, returned as the reducer's
 * partial result (a task of a distributed run). `resume`: the rest of the run from the combined
 * partial of all entries, skipping the expansion's model calls. `count`: only the stages before the
 * first expansion, to learn its size (for planning spans).
 */
export type RunMode =
  | { readonly kind: 'whole' }
  | { readonly kind: 'span'; readonly start: number; readonly end: number }
  | { readonly kind: 'resume'; readonly partial: SpanPartial }
  | { readonly kind: 'count' }

/** The partial result of entries `[partial.start, partial.end)` of a run's first top-level expansion (plain data). */
export interface SpanPartial {
  readonly partial: PartialResult
  /** Entries of the whole expansion axis. */
  readonly count: number
  /** The axis's name (`steps`, `samples`, `perturbations`, …). */
  readonly axis: string
  /** Where the values the reducer closed over live (the input, or a layer). */
  readonly space: Space
  /** Model rows evaluated and model calls made for this span. */
  readonly modelRows: number
  readonly chunks: number
}

/** The size of a run's first top-level expansion (absent when the pipeline expands nothing). */
export interface ExpansionSize {
  readonly count: number
  readonly axis: string
}

export interface AttributionMeta {
  readonly method: string
  readonly composition: string
  /** Model rows evaluated (forward or forward+backward), all chunks together. */
  readonly modelRows: number
  /** Model calls made by expanding stages' chunks. */
  readonly chunks: number
  readonly backend: string
}

/** What every method returns: attributions mirroring the inputs (or the layer), and a delta when asked for. */
export interface AttributionResult {
  readonly attributions: readonly HostTensor[]
  readonly delta?: HostTensor
  readonly meta: AttributionMeta
}

type Def = AnyStageDef

/** Lets timers and I/O run (setImmediate in Node, a macrotask elsewhere). */
const nextMacrotask = (): Promise<void> =>
  new Promise((resolve) => {
    const g = globalThis as { setImmediate?: (f: () => void) => unknown }
    if (typeof g.setImmediate === 'function') g.setImmediate(resolve)
    else setTimeout(resolve, 0)
  })

/** Yields to the event loop at most every this many milliseconds of interpreter work. */
const YIELD_EVERY_MS = 10

/**
 * The run's own abort signal: the caller's signal and the timeout, combined. `race(task)` settles
 * with `task`'s result, or with the Cancelled error as soon as either fires, so a model call that
 * never settles cannot keep the run pending.
 */
interface Stopper {
  readonly signal: AbortSignal
  readonly race: <A>(task: Promise<E.Either<AttributionError, A>>) => Promise<E.Either<AttributionError, A>>
  readonly reason: () => AttributionError
  readonly release: () => void
}

const stopperOf = (signal: AbortSignal | undefined, timeoutMs: number | undefined): Stopper => {
  const ctl = new AbortController()
  let reason: AttributionError = err('Cancelled', 'the attribution was cancelled by its AbortSignal')
  const onAbort = (): void => ctl.abort()
  if (signal?.aborted) ctl.abort()
  else signal?.addEventListener('abort', onAbort, { once: true })
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    reason = err('Cancelled', `the attribution took longer than timeoutMs = ${timeoutMs} ms and was stopped`, ['timeoutMs'])
    ctl.abort()
  }, timeoutMs)
  // Each race listens to the signal only until its task settles. (Racing every step against one
  // long-lived `stopped` promise, as `Promise.race([task, stopped])` does, leaves a reaction on it per
  // step that holds the step's result until the run ends: every chunk's expanded rows, gradients and
  // outputs stayed reachable, ≈ 15 MiB per chunk on resnet18, 6 GiB for IG with 2990 steps.)
  const race = <A>(task: Promise<E.Either<AttributionError, A>>): Promise<E.Either<AttributionError, A>> =>
    new Promise((resolve) => {
      if (ctl.signal.aborted) {
        resolve(E.left(reason))
        return
      }
      const fire = (): void => resolve(E.left(reason))
      ctl.signal.addEventListener('abort', fire, { once: true })
      void task.then((r) => {
        ctl.signal.removeEventListener('abort', fire)
        resolve(r)
      })
    })
  return {
    signal: ctl.signal,
    race,
    reason: () => reason,
    release: () => {
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    },
  }
}

const defOf = (s: StageSpec): Def => stageDef(s._tag)!
const paramsOf = (s: StageSpec): unknown => {
  const { _tag, ...params } = s as { _tag: string } & Record<string, unknown>
  void _tag
  return params
}

/** Index of the reducer matching the expansion at `i`. */
const matchingReduce = (stages: readonly StageSpec[], i: number): number => {
  let depth = 0
  for (let j = i + 1; j < stages.length; j++) {
    const d = defOf(stages[j]!)
    if (d.kind === 'expand') depth++
    if (d.kind === 'reduce') {
      if (depth === 0) return j
      depth--
    }
  }
  return -1
}

const validateCall = <T>(model: Model<T>, req: RunRequest<T>, needs: ReadonlySet<string>, callData: CallData<T>): E.Either<AttributionError, number> => {
  const b = model.backend
  if (req.inputs.length === 0) return E.left(err('EmptyInput', 'no inputs given: pass at least one tensor', ['inputs']))
  const shapes = req.inputs.map((x) => b.shapeOf(x))
  for (let i = 0; i < shapes.length; i++) {
    const s = shapes[i]!
    if (s.length === 0) return E.left(err('ShapeMismatch', `input ${i} is a scalar; inputs need a batch dimension first (shape [N, …])`, ['inputs', String(i)]))
    if (s[0] === 0) return E.left(err('EmptyInput', `input ${i} has no examples (shape [${s.join(', ')}])`, ['inputs', String(i)]))
    if (s[0] !== shapes[0]![0]) {
      return E.left(err('ShapeMismatch', `inputs disagree on the number of examples: input 0 has ${shapes[0]![0]}, input ${i} has ${s[0]}`, ['inputs', String(i)]))
    }
  }
  const n = shapes[0]![0]!
  if (needs.has('floatInputs')) {
    for (let i = 0; i < req.inputs.length; i++) {
      const d = b.dtypeOf(req.inputs[i]!)
      if (d !== 'float32') {
        return E.left(err('DTypeMismatch', `input ${i} has dtype ${d}; gradients need float32 inputs. ` +
          'For token ids or other integer inputs, attribute to an internal tensor instead (e.g. LayerIntegratedGradients on the embedding output) or use a perturbation method', ['inputs', String(i)]))
      }
    }
  }
  const baselines = callData.baselines ?? []
  for (let i = 0; i < baselines.length; i++) {
    const bs = b.shapeOf(baselines[i]!)
    const s = shapes[i]
    if (s === undefined || bs.length !== s.length || bs.some((d, k) => d !== s[k])) {
      return E.left(err('BadBaseline', `baseline ${i} has shape [${bs.join(', ')}] but its input has shape [${(s ?? []).join(', ')}]`, ['baselines', String(i)]))
    }
  }
  return E.right(n)
}

/** What a run in each mode produces. */
type RunOutput =
  | { readonly kind: 'result'; readonly result: AttributionResult }
  | { readonly kind: 'span'; readonly span: SpanPartial }
  | { readonly kind: 'count'; readonly size: ExpansionSize | undefined }

/**
 * Runs `p` on `model`. Never throws: every failure (bad spec, bad call, model error) is a typed
 * error in the Left.
 */
export const runPipeline = <T>(p: Pipeline, model: Model<T>, req: RunRequest<T>): TE.TaskEither<AttributionError, AttributionResult> =>
  TE.map((o: RunOutput) => (o as Extract<RunOutput, { kind: 'result' }>).result)(runIn({ kind: 'whole' }, p, model, req))

/**
 * Runs the chunks covering entries `[start, end)` of `p`'s first top-level expansion and returns
 * their partial result, for a distributed run: the partials of spans that tile `[0, count)`, combined
 * in order ({@link combineSpans}), finish the run with {@link resumeFromSpans}. The spans' row keys,
 * seeds and chunk contents do not depend on the tiling, so the result does not either (bit for bit
 * where the reducer's addition is exact, which it is for every summing reducer: `partial.ts`).
 */
export const runSpan = <T>(p: Pipeline, model: Model<T>, req: RunRequest<T>, start: number, end: number): TE.TaskEither<AttributionError, SpanPartial> =>
  TE.map((o: RunOutput) => (o as Extract<RunOutput, { kind: 'span' }>).span)(runIn({ kind: 'span', start, end }, p, model, req))

/** Finishes a run from the combined partial of its whole first expansion (see {@link runSpan}). */
export const resumeFromSpans = <T>(p: Pipeline, model: Model<T>, req: RunRequest<T>, whole: SpanPartial): TE.TaskEither<AttributionError, AttributionResult> =>
  TE.map((o: RunOutput) => (o as Extract<RunOutput, { kind: 'result' }>).result)(runIn({ kind: 'resume', partial: whole }, p, model, req))

/** The size of `p`'s first top-level expansion for this call (runs only the stages before it). */
export const expansionSize = <T>(p: Pipeline, model: Model<T>, req: RunRequest<T>): TE.TaskEither<AttributionError, ExpansionSize | undefined> =>
  TE.map((o: RunOutput) => (o as Extract<RunOutput, { kind: 'count' }>).size)(runIn({ kind: 'count' }, p, model, req))

/** Combines span partials given in order (adjacent, first to last) with the reducer of `p`'s first expansion. */
export const combineSpans = (p: Pipeline, spans: readonly SpanPartial[]): E.Either<AttributionError, SpanPartial> => {
  const decoded = decodePipeline(p)
  if (E.isLeft(decoded)) return decoded
  const stages = decoded.right.stages
  const i = stages.findIndex((s) => defOf(s).kind === 'expand')
  const j = i < 0 ? -1 : matchingReduce(stages, i)
  if (j < 0) return E.left(err('BadPipeline', `${p.name} has no expansion to split into spans`, ['stages']))
  if (spans.length === 0) return E.left(err('EmptyInput', 'no span partials to combine', ['spans']))
  const red = defOf(stages[j]!) as ReduceStageDef<string, unknown, unknown, unknown>
  const rp = paramsOf(stages[j]!)
  let acc: PartialResult | undefined
  for (const s of spans) {
    if (s.count !== spans[0]!.count) return E.left(err('BadPipeline', `span partials of expansions of ${spans[0]!.count} and ${s.count} entries do not combine`, ['spans']))
    const next = combineOptional(red.combine, rp, acc, s.partial)
    if (E.isLeft(next)) return next
    acc = next.right
  }
  const first = spans[0]!
  return E.right({
    partial: acc!,
    count: first.count,
    axis: first.axis,
    space: first.space,
    modelRows: spans.reduce((a, s) => a + s.modelRows, 0),
    chunks: spans.reduce((a, s) => a + s.chunks, 0),
  })
}

const runIn = <T>(mode: RunMode, p: Pipeline, model: Model<T>, req: RunRequest<T>): TE.TaskEither<AttributionError, RunOutput> => {
  const decoded = decodePipeline(p)
  if (E.isLeft(decoded)) return TE.left(decoded.left)
  // The stages get exactly the call data they declare (abstract.ts), whatever the request holds.
  const needs = callDataOf(p)
  const callData = pickCallData(req.callData ?? {}, needs)
  const valid = validateCall(model, req, needs, callData)
  if (E.isLeft(valid)) return TE.left(valid.left)
  const n = valid.right
  const backend = model.backend
  const scopes: Set<T>[] = [new Set()]
  let modelRows = 0
  let chunks = 0
  let planned = 0
  const chunk: ChunkPolicy = { memoryBudgetBytes: model.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET, ...req.chunk }
  const stop = stopperOf(req.signal, req.timeoutMs)
  let lastYield = Date.now()
  let finished = false
  /** Checks for cancellation, and lets the event loop breathe when the run has held it for a while. */
  const checkpoint = async (): Promise<E.Either<AttributionError, void>> => {
    if (Date.now() - lastYield >= YIELD_EVERY_MS) {
      await nextMacrotask()
      lastYield = Date.now()
    }
    return stop.signal.aborted ? E.left(stop.reason()) : E.right(undefined)
  }
  const ctx: RunContext<T> = {
    runInner: (inner, flow) => runInner(inner, flow, ctx),
    model,
    backend,
    nExamples: n,
    inputs: req.inputs,
    callData,
    extraArgs: req.extraArgs ?? [],
    target: req.target ?? null,
    key: keyOf(req.seed ?? 0),
    chunk,
    signal: stop.signal,
    modelOptions: req.allowNonFinite === true ? { allowNonFinite: true } : {},
    memo: memoTable(),
    track: (t) => {
      // A step still running after the run ended (it was cancelled while a model call hung) frees what it makes.
      if (finished) backend.dispose(t)
      else scopes[scopes.length - 1]!.add(t)
      return t
    },
    tick: (rows) => {
      modelRows += rows
      req.onProgress?.({ done: modelRows, total: Math.max(planned, modelRows) })
    },
  }
  const stages = p.stages
  /** Set when a span or count run has what it came for (the rest of the pipeline is skipped). */
  let stopped: Exclude<RunOutput, { kind: 'result' }> | undefined
  let firstExpansionSeen = false

  /** Model rows per example of `stages` (for progress totals), higher-order stages included. */
  const rowsPerExample = (ss: readonly StageSpec[], c: RunContext<T>, flow: Flow<T>): number => {
    let factor = 1
    let total = 0
    const factors: number[] = []
    for (const s of ss) {
      const d = defOf(s)
      if (d.kind === 'expand') {
        factors.push(factor)
        factor *= (d as ExpandStageDef<string, unknown>).count(paramsOf(s), flow, c)
      } else if (d.kind === 'reduce') factor = factors.pop() ?? 1
      else {
        const calls = d.modelCalls
        total += (typeof calls === 'function' ? calls(paramsOf(s), c) : calls ?? 0) * factor
        const inner = d.inner?.(paramsOf(s))
        if (inner !== undefined) total += factor * rowsPerExample(inner.stages as readonly StageSpec[], c, flow)
      }
    }
    return total
  }
  /** Rows each row of the flow becomes inside a higher-order stage's inner pipeline (its top-level expansions). */
  const innerFactor = (ss: readonly StageSpec[], c: RunContext<T>, flow: Flow<T>): number => {
    let f = 1
    let depth = 0
    for (const s of ss) {
      const d = defOf(s)
      if (d.kind === 'expand') {
        if (depth === 0) f *= (d as ExpandStageDef<string, unknown>).count(paramsOf(s), flow, c)
        depth++
      } else if (d.kind === 'reduce') depth--
    }
    return f
  }
  const initialFlow: Flow<T> = { value: req.inputs, rowExample: new Int32Array(n), space: { kind: 'input' } }
  planned = n * rowsPerExample(stages, ctx, initialFlow)

  const bytesPerRow = (): number => {
    const est = model.bytesPerRow?.(req.inputs)
    if (est !== undefined && est > 0) return est
    return req.inputs.reduce((a, x) => a + backend.shapeOf(x).slice(1).reduce((u, v) => u * v, 1) * 4, 0) * 64
  }

  const disposeScope = (s: Set<T>, keep: ReadonlySet<T>): void => {
    for (const t of s) if (!keep.has(t)) backend.dispose(t)
    s.clear()
  }

  /** Runs one step of a stage: thrown errors become typed, and cancellation wins over a step that never settles. */
  const guard = <A>(f: () => TE.TaskEither<AttributionError, A>): TE.TaskEither<AttributionError, A> => () => {
    let task: Promise<E.Either<AttributionError, A>>
    try {
      task = f()().catch((e: unknown) => E.left(isAttributionError(e) ? e : backendFailure(`a stage failed: ${e instanceof Error ? e.message : String(e)}`, e)))
    } catch (e) {
      task = Promise.resolve(E.left(isAttributionError(e) ? e : backendFailure(`a stage failed: ${e instanceof Error ? e.message : String(e)}`, e)))
    }
    return stop.race(task)
  }

  /** The progress total: rows done so far plus what `rest` will evaluate from `flow`. */
  const replanFrom = (rest: readonly StageSpec[], c: RunContext<T>, flow: Flow<T>): void => {
    planned = modelRows + flow.rowExample.length * rowsPerExample(rest, c, flow)
  }

  /**
   * Runs stages [from, to). `replan` (the call's own pipeline, outside any expansion): before each
   * expansion the progress total is planned again from the flow as it now is, since a count the
   * first plan could not know (the size of a layer that layer perturbation expands over) is known
   * once the stages before it have run.
   */
  const exec = (stages: readonly StageSpec[], ctx: RunContext<T>, from: number, to: number, flow0: Flow<T>, replan = false): TE.TaskEither<AttributionError, Flow<T>> => async () => {
    let flow = flow0
    for (let i = from; i < to; i++) {
      const go = await checkpoint()
      if (E.isLeft(go)) return go
      const s = stages[i]!
      const d = defOf(s)
      const params = paramsOf(s)
      if (stopped !== undefined) return E.right(flow)
      if (d.kind === 'map') {
        const r = await guard(() => d.run(params, flow, ctx))()
        if (E.isLeft(r)) return r
        flow = r.right
        continue
      }
      if (d.kind === 'reduce') return E.left(err('BadPipeline', `unmatched reducing stage ${s._tag}`, ['stages', String(i)]))
      if (replan) replanFrom(stages.slice(i, to), ctx, flow)
      const j = matchingReduce(stages, i)
      const red = defOf(stages[j]!) as ReduceStageDef<string, unknown, unknown, unknown>
      const exp = d as ExpandStageDef<string, unknown>
      const count = exp.count(params, flow, ctx)
      const rowsIn = flow.rowExample.length
      let inner = 1
      for (let k = i + 1; k < j; k++) {
        const dk = defOf(stages[k]!)
        if (dk.kind === 'expand') inner *= (dk as ExpandStageDef<string, unknown>).count(paramsOf(stages[k]!), flow, ctx)
        const nested = dk.kind === 'map' ? dk.inner?.(paramsOf(stages[k]!)) : undefined
        if (nested !== undefined) inner *= innerFactor(nested.stages as readonly StageSpec[], ctx, flow)
      }
      const planned = chunk.internalBatchSize !== undefined
        ? Math.max(1, Math.floor(chunk.internalBatchSize / rowsIn))
        : Math.max(1, Math.floor(Math.min(chunk.maxRowsPerCall ?? Infinity, chunk.memoryBudgetBytes / bytesPerRow()) / (rowsIn * inner)))
      const cap = exp.maxPerChunk?.(params, ctx)
      const perChunk = cap !== undefined ? Math.max(1, Math.min(planned, cap)) : planned
      const rp = paramsOf(stages[j]!)
      const at = ['stages', String(j)]
      const scope = await guard(() => TE.fromEither(exp.scope?.(params, flow, ctx) ?? E.right(undefined)))()
      if (E.isLeft(scope)) return scope
      if (red.scope !== undefined && !red.scope(scope.right)) {
        return E.left(err('BadPipeline', `${stages[j]!._tag} cannot close the '${exp.axis}' axis opened by ${s._tag}: ${s._tag} does not describe its expansion the way ${stages[j]!._tag} needs`, at))
      }
      // The first top-level expansion is where a span or resumed run departs from a whole one.
      const first = replan && !firstExpansionSeen
      if (first) firstExpansionSeen = true
      if (first && mode.kind === 'count') {
        stopped = { kind: 'count', size: { count, axis: exp.axis } }
        return E.right(flow)
      }
      let lo = 0
      let hi = count
      // Each chunk is lifted to a host partial inside its own disposal scope, so nothing of it outlives it.
      let acc: PartialResult | undefined
      let innerSpace = flow.space
      if (first && mode.kind === 'span') {
        if (!(Number.isInteger(mode.start) && Number.isInteger(mode.end) && mode.start >= 0 && mode.start < mode.end && mode.end <= count)) {
          return E.left(err('BadPipeline', `span [${mode.start}, ${mode.end}) is not a non-empty range of the ${count} entries of ${s._tag}'s '${exp.axis}' axis`, ['span']))
        }
        lo = mode.start
        hi = mode.end
      }
      if (first && mode.kind === 'resume') {
        const w = mode.partial
        if (w.count !== count || w.partial.start !== 0 || w.partial.end !== count || w.axis !== exp.axis) {
          return E.left(err('BadPipeline', `the combined partial covers entries [${w.partial.start}, ${w.partial.end}) of a '${w.axis}' axis of ${w.count}; this run's ${s._tag} expands its '${exp.axis}' axis to ${count}`, ['spans']))
        }
        acc = w.partial
        innerSpace = w.space
        hi = 0
      }
      const chunks0 = chunks
      const rows0 = modelRows
      for (let start = lo; start < hi; start += perChunk) {
        const go = await checkpoint()
        if (E.isLeft(go)) return go
        const end = Math.min(hi, start + perChunk)
        const chunkScope = new Set<T>()
        scopes.push(chunkScope)
        const expanded = await guard(() => exp.expand(params, flow, ctx, start, end))()
        if (E.isLeft(expanded)) return expanded
        const out = await exec(stages, ctx, i + 1, j, { ...expanded.right.flow, rowKeys: childRowKeys(flow, start, end) })()
        if (E.isLeft(out)) return out
        const meta = expanded.right.meta
        if (red.meta !== undefined && !red.meta(meta)) {
          return E.left(err('BadPipeline', `${stages[j]!._tag} cannot close the '${exp.axis}' axis opened by ${s._tag}: the chunks of ${s._tag} do not carry what ${stages[j]!._tag} needs`, at))
        }
        const info: ChunkInfo = { start, end, count, rowsIn, scope: scope.right, meta, ...(expanded.right.weights ? { weights: expanded.right.weights } : {}) }
        const part = await guard(() => red.lift(rp, out.right, info, ctx))()
        scopes.pop()
        disposeScope(chunkScope, new Set())
        if (E.isLeft(part)) return part
        if (part.right.start !== start || part.right.end !== end) {
          return E.left(err('BadPipeline', `${stages[j]!._tag} lifted entries [${start}, ${end}) to a partial for [${part.right.start}, ${part.right.end})`, at))
        }
        const next = combineOptional(red.combine, rp, acc, part.right)
        if (E.isLeft(next)) return next
        acc = next.right
        chunks++
        innerSpace = out.right.space
      }
      if (acc === undefined) return E.left(err('EmptyInput', `stage ${s._tag} expanded to zero entries`, ['stages', String(i)]))
      if (first && mode.kind === 'span') {
        stopped = { kind: 'span', span: { partial: acc, count, axis: exp.axis, space: innerSpace, modelRows: modelRows - rows0, chunks: chunks - chunks0 } }
        return E.right(flow)
      }
      if (acc.start !== 0 || acc.end !== count) {
        return E.left(err('BadPipeline', `${stages[j]!._tag}: the partial results cover entries [${acc.start}, ${acc.end}), not the whole axis [0, ${count})`, at))
      }
      const whole = acc
      const fin = await guard(() => red.finalize(rp, whole, { count, rowsIn, scope: scope.right }, ctx))()
      if (E.isLeft(fin)) return fin
      const carried = red.carries?.includes('delta') === true ? fin.right.delta : undefined
      const sameSpace = spaceEquals(innerSpace, flow.space)
      flow = {
        value: fin.right.value,
        rowExample: flow.rowExample,
        space: innerSpace,
        ...(sameSpace && flow.baseline ? { baseline: flow.baseline } : {}),
        ...(sameSpace ? { anchor: { value: flow.value, ...(flow.baseline ? { baseline: flow.baseline } : {}) } } : {}),
        ...(flow.rowKeys ? { rowKeys: flow.rowKeys } : {}),
        ...(carried !== undefined ? { delta: carried } : {}),
      }
      i = j
    }
    return E.right(flow)
  }
  /**
   * The higher-order `apply` stage: `inner` runs on the rows of `flow` as its examples, with a
   * context whose inputs, baselines, targets, extra arguments and masks are laid out for those rows.
   * Draws keyed by design item (perturbation coalitions) use the call's key, so a method wrapped
   * around unchanged copies draws what it draws alone; per-row draws use the rows' keys.
   */
  const runInner = (inner: InnerPipeline, flow: Flow<T>, outer: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => {
    if (flow.space.kind !== 'input') return TE.left(err('BadPipeline', `apply(${inner.name}) runs a method from model inputs: put it before any layer stage`, ['stages']))
    const rows = flow.rowExample
    const R = rows.length
    const masks = outer.callData.featureMask?.map((m) => (m.shape[0] === outer.nExamples && outer.nExamples > 1 ? hostGatherRows(m, rows) : m))
    // a per-example layer mask follows the rows too
    const lm = outer.callData.layerMask
    const layerMask = lm !== undefined && lm.shape[0] === outer.nExamples && outer.nExamples > 1 ? hostGatherRows(lm, rows) : lm
    // and so do layer baselines given per example ([N, …] with N > 1; a layer has a batch dimension and at least one more)
    const lb = outer.callData.layerBaselines
    const lbShape = lb === undefined ? [] : outer.backend.shapeOf(lb)
    const layerBaselines = lb !== undefined && lbShape.length >= 2 && lbShape[0] === outer.nExamples && outer.nExamples > 1 ? outer.track(outer.backend.gatherRows(lb, rows)) : lb
    // The inner call's baselines are the rows' baselines (none when the flow has none), its masks follow the rows.
    const { baselines: _outerBaselines, featureMask: _outerMasks, layerMask: _outerLayerMask, layerBaselines: _outerLayerBaselines, ...shared } = outer.callData
    void _outerBaselines
    void _outerMasks
    void _outerLayerMask
    void _outerLayerBaselines
    const c: RunContext<T> = {
      ...outer,
      nExamples: R,
      inputs: flow.value,
      callData: {
        ...shared,
        ...(flow.baseline !== undefined ? { baselines: flow.baseline } : {}),
        ...(masks !== undefined ? { featureMask: masks } : {}),
        ...(layerMask !== undefined ? { layerMask } : {}),
        ...(layerBaselines !== undefined ? { layerBaselines } : {}),
      },
      extraArgs: extraRows(outer, rows),
      targetExamples: outer.targetExamples === undefined
        ? { of: rows, n: outer.nExamples }
        : { of: Int32Array.from(rows, (r) => outer.targetExamples!.of[r]!), n: outer.targetExamples.n },
      memo: memoTable(),
      runInner: (p2, f2) => runInner(p2, f2, c),
    }
    const ss = inner.stages as readonly StageSpec[]
    const start: Flow<T> = {
      value: flow.value,
      ...(flow.baseline !== undefined ? { baseline: flow.baseline } : {}),
      rowExample: Int32Array.from({ length: R }, (_, r) => r),
      rowKeys: rowKeysOf(flow),
      space: { kind: 'input' },
    }
    return TE.map((res: Flow<T>): Flow<T> => ({
      value: res.value,
      rowExample: rows,
      rowKeys: rowKeysOf(flow),
      space: res.space,
      ...(res.delta !== undefined ? { delta: res.delta } : {}),
    }))(exec(ss, c, 0, ss.length, start))
  }

  const offset = req.exampleOffset ?? 0
  const initial: Flow<T> = {
    value: req.inputs,
    ...(callData.baselines ? { baseline: callData.baselines } : {}),
    rowExample: Int32Array.from({ length: n }, (_, i) => i),
    // row keys are the examples' indices in the dataset (rowKeysOf's default when the offset is 0)
    ...(offset !== 0 ? { rowKeys: Uint32Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? offset + k / 2 : 0)) } : {}),
    space: { kind: 'input' },
  }

  /** The call data, checked for NaN and Infinity before the first model call. */
  const checkCallData = async (): Promise<E.Either<AttributionError, void>> => {
    if (req.allowNonFinite === true) return E.right(undefined)
    const groups: [string, readonly T[] | undefined, string][] = [
      ['inputs', req.inputs, 'clean or impute the input first'],
      ['baselines', callData.baselines, 'baselines must be finite reference values'],
      ['baselines', callData.baselineDistribution, 'baselines must be finite reference values'],
      ['layerBaselines', callData.layerBaselines !== undefined ? [callData.layerBaselines] : undefined, 'layer baselines must be finite reference values'],
      ['additionalForwardArgs', req.extraArgs, 'additional forward arguments must be finite'],
    ]
    for (const [field, ts, advice] of groups) {
      for (let i = 0; i < (ts ?? []).length; i++) {
        const bad = nonFiniteIn(await backend.toHost(ts![i]!), [field, String(i)], `${field} ${i}`, advice)
        if (bad !== undefined) return E.left(bad)
      }
    }
    const target = req.target
    if (typeof target === 'object' && target !== null && !Array.isArray(target) && 'mask' in target) {
      const bad = nonFiniteIn(target.mask, ['target', 'mask'], 'the target mask', 'a mask weights the model outputs and must be finite')
      if (bad !== undefined) return E.left(bad)
    }
    return E.right(undefined)
  }

  return async () => {
    try {
      const callData = await checkCallData()
      if (E.isLeft(callData)) return callData
      const out = await exec(stages, ctx, 0, stages.length, initial, true)()
      if (E.isLeft(out)) return out
      if (stopped !== undefined) return E.right(stopped)
      if (mode.kind === 'count') return E.right({ kind: 'count', size: undefined })
      if (mode.kind !== 'whole' && !firstExpansionSeen) return E.left(err('BadPipeline', `${p.name} has no expansion to split into spans: run it whole`, ['stages']))
      // the last report says done = total, even where the plan was off
      if (modelRows !== planned) req.onProgress?.({ done: modelRows, total: modelRows })
      const attributions = await Promise.all(out.right.value.map((v) => backend.toHost(v)))
      const delta = out.right.delta === undefined ? undefined : await backend.toHost(out.right.delta)
      if (req.allowNonFinite !== true) {
        const advice = 'the inputs, baselines and model outputs were finite, so a gradient (or the target function) was not: ' +
          'look for ops with infinite slopes at these inputs (sqrt or log at 0, pow with a fractional exponent), or use a perturbation method'
        for (let i = 0; i < attributions.length; i++) {
          const bad = nonFiniteIn(attributions[i]!, ['gradient', String(i)], `attribution ${i}`, advice)
          if (bad !== undefined) return E.left(bad)
        }
        const bad = delta === undefined ? undefined : nonFiniteIn(delta, ['gradient'], 'the convergence delta', advice)
        if (bad !== undefined) return E.left(bad)
      }
      const prior = mode.kind === 'resume' ? mode.partial : { modelRows: 0, chunks: 0 }
      return E.right({
        kind: 'result',
        result: {
          attributions,
          ...(delta ? { delta } : {}),
          meta: { method: p.name, composition: compositionOf(p), modelRows: modelRows + prior.modelRows, chunks: chunks + prior.chunks, backend: backend.name },
        },
      })
    } catch (e) {
      return E.left(isAttributionError(e) ? e : backendFailure(`attribution failed: ${e instanceof Error ? e.message : String(e)}`, e))
    } finally {
      finished = true
      stop.release()
      for (const s of scopes) disposeScope(s, new Set())
    }
  }
}
