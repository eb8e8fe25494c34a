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
import { childRowKeys, memoTable, pickCallData, rowKeysOf, type CallData, type ChunkPolicy, type Flow, type InnerPipeline, type Progress, type RunContext } from './flow.js'
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

/**
 * Runs `p` on `model`. Never throws: every failure (bad spec, bad call, model error) is a typed
 * error in the Left.
 */
export const runPipeline = <T>(p: Pipeline, model: Model<T>, req: RunRequest<T>): TE.TaskEither<AttributionError, AttributionResult> => {
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
  const chunk: ChunkPolicy = { memoryBudgetBytes: DEFAULT_MEMORY_BUDGET, ...req.chunk }
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
      // Each chunk is lifted to a host partial inside its own disposal scope, so nothing of it outlives it.
      let acc: PartialResult | undefined
      let innerSpace = flow.space
      for (let start = 0; start < count; start += perChunk) {
        const go = await checkpoint()
        if (E.isLeft(go)) return go
        const end = Math.min(count, start + perChunk)
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

  const initial: Flow<T> = {
    value: req.inputs,
    ...(callData.baselines ? { baseline: callData.baselines } : {}),
    rowExample: Int32Array.from({ length: n }, (_, i) => i),
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
      return E.right({
        attributions,
        ...(delta ? { delta } : {}),
        meta: { method: p.name, composition: compositionOf(p), modelRows, chunks, backend: backend.name },
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
