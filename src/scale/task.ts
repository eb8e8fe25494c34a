/**
 * Running one task of a job on a loaded model: a whole unit through the interpreter, one span of
 * its first expansion (the reducer's partial result), or a unit's finish from its spans. The same
 * function runs in-process, in a worker thread and in a queue worker, so every executor computes
 * the same thing.
 *
 * @category scale
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { withRunRequest, type CallOptions } from '../api/attribute.js'
import type { Model } from '../core/backend.js'
import { err, isAttributionError, backendFailure } from '../core/errors.js'
import type { Target } from '../core/target.js'
import type { Progress } from '../dsl/flow.js'
import { combineSpans, expansionSize, resumeFromSpans, runPipeline, runSpan, type AttributionResult, type ExpansionSize, type RunRequest } from '../dsl/run.js'
import type { Pipeline } from '../dsl/spec.js'
import type { AttributionError } from '../core/errors.js'
import type { Job, Task, TaskOutcome, Unit } from './job.js'

/** The call options of a unit of `job`. */
const callOf = <T>(job: Job, unit: Unit, signal: AbortSignal | undefined, onProgress: ((p: Progress) => void) | undefined): CallOptions<T> => {
  const s = job.spec
  const target: Target | undefined = unit.targets !== undefined ? (unit.targets as Target) : s.target
  return {
    ...(target !== undefined ? { target } : {}),
    ...(s.baselines !== undefined ? { baselines: s.baselines } : {}),
    ...(s.featureMask !== undefined ? { featureMask: s.featureMask } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    ...(s.internalBatchSize !== undefined ? { internalBatchSize: s.internalBatchSize } : {}),
    ...(s.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: s.memoryBudgetBytes } : {}),
    ...(s.perturbationsPerEval !== undefined ? { perturbationsPerEval: s.perturbationsPerEval } : {}),
    ...(signal !== undefined ? { signal } : {}),
    ...(onProgress !== undefined ? { onProgress } : {}),
  }
}

const withUnit = <T, A>(job: Job, model: Model<T>, unit: Unit, signal: AbortSignal | undefined, onProgress: ((p: Progress) => void) | undefined,
  run: (p: Pipeline, req: RunRequest<T>) => TE.TaskEither<AttributionError, A>): TE.TaskEither<AttributionError, A> =>
  withRunRequest(job.pipeline, model, unit.inputs, callOf<T>(job, unit, signal, onProgress), run, unit.start)

const unitResult = (r: AttributionResult): TaskOutcome => ({
  ok: true,
  kind: 'unit',
  result: { attributions: r.attributions, ...(r.delta !== undefined ? { delta: r.delta } : {}), modelRows: r.meta.modelRows },
})

/** The size of a unit's first expansion (to plan its spans); absent when the method expands nothing. */
export const unitExpansion = async <T>(job: Job, model: Model<T>, unit: Unit): Promise<E.Either<AttributionError, ExpansionSize | undefined>> =>
  withUnit(job, model, unit, undefined, undefined, (p, req) => expansionSize(p, model, req))()

/** Runs `task` of `job` on `model`. Never throws: a failure is the task's outcome, with its typed error. */
export const runTask = async <T>(job: Job, model: Model<T>, task: Task, signal?: AbortSignal, onProgress?: (p: Progress) => void): Promise<TaskOutcome> => {
  try {
    if (task.unit.jobId !== job.id) return { ok: false, error: err('BadPipeline', `task of job ${task.unit.jobId} given to job ${job.id}`, ['jobId']) }
    if (task.kind === 'whole') {
      const r = await withUnit(job, model, task.unit, signal, onProgress, (p, req) => runPipeline(p, model, req))()
      return E.isLeft(r) ? { ok: false, error: r.left } : unitResult(r.right)
    }
    if (task.kind === 'span') {
      const r = await withUnit(job, model, task.unit, signal, onProgress, (p, req) => runSpan(p, model, req, task.start, task.end))()
      return E.isLeft(r) ? { ok: false, error: r.left } : { ok: true, kind: 'span', span: r.right }
    }
    const whole = combineSpans(job.pipeline, task.spans)
    if (E.isLeft(whole)) return { ok: false, error: whole.left }
    const r = await withUnit(job, model, task.unit, signal, onProgress, (p, req) => resumeFromSpans(p, model, req, whole.right))()
    return E.isLeft(r) ? { ok: false, error: r.left } : unitResult(r.right)
  } catch (e) {
    return { ok: false, error: isAttributionError(e) ? e : backendFailure(`the task failed: ${e instanceof Error ? e.message : String(e)}`, e) }
  }
}
