/**
 * The BullMQ executor: a dataset job spread over any number of machines through Redis. The
 * producer (this executor, driven by {@link runJob}) enqueues one BullMQ flow per unit — the unit's
 * tasks as child jobs and a finishing parent job — and queue workers ({@link startQueueWorker},
 * `clarus worker --redis URL`) run them wherever they are. Results equal the in-process
 * executor's bit for bit: every worker runs the same {@link runTask} on the same task data, the
 * data travels losslessly (`wire.ts`), and span partials are combined in span order.
 *
 * - **Retries.** A job that throws (an infrastructure failure) or whose worker dies is retried,
 *   `attempts` times with `backoff`; a dead worker's job is retried once its lock runs out. An
 *   attribution error (a NonFinite input, a bad target) is a task's *result*: it is not retried,
 *   and fails its own unit with its message while the other units go on. A child that fails for
 *   good fails its parent (BullMQ's `failParentOnFailure`), so a unit always ends.
 * - **Counted once.** The parent reads one value per child job, whichever attempt produced it.
 * - **Progress.** `onTask` is called as the unit's tasks complete on any worker (QueueEvents), so
 *   `runJob`'s `onProgress` counts tasks across all machines; workers also report each running
 *   task's progress on its job (`job.progress`).
 * - **Cancellation.** When the signal aborts, the producer sets a cancel key for the unit (workers
 *   check it before each job and poll it while one runs, aborting `runTask`), removes the unit's
 *   jobs from the queue, waits until none is left waiting or running (at most `cancelWaitMs`), and
 *   resolves `Cancelled`.
 * - **Expansion sizes.** Planning spans (`entriesPerTask`) needs the size of a unit's first
 *   expansion. By default a worker measures it (a small `expansion` job), so the producer never
 *   loads the model; give `models` (a {@link modelCache}) to measure it in the producer instead.
 * - **Job data.** Each job carries the clarus job's spec and its unit as wire text; the spec is
 *   small (a method, its options and a model path), so it is not stored apart.
 *
 * Import it from this module only: BullMQ (and its Redis client, ioredis) is an optional peer
 * dependency, loaded only by programs that use this executor.
 *
 * @category scale
 * @since 0.6.0
 */
import { FlowProducer, Queue, QueueEvents, type FlowJob } from 'bullmq'
import * as E from 'fp-ts/lib/Either.js'
import { backendFailure, err, type AttributionError } from '../core/errors.js'
import type { ExpansionSize } from '../dsl/run.js'
import type { Executor } from './executor.js'
import type { Task, TaskOutcome, Unit } from './job.js'
import type { ModelCache } from './models.js'
import {
  bullConnection, bullId, cancelKey, DEFAULT_PREFIX, DEFAULT_QUEUE, describeConnection, EXPANSION_JOB, FINISH_JOB, jobText, readExpansion,
  readOutcome, TASK_JOB, taskText, unitScope, unitText, type ExpansionData, type FinishData, type QueueConnection, type TaskData,
} from './queueProtocol.js'
import { unitExpansion } from './task.js'

export type { QueueConnection } from './queueProtocol.js'
export { startQueueWorker, type QueueWorker, type QueueWorkerEvent, type QueueWorkerOptions } from './queueWorker.js'

/**
 * Options of {@link bullmqExecutor}.
 *
 * @category scale
 * @since 0.6.0
 */
export interface BullmqExecutorOptions {
  /** Where Redis is: `{ url: 'redis://127.0.0.1:6379' }`, or host, port and the usual client options. */
  readonly connection: QueueConnection
  /** The queue (default `clarus`); workers must take the same one. */
  readonly queueName?: string
  /** BullMQ's key prefix (default `bull`); workers must use the same one. */
  readonly prefix?: string
  /** How many workers to assume: `runJob` keeps twice this many units in flight (default 2). */
  readonly workers?: number
  /** Tries per job before it fails for good (default 3). */
  readonly attempts?: number
  /** Waits between tries (default exponential from 1 s: 1 s, 2 s, 4 s, …). */
  readonly backoff?: { readonly type: 'exponential' | 'fixed'; readonly delay: number }
  /** A unit not finished this long after it was enqueued is cancelled and fails with BackendFailure (default: no limit). */
  readonly timeoutMs?: number
  /** Measure expansion sizes here, on models from this cache, rather than on a worker. */
  readonly models?: ModelCache
  /** How long a cancelled unit waits for its jobs to leave the queue (default 10 000 ms). */
  readonly cancelWaitMs?: number
  /** How long to wait for Redis when the executor starts (default 10 000 ms). */
  readonly connectTimeoutMs?: number
  /** How often a unit's job state is read in case a QueueEvents event was missed (default 5000 ms). */
  readonly checkIntervalMs?: number
  /** Seconds a failed job stays in Redis for inspection (default one day). */
  readonly keepFailedSeconds?: number
}

interface Parts {
  readonly queue: Queue
  readonly flows: FlowProducer
  readonly events: QueueEvents
  readonly client: Awaited<Queue['backend']['client']>
}

interface Waiter {
  readonly completed: (value: unknown) => void
  readonly failed: (reason: string) => void
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * An executor that runs a job's tasks on queue workers through BullMQ on Redis.
 *
 * @example
 * ```ts
 * import { runJob } from 'clarus'
 * import { bullmqExecutor } from 'clarus/scale/bullmq'
 * // workers: `clarus worker --redis redis://127.0.0.1:6379` on each machine
 * const executor = bullmqExecutor({ connection: { url: 'redis://127.0.0.1:6379' }, workers: 4 })
 * const job = { spec: { method: 'integratedGradients', options: { nSteps: 50 } }, model: '/models/mlp.onnx', target: 0 }
 * const summary = await runJob(executor, job, { examples }, (r) => console.log(r.index, r.error?.message))
 * await executor.close()
 * ```
 *
 * @category scale
 * @since 0.6.0
 */
export const bullmqExecutor = (options: BullmqExecutorOptions): Executor => {
  const queueName = options.queueName ?? DEFAULT_QUEUE
  const prefix = options.prefix ?? DEFAULT_PREFIX
  const connection = bullConnection(options.connection)
  const attempts = options.attempts ?? 3
  const jobOptions = {
    attempts,
    backoff: options.backoff ?? { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
    removeOnFail: { age: options.keepFailedSeconds ?? 86_400 },
  }
  const where = `queue ${queueName} on ${describeConnection(options.connection)}`
  const waiters = new Map<string, Waiter>()
  // the pending units' stop functions, so that closing the executor ends them
  const pending = new Set<(e: AttributionError) => void>()
  let parts: Promise<Parts> | undefined
  let closed = false
  let counter = 0

  const connect = async (): Promise<Parts> => {
    const timeout = options.connectTimeoutMs ?? 10_000
    // ioredis retries a refused connection forever; the executor gives up after connectTimeoutMs
    const within = async <X>(p: Promise<X>): Promise<X> => {
      let timer: NodeJS.Timeout | undefined
      try {
        return await Promise.race([p, new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeout} ms`)), timeout)
        })])
      } finally {
        clearTimeout(timer)
      }
    }
    const queue = new Queue(queueName, { connection, prefix })
    const flows = new FlowProducer({ connection, prefix })
    queue.on('error', () => undefined)
    flows.on('error', () => undefined)
    let client: Parts['client']
    try {
      client = await within(Promise.all([queue.waitUntilReady(), flows.waitUntilReady()]).then(() => queue.backend.client))
    } catch (e) {
      await Promise.allSettled([queue.close(), flows.close()])
      throw e
    }
    // QueueEvents is made only once Redis answers (closing one that never connected does not return)
    const events = new QueueEvents(queueName, { connection, prefix })
    events.on('error', () => undefined)
    events.on('completed', ({ jobId, returnvalue }) => waiters.get(jobId)?.completed(returnvalue))
    events.on('failed', ({ jobId, failedReason }) => waiters.get(jobId)?.failed(failedReason))
    try {
      await within(events.waitUntilReady())
    } catch (e) {
      void events.close().catch(() => undefined)
      await Promise.allSettled([queue.close(), flows.close()])
      throw e
    }
    return { queue, flows, events, client }
  }
  const start = async (): Promise<E.Either<AttributionError, Parts>> => {
    if (closed) return E.left(err('Unsupported', `the BullMQ executor for ${where} is closed; make a new one`))
    parts ??= connect()
    try {
      return E.right(await parts)
    } catch (e) {
      parts = undefined
      return E.left(backendFailure(`cannot reach Redis for ${where}: ${(e as Error).message}. Start redis-server (or check the URL and password) and run workers with \`clarus worker --redis URL\``, e))
    }
  }

  /** Cancels `scope`: sets its key, then removes `ids` until none is waiting or running (or `cancelWaitMs` passes). */
  const cancel = async (p: Parts, scope: string, ids: readonly string[]): Promise<void> => {
    await p.client.set(cancelKey(prefix, queueName, scope), '1', { EX: 3600 }).catch(() => undefined)
    const until = Date.now() + (options.cancelWaitMs ?? 10_000)
    for (;;) {
      // a parent goes with its children unless one of them is running (locked); then retry
      const states = await Promise.all(ids.map(async (id) => {
        await p.queue.remove(id, { removeChildren: true }).catch(() => 0)
        return p.queue.getJobState(id).catch(() => 'unknown')
      }))
      if (states.every((s) => s === 'unknown') || Date.now() > until) return
      await sleep(100)
    }
  }

  /**
   * Adds `flow`, resolves with what its root job returns (read by `read`), and cancels it on
   * `signal` or timeout. The root's end is learnt from QueueEvents and, in case an event is missed
   * (a trimmed event stream, a reconnect), from its state every `checkIntervalMs`; the root is kept
   * on completion until its value is read, then removed.
   */
  const await1 = <A>(
    p: Parts, flow: FlowJob, scope: string, ids: readonly string[], signal: AbortSignal,
    read: (value: unknown) => A, failure: (reason: string) => A | Promise<A>, stopped: (e: AttributionError) => A, extra: Map<string, Waiter> = new Map(),
  ): Promise<A> => new Promise<A>((resolve) => {
    let done = false
    let timer: NodeJS.Timeout | undefined
    let check: NodeJS.Timeout | undefined
    // what a cancel waits for: jobs being added now would escape a removal made before they land
    let added: Promise<unknown> = Promise.resolve()
    const rootId = ids[0]!
    const settle = (a: A): void => {
      if (done) return
      done = true
      pending.delete(end)
      clearTimeout(timer)
      clearInterval(check)
      signal.removeEventListener('abort', onAbort)
      for (const id of [rootId, ...extra.keys()]) waiters.delete(id)
      resolve(a)
    }
    const stop = (e: AttributionError): void => {
      if (done) return
      clearInterval(check)
      for (const id of [rootId, ...extra.keys()]) waiters.delete(id)
      void added.catch(() => undefined).then(() => cancel(p, scope, ids)).finally(() => settle(stopped(e)))
    }
    const onAbort = (): void => stop(err('Cancelled', `${scope} was cancelled by its AbortSignal`))
    const end = (e: AttributionError): void => settle(stopped(e))
    pending.add(end)
    for (const [id, w] of extra) waiters.set(id, w)
    waiters.set(rootId, {
      completed: (v) => {
        void p.queue.remove(rootId).catch(() => 0)
        try {
          settle(read(v))
        } catch (e) {
          void Promise.resolve(failure(`its result could not be read: ${(e as Error).message}`)).then(settle)
        }
      },
      failed: (reason) => void Promise.resolve(failure(reason)).then(settle),
    })
    if (signal.aborted) return stop(err('Cancelled', `${scope} was cancelled by its AbortSignal`))
    signal.addEventListener('abort', onAbort, { once: true })
    if (options.timeoutMs !== undefined) {
      const ms = options.timeoutMs
      timer = setTimeout(() => stop(backendFailure(`${scope} did not finish within ${ms} ms (timeoutMs) on ${where}: are workers running (\`clarus worker --redis URL --queue ${queueName}\`)?`)), ms)
    }
    added = p.flows.add(flow)
    added.then(() => {
      if (done) return
      check = setInterval(() => void (async () => {
        const state = await p.queue.getJobState(rootId).catch(() => undefined)
        const w = waiters.get(rootId)
        if (w === undefined || state === undefined) return
        if (state === 'completed' || state === 'failed') {
          const j = await p.queue.getJob(rootId).catch(() => undefined)
          if (state === 'completed') w.completed(j?.returnvalue)
          else w.failed(j?.failedReason ?? 'the job failed')
        } else if (state === 'unknown') {
          w.failed('its job is no longer in Redis (was the queue emptied or obliterated?)')
        }
      })(), options.checkIntervalMs ?? 5000)
    }, (e: unknown) => void Promise.resolve(failure(`it could not be enqueued: ${(e as Error).message}`)).then(settle))
  })

  /** A unit whose flow failed for good, with its failed tasks' own reasons where Redis still has them. */
  const failedUnit = async (p: Parts, unit: Unit, childIds: readonly string[], reason: string): Promise<TaskOutcome> => {
    const reasons = await Promise.all(childIds.map(async (id) => {
      const j = await p.queue.getJob(id).catch(() => undefined)
      return j?.failedReason !== undefined && j.failedReason !== '' ? `task ${id}: ${j.failedReason}` : undefined
    }))
    const detail = reasons.filter((r) => r !== undefined).join('; ') || reason
    return {
      ok: false,
      error: backendFailure(`unit ${unit.index} (examples ${unit.start} to ${unit.start + unit.n - 1}) failed on ${where} after up to ${attempts} attempt(s) per task: ${detail}`),
    }
  }

  const runUnit: Executor['runUnit'] = async (job, unit, spans, signal, onTask) => {
    const p = await start()
    if (E.isLeft(p)) return { ok: false, error: p.left }
    const scope = unitScope(job, unit)
    const jt = jobText(job)
    const tasks: Task[] = spans === undefined ? [{ kind: 'whole', unit }] : spans.map(([start, end]) => ({ kind: 'span', unit, start, end }))
    const childIds = tasks.map((_, i) => `${scope}.t${i}`)
    const counted = new Set<string>()
    const extra = new Map<string, Waiter>(childIds.map((id) => [id, {
      completed: () => {
        if (counted.has(id)) return
        counted.add(id)
        onTask()
      },
      failed: () => undefined,
    }]))
    const flow: FlowJob = {
      name: FINISH_JOB,
      queueName,
      data: { v: 1, job: jt, scope, unit: unitText(unit), spans: spans === undefined ? null : spans.length } satisfies FinishData,
      opts: { ...jobOptions, removeOnComplete: false, jobId: scope },
      children: tasks.map((task, slot) => ({
        name: TASK_JOB,
        queueName,
        data: { v: 1, job: jt, scope, task: taskText(task), slot } satisfies TaskData,
        opts: { ...jobOptions, jobId: childIds[slot]!, failParentOnFailure: true },
      })),
    }
    return await1<TaskOutcome>(p.right, flow, scope, [scope, ...childIds], signal,
      (v) => {
        const out = readOutcome(v)
        if (spans !== undefined) onTask()
        return out
      },
      (reason) => failedUnit(p.right, unit, childIds, reason),
      (e) => ({ ok: false, error: e }),
      extra)
  }

  const expansion: Executor['expansion'] = async (job, unit, signal) => {
    const models = options.models
    if (models !== undefined) {
      const m = await models.get(job.spec.model)
      if (E.isLeft(m)) return m
      return unitExpansion(job, m.right.model as never, unit)
    }
    const p = await start()
    if (E.isLeft(p)) return p
    const id = bullId(`${job.id}.x${counter++}`)
    const flow: FlowJob = {
      name: EXPANSION_JOB,
      queueName,
      data: { v: 1, job: jobText(job), scope: unitScope(job, unit), unit: unitText(unit) } satisfies ExpansionData,
      opts: { ...jobOptions, removeOnComplete: false, jobId: id },
    }
    return await1<E.Either<AttributionError, ExpansionSize | undefined>>(p.right, flow, unitScope(job, unit), [id], signal,
      readExpansion,
      (reason) => E.left(backendFailure(`measuring the expansion of unit ${unit.index} failed on ${where}: ${reason}`)),
      E.left)
  }

  return {
    name: 'bullmq',
    parallelism: Math.max(1, options.workers ?? 2),
    expansion,
    runUnit,
    close: async () => {
      closed = true
      for (const end of [...pending]) end(err('Cancelled', `the BullMQ executor for ${where} was closed while this unit ran`))
      const p = parts
      parts = undefined
      waiters.clear()
      if (p === undefined) return
      const ready = await p.catch(() => undefined)
      if (ready !== undefined) await Promise.allSettled([ready.events.close(), ready.flows.close(), ready.queue.close()])
    },
  }
}
