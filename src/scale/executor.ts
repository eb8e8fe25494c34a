/**
 * Executors run a job's tasks somewhere — in this process, on a pool of worker threads, or on
 * queue workers across machines — behind one interface, and {@link runJob} drives any of them over a
 * dataset: it reads examples, groups them into units, plans spans, keeps a bounded number of units
 * in flight (so memory stays flat however long the dataset), and hands results back in dataset
 * order as they complete.
 *
 * @category scale
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { setMaxListeners } from 'node:events'
import { err, isAttributionError, backendFailure, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { ExpansionSize, SpanPartial } from '../dsl/run.js'
import { DEFAULT_EXAMPLES_PER_TASK, decodeJob, type Example, type Job, type Task, type TaskOutcome, type Unit, type UnitAttributions } from './job.js'

/** Where tasks run. Every executor runs {@link runTask} on the same task data, so they agree bit for bit. */
export interface Executor {
  readonly name: string
  /** Units worth keeping in flight at once (the number of workers). */
  readonly parallelism: number
  /** The size of a unit's first expansion (asked once per distinct unit shape, to plan spans). */
  readonly expansion: (job: Job, unit: Unit, signal: AbortSignal) => Promise<E.Either<AttributionError, ExpansionSize | undefined>>
  /** Runs one unit: whole, or as `spans` of its first expansion and a finish that combines them. */
  readonly runUnit: (job: Job, unit: Unit, spans: readonly (readonly [number, number])[] | undefined, signal: AbortSignal, onTask: () => void) => Promise<TaskOutcome>
  /** Frees the workers and models. */
  readonly close: () => Promise<void>
}

/**
 * A unit run as tasks through `run` (the in-process and thread-pool executors): the spans in
 * parallel, then the finish; a failed span fails the unit with its error.
 */
export const unitByTasks = async (
  unit: Unit,
  spans: readonly (readonly [number, number])[] | undefined,
  run: (task: Task) => Promise<TaskOutcome>,
  onTask: () => void,
): Promise<TaskOutcome> => {
  if (spans === undefined) {
    const r = await run({ kind: 'whole', unit })
    onTask()
    return r
  }
  const parts = await Promise.all(spans.map(async ([start, end]) => {
    const r = await run({ kind: 'span', unit, start, end })
    onTask()
    return r
  }))
  const failed = parts.find((p) => !p.ok)
  if (failed !== undefined) return failed
  const r = await run({ kind: 'finish', unit, spans: parts.map((p) => (p as Extract<TaskOutcome, { kind: 'span' }>).span) })
  onTask()
  return r
}

/** One explained example, in dataset order. */
export interface ExampleResult {
  /** Index in the dataset. */
  readonly index: number
  readonly id?: string
  /** One tensor per input, `[1, …]`; absent when the example failed. */
  readonly attributions?: readonly HostTensor[]
  /** The convergence delta, where the method has one. */
  readonly delta?: number
  /** Why the example has no attributions (its unit's task failed; the job goes on). */
  readonly error?: AttributionError
}

export interface JobProgress {
  /** Examples explained (or failed) so far. */
  readonly done: number
  /** Examples in the dataset, when the source knows. */
  readonly total?: number
  readonly failed: number
  /** Tasks finished, across all workers. */
  readonly tasks: number
}

export interface JobSummary {
  readonly jobId: string
  readonly examples: number
  readonly failed: number
  readonly units: number
  readonly tasks: number
  readonly modelRows: number
  readonly seconds: number
}

/** A dataset: examples one by one (an array, or an async iterable read lazily), and its size when known. */
export interface Dataset {
  readonly size?: number
  readonly examples: AsyncIterable<Example> | Iterable<Example>
}

export interface RunJobOptions {
  readonly signal?: AbortSignal
  readonly onProgress?: (p: JobProgress) => void
  /** Units in flight at once (default: twice the executor's parallelism). */
  readonly maxInFlight?: number
  /** The job's id (in messages, queue job names and the summary); default a random one. */
  readonly id?: string
}

/** Stacks examples into a unit (all must have the same inputs' shapes past the batch dimension). */
export const stackUnit = (jobId: string, index: number, start: number, examples: readonly Example[]): E.Either<AttributionError, Unit> => {
  const first = examples[0]!
  const k = first.inputs.length
  const inputs: HostTensor[] = []
  for (let i = 0; i < k; i++) {
    const t0 = first.inputs[i]!
    const row = t0.shape.slice(1)
    const per = sizeOf(row)
    for (const [j, ex] of examples.entries()) {
      const t = ex.inputs[i]
      if (ex.inputs.length !== k) return E.left(err('ShapeMismatch', `example ${start + j} has ${ex.inputs.length} inputs; example ${start} has ${k}`, ['examples', String(start + j)]))
      if (t === undefined || t.dtype !== t0.dtype || t.shape[0] !== 1 || t.shape.length !== t0.shape.length || t.shape.some((d, q) => q > 0 && d !== t0.shape[q])) {
        return E.left(err('ShapeMismatch', `example ${start + j}, input ${i}: ${t === undefined ? 'missing' : `${t.dtype} [${t.shape.join(', ')}]`}; examples are one row each and must match example ${start} (${t0.dtype} [1, ${row.join(', ')}])`, ['examples', String(start + j), 'inputs', String(i)]))
      }
    }
    const make = (n: number): HostTensor['data'] =>
      t0.dtype === 'float32' ? new Float32Array(n) : t0.dtype === 'int32' ? new Int32Array(n) : t0.dtype === 'int64' ? new BigInt64Array(n) : new Uint8Array(n)
    const data = make(per * examples.length)
    examples.forEach((ex, j) => (data as { set: (a: ArrayLike<unknown>, o: number) => void }).set(ex.inputs[i]!.data as ArrayLike<unknown>, j * per))
    inputs.push({ dtype: t0.dtype, shape: [examples.length, ...row], data } as HostTensor)
  }
  const own = examples.some((e) => e.target !== undefined)
  if (own && examples.some((e) => e.target === undefined)) {
    const j = examples.findIndex((e) => e.target === undefined)
    return E.left(err('BadTarget', `example ${start + j} has no target while others of its unit do: give every example a target, or none (the job's target)`, ['examples', String(start + j), 'target']))
  }
  return E.right({
    jobId,
    index,
    start,
    n: examples.length,
    inputs,
    ...(own ? { targets: examples.map((e) => e.target!) } : {}),
    ...(examples.some((e) => e.id !== undefined) ? { ids: examples.map((e) => e.id) } : {}),
  })
}

/** Row `r` of a `[n, …]` tensor, as `[1, …]`. */
const rowOf = (t: HostTensor, r: number): HostTensor => {
  const per = sizeOf(t.shape.slice(1))
  return { dtype: t.dtype, shape: [1, ...t.shape.slice(1)], data: t.data.slice(r * per, (r + 1) * per) } as HostTensor
}

/** A unit's outcome as one result per example. */
const perExample = (unit: Unit, out: TaskOutcome): ExampleResult[] =>
  Array.from({ length: unit.n }, (_, r) => {
    const id = unit.ids?.[r]
    const base = { index: unit.start + r, ...(id !== undefined ? { id } : {}) }
    if (!out.ok) return { ...base, error: out.error }
    if (out.kind !== 'unit') return { ...base, error: err('BadPipeline', 'a unit returned a span partial instead of attributions') }
    const res: UnitAttributions = out.result
    return { ...base, attributions: res.attributions.map((a) => rowOf(a, r)), ...(res.delta !== undefined ? { delta: Number(res.delta.data[r]) } : {}) }
  })

const spansOf = (count: number, per: number): [number, number][] => {
  const out: [number, number][] = []
  for (let s = 0; s < count; s += per) out.push([s, Math.min(count, s + per)])
  return out
}

/**
 * Runs a job over a dataset on `executor`, calling `onResult` once per example in dataset order
 * (awaited, so a slow writer holds the job back instead of filling memory). Examples whose unit
 * fails are reported through `onResult` with their error and counted in the summary; the job
 * continues. Cancellation (the signal) stops reading, aborts the tasks in flight on every worker,
 * and returns `Cancelled`.
 */
export const runJob = async (
  executor: Executor,
  jobSpec: unknown,
  dataset: Dataset,
  onResult: (r: ExampleResult) => void | Promise<void>,
  options: RunJobOptions = {},
): Promise<E.Either<AttributionError, JobSummary>> => {
  const t0 = performance.now()
  const decoded = decodeJob(jobSpec, options.id)
  if (E.isLeft(decoded)) return decoded
  const job = decoded.right
  const per = job.spec.examplesPerTask ?? DEFAULT_EXAMPLES_PER_TASK
  const ctl = new AbortController()
  // every task in flight listens to the job's signal
  setMaxListeners(0, ctl.signal)
  const onAbort = (): void => ctl.abort()
  if (options.signal?.aborted === true) ctl.abort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  const cancelled = (): AttributionError => err('Cancelled', `job ${job.id} was cancelled by its AbortSignal`)
  const maxInFlight = Math.max(1, options.maxInFlight ?? 2 * executor.parallelism)
  const sizes = new Map<string, Promise<E.Either<AttributionError, ExpansionSize | undefined>>>()
  let done = 0
  let failed = 0
  let tasks = 0
  let modelRows = 0
  let units = 0
  const report = (): void => options.onProgress?.({ done, failed, tasks, ...(dataset.size !== undefined ? { total: dataset.size } : {}) })

  /** Plans a unit's spans (entriesPerTask) and runs it. */
  const runOne = async (unit: Unit): Promise<TaskOutcome> => {
    let spans: [number, number][] | undefined
    const entries = job.spec.entriesPerTask
    if (entries !== undefined) {
      const key = `${unit.n}:${unit.inputs.map((x) => x.shape.join('x')).join(',')}`
      if (!sizes.has(key)) sizes.set(key, executor.expansion(job, unit, ctl.signal))
      const size = await sizes.get(key)!
      if (E.isLeft(size)) return { ok: false, error: size.left }
      if (size.right !== undefined && size.right.count > entries) spans = spansOf(size.right.count, entries)
    }
    try {
      return await executor.runUnit(job, unit, spans, ctl.signal, () => {
        tasks++
        report()
      })
    } catch (e) {
      return { ok: false, error: isAttributionError(e) ? e : backendFailure(`unit ${unit.index} failed: ${e instanceof Error ? e.message : String(e)}`, e) }
    }
  }

  const inFlight: Promise<{ unit: Unit; out: TaskOutcome }>[] = []
  /** Emits the oldest unit's results (dataset order). */
  const drainOne = async (): Promise<E.Either<AttributionError, void>> => {
    const { unit, out } = await inFlight.shift()!
    if (ctl.signal.aborted) return E.left(cancelled())
    if (out.ok && out.kind === 'unit') modelRows += out.result.modelRows
    for (const r of perExample(unit, out)) {
      await onResult(r)
      done++
      if (r.error !== undefined) failed++
    }
    report()
    return E.right(undefined)
  }
  try {
    let batch: Example[] = []
    let start = 0
    const submit = async (): Promise<E.Either<AttributionError, void>> => {
      const u = stackUnit(job.id, units, start, batch)
      units++
      if (E.isLeft(u)) {
        // examples that cannot be stacked fail their own unit; the job goes on
        const unit: Unit = { jobId: job.id, index: units - 1, start, n: batch.length, inputs: [], ...(batch.some((e) => e.id !== undefined) ? { ids: batch.map((e) => e.id) } : {}) }
        inFlight.push(Promise.resolve({ unit, out: { ok: false, error: u.left } }))
      } else {
        const unit = u.right
        inFlight.push(runOne(unit).then((out) => ({ unit, out })))
      }
      start += batch.length
      batch = []
      while (inFlight.length >= maxInFlight) {
        const d = await drainOne()
        if (E.isLeft(d)) return d
      }
      return E.right(undefined)
    }
    for await (const ex of dataset.examples) {
      if (ctl.signal.aborted) return E.left(cancelled())
      batch.push(ex)
      if (batch.length === per) {
        const s = await submit()
        if (E.isLeft(s)) return s
      }
    }
    if (batch.length > 0) {
      const s = await submit()
      if (E.isLeft(s)) return s
    }
    while (inFlight.length > 0) {
      const d = await drainOne()
      if (E.isLeft(d)) return d
    }
    if (units === 0) return E.left(err('EmptyInput', 'the dataset has no examples', ['dataset']))
    return E.right({ jobId: job.id, examples: done, failed, units, tasks, modelRows, seconds: (performance.now() - t0) / 1000 })
  } catch (e) {
    // a dataset that cannot be read further (a source's SourceError carries a typed error), or a writer that failed
    const carried = (e as { error?: unknown } | null)?.error
    return E.left(isAttributionError(carried) ? carried : backendFailure(`job ${job.id} stopped: ${e instanceof Error ? e.message : String(e)}`, e))
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    if (inFlight.length > 0) {
      // cancelled or failed: stop what is still running, and wait for it so nothing runs after we return
      ctl.abort()
      await Promise.allSettled(inFlight)
    }
  }
}

/** The span partial type, re-exported for executors that ship partials. */
export type { SpanPartial }
