/**
 * Dataset jobs over HTTP: `POST /jobs` accepts a job (a `clarus/scale` job spec and a dataset) and
 * runs it in the background with `runJob` on the server's executor, at most `maxJobs` at a time (the
 * rest wait in arrival order; none is dropped). Each job streams its results to
 * `<results>/<id>.jsonl` as they complete, so memory stays flat however long the dataset.
 *
 * - `GET /jobs/:id`: `{ id, status, progress, summary?, error?, streams, links }`.
 * - `GET /jobs/:id/events`: Server-Sent Events; `progress` (at most one per `progressIntervalMs`),
 *   then one `done`, `failed` or `cancelled` event, and the stream closes.
 * - `GET /jobs/:id/results`: the results as JSON lines, once the job has finished (409 before).
 * - `DELETE /jobs/:id`: cancels the job (its AbortSignal reaches every task of the executor).
 *
 * Closing the server cancels the jobs still queued or running and waits for them; the executor
 * belongs to whoever created it and is left open.
 *
 * @category serve
 * @since 0.6.0
 */
import { randomUUID } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, realpathSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { PassThrough } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, PositiveInt } from '../core/codecs.js'
import { backendFailure, ClarusError, invalidSpec, type AttributionError } from '../core/errors.js'
import { runJob, type Executor, type JobProgress, type JobSummary } from '../scale/executor.js'
import { jsonlSink, type ResultSink } from '../scale/sinks.js'
import { SourceError } from '../scale/sources.js'
import { decodeJobRequest, prepareJob, type JobContext, type PreparedJob } from './jobRequest.js'
import type { WorkLimits } from './limits.js'
import type { ModelCache } from './modelCache.js'
import type { RequestIssue } from './request.js'

/**
 * The `jobs` option of `createServer`: where jobs run and where their files are.
 *
 * @category serve
 * @since 0.6.0
 */
export interface JobsOptions {
  /**
   * Where the jobs' tasks run (`inProcessExecutor()`, `threadPoolExecutor({ workers })`, a queue
   * executor). The server never closes it: its owner does, after the server has closed.
   */
  readonly executor: Executor
  /** The folder of datasets a job may name (`.csv`, `.jsonl`, folders of images); nothing outside it is read. */
  readonly datasets: string
  /** The folder the results are written to, one `<id>.jsonl` per job (created when missing). */
  readonly results: string
  /** Jobs running at once (default 2); later ones wait their turn. */
  readonly maxJobs?: number
  /** Least time between two `progress` events of one job's event stream, in ms (default 100). */
  readonly progressIntervalMs?: number
}

const JobsSettings = t.intersection([
  t.type({ datasets: t.string, results: t.string }),
  t.partial({ maxJobs: PositiveInt, progressIntervalMs: PositiveInt }),
])

/**
 * {@link JobsOptions} checked, with real folder paths and every default filled in.
 *
 * @internal
 */
export interface ResolvedJobsOptions {
  readonly executor: Executor
  readonly datasets: string
  readonly results: string
  readonly maxJobs: number
  readonly progressIntervalMs: number
}

/**
 * Checks the `jobs` option; throws a {@link ClarusError} carrying an `InvalidSpec` that names each
 * bad field (`jobs.datasets`, …). Creates the results folder when it is missing.
 *
 * @internal
 */
export const resolveJobsOptions = (o: JobsOptions): ResolvedJobsOptions => {
  const d = decodeWith(JobsSettings, o, ['jobs'])
  if (E.isLeft(d)) throw new ClarusError(d.left)
  const issues: { path: string[]; message: string }[] = []
  const ex = o.executor as Partial<Executor> | undefined
  if (typeof ex !== 'object' || ex === null || typeof ex.runUnit !== 'function' || typeof ex.expansion !== 'function') {
    issues.push({ path: ['jobs', 'executor'], message: 'give an executor of clarus/scale, e.g. inProcessExecutor() or threadPoolExecutor({ workers: 2 })' })
  }
  const folder = (field: 'datasets' | 'results', create: boolean): string => {
    try {
      if (create) mkdirSync(o[field], { recursive: true })
      const real = realpathSync(o[field])
      if (!statSync(real).isDirectory()) throw new Error('not a folder')
      return real
    } catch (e) {
      issues.push({ path: ['jobs', field], message: `the ${field} folder ${JSON.stringify(o[field])} cannot be ${create ? 'created or ' : ''}opened: ${(e as Error).message}` })
      return ''
    }
  }
  const datasets = folder('datasets', false)
  const results = folder('results', true)
  if (issues.length > 0) throw new ClarusError(invalidSpec(issues))
  return { executor: o.executor, datasets, results, maxJobs: d.right.maxJobs ?? 2, progressIntervalMs: d.right.progressIntervalMs ?? 100 }
}

/**
 * Where a job is in its life; `done`, `failed` and `cancelled` are final.
 *
 * @category serve
 * @since 0.6.0
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

type FinalStatus = Extract<JobStatus, 'done' | 'failed' | 'cancelled'>

interface JobRecord {
  readonly id: string
  readonly prepared: PreparedJob
  readonly ctl: AbortController
  readonly listeners: Set<(name: string, data: unknown) => void>
  readonly createdAt: string
  readonly settled: Promise<void>
  readonly settle: () => void
  status: JobStatus
  progress: JobProgress
  summary?: JobSummary
  error?: AttributionError
  startedAt?: string
  finishedAt?: string
  lastEvent: number
  timer?: NodeJS.Timeout
}

const isFinal = (s: JobStatus): s is FinalStatus => s === 'done' || s === 'failed' || s === 'cancelled'

const linksOf = (id: string): Record<string, string> => ({
  self: `/jobs/${id}`, events: `/jobs/${id}/events`, results: `/jobs/${id}/results`,
})

const progressBody = (p: JobProgress, size: number): Record<string, number> => ({ done: p.done, total: p.total ?? size, failed: p.failed, tasks: p.tasks })

/** A job as `GET /jobs/:id` shows it. */
const statusBody = (j: JobRecord): Record<string, unknown> => ({
  id: j.id,
  status: j.status,
  progress: progressBody(j.progress, j.prepared.size),
  // runJob names its run itself; the service's id is the one a client knows.
  ...(j.summary !== undefined ? { summary: { ...j.summary, jobId: j.id } } : {}),
  ...(j.error !== undefined ? { error: { error: j.error._tag, message: j.error.message, path: j.error.path.join('.') } } : {}),
  source: j.prepared.source,
  streams: j.listeners.size,
  createdAt: j.createdAt,
  ...(j.startedAt !== undefined ? { startedAt: j.startedAt } : {}),
  ...(j.finishedAt !== undefined ? { finishedAt: j.finishedAt } : {}),
  links: linksOf(j.id),
})

/** One Server-Sent Event (data is one line of JSON, so it needs no splitting). */
const sseEvent = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

/** Comment lines keep an idle stream open through proxies that close quiet connections. */
const KEEP_ALIVE_MS = 15_000

/** The jobs of one server: the queue, the runs, and their listeners. */
const jobService = (o: ResolvedJobsOptions) => {
  const jobs = new Map<string, JobRecord>()
  const waiting: JobRecord[] = []
  let running = 0
  let closing = false

  const emit = (j: JobRecord, name: string, data: unknown): void => {
    for (const l of [...j.listeners]) l(name, data)
  }
  const emitProgress = (j: JobRecord): void => {
    j.lastEvent = Date.now()
    emit(j, 'progress', { id: j.id, status: j.status, progress: progressBody(j.progress, j.prepared.size) })
  }
  /** A progress event now, or when the interval since the last one has passed. */
  const progressed = (j: JobRecord): void => {
    const wait = j.lastEvent + o.progressIntervalMs - Date.now()
    if (wait <= 0) emitProgress(j)
    else j.timer ??= setTimeout(() => {
      j.timer = undefined
      if (!isFinal(j.status)) emitProgress(j)
    }, wait)
  }
  const finish = (j: JobRecord, status: FinalStatus): void => {
    clearTimeout(j.timer)
    j.timer = undefined
    j.status = status
    j.finishedAt = new Date().toISOString()
    emit(j, status, statusBody(j))
    j.listeners.clear()
    j.settle()
  }

  const run = async (j: JobRecord): Promise<void> => {
    j.status = 'running'
    j.startedAt = new Date().toISOString()
    emitProgress(j)
    let sink: ResultSink | undefined
    let outcome: E.Either<AttributionError, JobSummary>
    try {
      const dataset = await j.prepared.open()
      // Cancelled while its dataset opened: no results file for a job that never ran.
      if (j.ctl.signal.aborted) return finish(j, 'cancelled')
      sink = jsonlSink(path.join(o.results, `${j.id}.jsonl`))
      outcome = await runJob(o.executor, j.prepared.spec, dataset, sink.write, {
        signal: j.ctl.signal,
        onProgress: (p) => {
          j.progress = p
          progressed(j)
        },
      })
    } catch (e) {
      outcome = E.left(e instanceof SourceError ? e.error : backendFailure(`job ${j.id} stopped: ${(e as Error).message}`, e))
    }
    try {
      await sink?.close()
    } catch (e) {
      if (E.isRight(outcome)) outcome = E.left(backendFailure(`the results of job ${j.id} could not be written: ${(e as Error).message}`, e))
    }
    if (E.isRight(outcome)) {
      j.summary = outcome.right
      j.progress = { done: outcome.right.examples, total: j.prepared.size, failed: outcome.right.failed, tasks: outcome.right.tasks }
      finish(j, 'done')
    } else if (j.ctl.signal.aborted) finish(j, 'cancelled')
    else {
      j.error = outcome.left
      finish(j, 'failed')
    }
  }

  const pump = (): void => {
    while (running < o.maxJobs && waiting.length > 0) {
      const j = waiting.shift()!
      running++
      void run(j).finally(() => {
        running--
        pump()
      })
    }
  }

  return {
    get: (id: string): JobRecord | undefined => jobs.get(id),
    get closing(): boolean {
      return closing
    },
    /** Queues a job; it starts once a place is free (never in the caller's own turn). */
    submit: (prepared: PreparedJob): JobRecord => {
      let settle!: () => void
      const settled = new Promise<void>((r) => (settle = r))
      const j: JobRecord = {
        id: randomUUID(), prepared, ctl: new AbortController(), listeners: new Set(), createdAt: new Date().toISOString(),
        settled, settle, status: 'queued', progress: { done: 0, total: prepared.size, failed: 0, tasks: 0 }, lastEvent: 0,
      }
      jobs.set(j.id, j)
      waiting.push(j)
      setImmediate(pump)
      return j
    },
    /** Cancels a queued or running job and waits until it has stopped. */
    cancel: async (j: JobRecord): Promise<void> => {
      const q = waiting.indexOf(j)
      if (q >= 0) {
        waiting.splice(q, 1)
        finish(j, 'cancelled')
        return
      }
      j.ctl.abort()
      await j.settled
    },
    /** Calls `listener` with each event of the job until its final one; returns the unsubscriber. */
    subscribe: (j: JobRecord, listener: (name: string, data: unknown) => void): (() => void) => {
      j.listeners.add(listener)
      return () => void j.listeners.delete(listener)
    },
    /** Refuses new jobs, cancels every job not yet finished, and waits for them. */
    close: async (): Promise<void> => {
      closing = true
      const open = [...jobs.values()].filter((j) => !isFinal(j.status))
      for (const j of waiting.splice(0)) finish(j, 'cancelled')
      for (const j of open) j.ctl.abort()
      await Promise.all(open.map((j) => j.settled))
    },
    statusBody,
  }
}

const invalid = (reply: FastifyReply, issues: readonly RequestIssue[]): FastifyReply =>
  reply.code(400).send({
    error: 'InvalidRequest',
    message: `the job is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  })

const unknownJob = (reply: FastifyReply, id: string): FastifyReply =>
  reply.code(404).send({ error: 'UnknownJob', message: `there is no job ${JSON.stringify(id)} on this server (ids come from POST /jobs; a restarted server forgets its jobs)`, path: 'id' })

/**
 * The `/jobs` routes on `app`. Without `jobs` every `/jobs` route answers 404 with how to enable them.
 *
 * @internal
 */
export const jobRoutes = (app: FastifyInstance, jobs: ResolvedJobsOptions | undefined, models: ModelCache, limits: WorkLimits): void => {
  if (jobs === undefined) {
    const disabled = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => reply.code(404).send({
      error: 'JobsDisabled',
      message: 'dataset jobs are not enabled on this server: start it with clarus serve --jobs-datasets <dir> --jobs-results <dir>, or pass createServer({ …, jobs: { executor, datasets, results } })',
    })
    app.all('/jobs', disabled)
    app.all('/jobs/*', disabled)
    return
  }
  const service = jobService(jobs)
  const ctx: JobContext = { models, limits, datasets: jobs.datasets }
  // Before the server waits for its open connections: ending the jobs ends their event streams.
  app.addHook('preClose', async () => {
    await service.close()
  })

  app.post('/jobs', async (req, reply) => {
    const body = decodeJobRequest(req.body)
    if (E.isLeft(body)) return invalid(reply, body.left)
    const prepared = await prepareJob(body.right, ctx)
    if (E.isLeft(prepared)) {
      const r = prepared.left
      return r.status === 400 ? invalid(reply, r.issues) : reply.code(r.status).send({ error: r.error, message: r.message, path: r.path })
    }
    if (service.closing) return reply.code(503).send({ error: 'ShuttingDown', message: 'this server is shutting down and takes no new jobs: retry on another instance' })
    const j = service.submit(prepared.right)
    return reply.code(202).header('location', `/jobs/${j.id}`).send({ id: j.id, status: j.status, links: linksOf(j.id) })
  })

  app.get<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const j = service.get(req.params.id)
    return j === undefined ? unknownJob(reply, req.params.id) : reply.send(service.statusBody(j))
  })

  app.get<{ Params: { id: string } }>('/jobs/:id/events', async (req, reply) => {
    const j = service.get(req.params.id)
    if (j === undefined) return unknownJob(reply, req.params.id)
    const stream = new PassThrough()
    stream.write(sseEvent('progress', { id: j.id, status: j.status, progress: progressBody(j.progress, j.prepared.size) }))
    if (isFinal(j.status)) stream.end(sseEvent(j.status, service.statusBody(j)))
    else {
      // Writes stop once the stream is over, whichever side ended it first.
      const open = (): boolean => !stream.destroyed && !stream.writableEnded
      const keepAlive = setInterval(() => open() && stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS)
      keepAlive.unref()
      const unsubscribe = service.subscribe(j, (name, data) => {
        if (!open()) return
        stream.write(sseEvent(name, data))
        if (name !== 'progress') {
          clearInterval(keepAlive)
          stream.end()
        }
      })
      // A client that goes away stops receiving: its listener and timer go with it.
      reply.raw.once('close', () => {
        clearInterval(keepAlive)
        unsubscribe()
        if (open()) stream.destroy()
      })
    }
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(stream)
  })

  app.get<{ Params: { id: string } }>('/jobs/:id/results', async (req, reply) => {
    const j = service.get(req.params.id)
    if (j === undefined) return unknownJob(reply, req.params.id)
    if (!isFinal(j.status)) {
      return reply.code(409).send({ error: 'JobNotFinished', status: j.status, message: `job ${j.id} is ${j.status}; its results can be read once it has finished: follow GET /jobs/${j.id}/events or poll GET /jobs/${j.id}` })
    }
    const file = path.join(jobs.results, `${j.id}.jsonl`)
    if (!existsSync(file)) return reply.code(404).send({ error: 'NoResults', status: j.status, message: `job ${j.id} ${j.status === 'cancelled' ? 'was cancelled' : 'failed'} before writing any results` })
    // A failed or cancelled job's file holds the examples finished before it stopped.
    return reply.header('content-type', 'application/x-ndjson').header('clarus-job-status', j.status).send(createReadStream(file))
  })

  app.delete<{ Params: { id: string } }>('/jobs/:id', async (req, reply) => {
    const j = service.get(req.params.id)
    if (j === undefined) return unknownJob(reply, req.params.id)
    if (isFinal(j.status)) return reply.code(409).send({ error: 'JobFinished', status: j.status, message: `job ${j.id} has already finished (${j.status}); there is nothing to cancel` })
    await service.cancel(j)
    // A job whose last example landed while it was being cancelled has finished: its status says so.
    return reply.send({ id: j.id, status: j.status })
  })
}
