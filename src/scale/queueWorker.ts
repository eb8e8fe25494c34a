/**
 * A queue worker: a BullMQ Worker that takes clarus tasks from Redis and runs them with
 * {@link runTask} on models loaded once per process (`modelCache`), the worker side of
 * {@link bullmqExecutor}. Start any number of them on any machines that can reach Redis and read
 * the model files (`clarus worker --redis URL`).
 *
 * - A task job runs one `whole` or `span` task and returns its outcome with its slot; a finish job
 *   reads its children's values (one per child, whatever attempt produced it), puts them in span
 *   order, combines them and finishes the unit; an expansion job measures a unit's first expansion.
 * - An attribution error (a NonFinite input, a bad target) is the job's *value*, never a thrown
 *   error, so BullMQ does not retry it. Only infrastructure failures throw (and are retried with
 *   backoff); data that is not a clarus encoding fails at once, without retries.
 * - Cancellation: the producer sets a key per cancelled unit; a worker checks it before running a
 *   job and polls it (every `cancelPollMs`) while it runs one, aborting `runTask` through its
 *   AbortSignal.
 * - A worker that dies mid-task holds its job's lock until `lockDurationMs` runs out; another
 *   worker's stalled-job check (every `stalledIntervalMs`) then puts it back in the queue.
 *
 * @category scale
 * @since 0.6.0
 */
import { UnrecoverableError, Worker, type Job as BullJob } from 'bullmq'
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../core/errors.js'
import { decodeJob, type Job, type Task, type TaskOutcome, type Unit } from './job.js'
import { modelCache } from './models.js'
import {
  bullConnection, cancelKey, childText, DEFAULT_PREFIX, DEFAULT_QUEUE, EXPANSION_JOB, expansionText, FINISH_JOB, outcomeText, readChild, TASK_JOB,
  type ExpansionData, type FinishData, type QueueConnection, type TaskData,
} from './queueProtocol.js'
import { runTask, unitExpansion } from './task.js'
import { decodeWire, WireError } from './wire.js'

/**
 * Options of {@link startQueueWorker}.
 *
 * @category scale
 * @since 0.6.0
 */
export interface QueueWorkerOptions {
  readonly connection: QueueConnection
  /** The queue to take tasks from (default `clarus`; the producer's `queueName`). */
  readonly queueName?: string
  /** BullMQ's key prefix (default `bull`; the producer's `prefix`). */
  readonly prefix?: string
  /** Tasks this process runs at once (default 1: ONNX Runtime already uses `threads` per call). */
  readonly concurrency?: number
  /** ONNX Runtime intra-op threads per model (default: ONNX Runtime's choice). */
  readonly threads?: number
  /** How long a job's lock lasts without renewal: a dead worker's task is retried after about this long (default 30 000). */
  readonly lockDurationMs?: number
  /** How often this worker looks for stalled jobs of dead workers (default 30 000). */
  readonly stalledIntervalMs?: number
  /** Stalls a job may have before it fails for good (default 1). */
  readonly maxStalledCount?: number
  /** How often running tasks check whether their unit was cancelled (default 250). */
  readonly cancelPollMs?: number
  /** Called as jobs start and end (for logs). */
  readonly onEvent?: (e: QueueWorkerEvent) => void
}

/**
 * What a queue worker reports through `onEvent`.
 *
 * @category scale
 * @since 0.6.0
 */
export type QueueWorkerEvent =
  | { readonly kind: 'active'; readonly job: string; readonly name: string }
  | { readonly kind: 'completed'; readonly job: string; readonly name: string }
  /** The running tasks of a cancelled unit were aborted. */
  | { readonly kind: 'cancelled'; readonly scope: string }
  | { readonly kind: 'error'; readonly message: string }

/**
 * A running queue worker.
 *
 * @category scale
 * @since 0.6.0
 */
export interface QueueWorker {
  /** BullMQ's id of this worker. */
  readonly id: string
  /** Stops taking jobs, lets the running ones finish, releases the models and the connections. */
  readonly close: () => Promise<void>
}

const JOBS_KEPT = 32

/**
 * Starts a queue worker; resolves once it is connected and taking jobs.
 *
 * @example
 * ```ts
 * import { startQueueWorker } from 'clarus/scale/bullmq'
 * const worker = await startQueueWorker({ connection: { url: 'redis://127.0.0.1:6379' } })
 * process.once('SIGTERM', () => void worker.close())
 * ```
 *
 * @category scale
 * @since 0.6.0
 */
export const startQueueWorker = async (options: QueueWorkerOptions): Promise<QueueWorker> => {
  const queueName = options.queueName ?? DEFAULT_QUEUE
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const models = modelCache(options.threads !== undefined ? { threads: options.threads } : {})
  const emit = (e: QueueWorkerEvent): void => options.onEvent?.(e)

  // decoded clarus jobs by id (the spec is resolved once per worker, not once per task)
  const jobs = new Map<string, Job>()
  const jobOf = (text: string): E.Either<AttributionError, Job> => {
    const { id, spec } = decodeWire(text) as { id: string; spec: unknown }
    const known = jobs.get(id)
    if (known !== undefined) return E.right(known)
    const d = decodeJob(spec, id)
    if (E.isLeft(d)) return d
    if (jobs.size >= JOBS_KEPT) jobs.delete(jobs.keys().next().value!)
    jobs.set(id, d.right)
    return E.right(d.right)
  }

  // running jobs' abort controllers by cancel scope, polled while any run
  const running = new Map<string, Set<AbortController>>()
  let client: Awaited<Worker['backend']['client']> | undefined
  const cancelled = async (scope: string): Promise<boolean> => client !== undefined && (await client.get(cancelKey(prefix, queueName, scope))) !== null
  const poll = setInterval(() => {
    for (const [scope, ctls] of running) {
      cancelled(scope).then((yes) => {
        if (!yes || [...ctls].every((c) => c.signal.aborted)) return
        for (const c of ctls) c.abort()
        emit({ kind: 'cancelled', scope })
      }, (e: unknown) => emit({ kind: 'error', message: `cancel check failed: ${(e as Error).message}` }))
    }
  }, options.cancelPollMs ?? 250)
  poll.unref()

  const withScope = async <A>(scope: string, f: (signal: AbortSignal) => Promise<A>): Promise<A> => {
    const ctl = new AbortController()
    let set = running.get(scope)
    if (set === undefined) running.set(scope, (set = new Set()))
    set.add(ctl)
    try {
      if (await cancelled(scope)) {
        ctl.abort()
        emit({ kind: 'cancelled', scope })
      }
      return await f(ctl.signal)
    } finally {
      set.delete(ctl)
      if (set.size === 0) running.delete(scope)
    }
  }

  const cancelledOutcome = (scope: string): TaskOutcome => ({ ok: false, error: err('Cancelled', `unit ${scope} was cancelled by its producer`) })

  /** Runs `task` on the job's model (a model that does not load is the task's outcome, not a retry). */
  const run = async (job: Job, task: Task, signal: AbortSignal, bj: BullJob): Promise<TaskOutcome> => {
    if (signal.aborted) return cancelledOutcome(bj.data.scope as string)
    const m = await models.get(job.spec.model)
    if (E.isLeft(m)) return { ok: false, error: m.left }
    let last = 0
    return runTask(job, m.right.model as never, task, signal, (p) => {
      const now = Date.now()
      if (now - last < 200 && p.done < p.total) return
      last = now
      bj.updateProgress({ done: p.done, total: p.total }).catch(() => undefined)
    })
  }

  const processTask = async (bj: BullJob, d: TaskData): Promise<string> => {
    const job = jobOf(d.job)
    if (E.isLeft(job)) return childText(d.slot, { ok: false, error: job.left })
    const task = decodeWire(d.task) as Task
    return childText(d.slot, await withScope(d.scope, (signal) => run(job.right, task, signal, bj)))
  }

  const processFinish = async (bj: BullJob, d: FinishData): Promise<string> => {
    const job = jobOf(d.job)
    if (E.isLeft(job)) return outcomeText({ ok: false, error: job.left })
    const values = Object.values(await bj.getChildrenValues()).map(readChild).sort((a, b) => a.slot - b.slot)
    const expected = d.spans ?? 1
    if (values.length !== expected || values.some((v, i) => v.slot !== i)) {
      // not every child's value is there yet: an infrastructure problem, worth a retry
      throw new Error(`finish of ${d.scope} found ${values.length} of its ${expected} task values (slots ${values.map((v) => v.slot).join(', ')})`)
    }
    const failed = values.find((v) => !v.outcome.ok)
    if (failed !== undefined) return outcomeText(failed.outcome)
    if (d.spans === null) return outcomeText(values[0]!.outcome)
    const unit = decodeWire(d.unit) as Unit
    const spans = values.map((v) => (v.outcome as Extract<TaskOutcome, { kind: 'span' }>).span)
    return outcomeText(await withScope(d.scope, (signal) => run(job.right, { kind: 'finish', unit, spans }, signal, bj)))
  }

  const processExpansion = async (d: ExpansionData): Promise<string> => {
    const job = jobOf(d.job)
    if (E.isLeft(job)) return expansionText(job)
    const m = await models.get(job.right.spec.model)
    if (E.isLeft(m)) return expansionText(m)
    return expansionText(await unitExpansion(job.right, m.right.model as never, decodeWire(d.unit) as Unit))
  }

  const processor = async (bj: BullJob): Promise<string> => {
    emit({ kind: 'active', job: bj.id ?? '', name: bj.name })
    try {
      const d = bj.data as { v?: unknown }
      if (d.v !== 1) throw new UnrecoverableError(`job ${bj.id} of queue ${queueName} is not a clarus job (data version ${JSON.stringify(d.v)})`)
      const out = bj.name === TASK_JOB ? await processTask(bj, bj.data as TaskData)
        : bj.name === FINISH_JOB ? await processFinish(bj, bj.data as FinishData)
          : bj.name === EXPANSION_JOB ? await processExpansion(bj.data as ExpansionData)
            : undefined
      if (out === undefined) throw new UnrecoverableError(`job ${bj.id} of queue ${queueName} has the unknown name ${JSON.stringify(bj.name)}`)
      emit({ kind: 'completed', job: bj.id ?? '', name: bj.name })
      return out
    } catch (e) {
      // data we cannot read will not read better next time
      if (e instanceof WireError || e instanceof TypeError) throw new UnrecoverableError(`job ${bj.id}: ${e.message}`)
      throw e
    }
  }

  const worker = new Worker(queueName, processor, {
    connection: bullConnection(options.connection),
    prefix,
    concurrency: options.concurrency ?? 1,
    ...(options.lockDurationMs !== undefined ? { lockDuration: options.lockDurationMs } : {}),
    ...(options.stalledIntervalMs !== undefined ? { stalledInterval: options.stalledIntervalMs } : {}),
    ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
    autorun: false,
  })
  worker.on('error', (e) => emit({ kind: 'error', message: e.message }))
  try {
    await worker.waitUntilReady()
    client = await worker.backend.client
  } catch (e) {
    clearInterval(poll)
    await worker.close(true).catch(() => undefined)
    await models.close()
    throw e
  }
  void worker.run().catch((e: unknown) => emit({ kind: 'error', message: `the worker stopped: ${(e as Error).message}` }))
  let closing: Promise<void> | undefined
  return {
    id: worker.id,
    close: () => {
      closing ??= (async () => {
        clearInterval(poll)
        await worker.close()
        await models.close()
      })()
      return closing
    },
  }
}
