// Dataset jobs over real HTTP on loopback: a job's results file equals `runJob` on the in-process
// executor over the same data, byte for byte; events arrive as Server-Sent Events; cancellation,
// queueing, refusals (with the paths of the fields at fault), auth and shutdown behave as documented.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import * as E from 'fp-ts/lib/Either.js'
import { PNG } from 'pngjs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main as cliMain } from '../../../src/cli/clarus.js'
import { jobsExecutor } from '../../../src/cli/serve.js'
import { runServe } from '../../helpers/serveCli.js'
import { float32, int32 } from '../../../src/core/tensor.js'
import { runJob, type Dataset, type Executor } from '../../../src/scale/executor.js'
import { inProcessExecutor } from '../../../src/scale/inProcess.js'
import { threadPoolExecutor } from '../../../src/scale/pool.js'
import { jsonlSink } from '../../../src/scale/sinks.js'
import { loadModel } from '../../../src/cli/models.js'
import { csvSource, imageDirectorySource } from '../../../src/scale/sources.js'
import { createServer } from '../../../src/serve/server.js'
import type { JobsOptions } from '../../../src/serve/jobs.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const root = mkdtempSync(path.join(tmpdir(), 'clarus-jobs-'))
const modelsDir = path.join(root, 'models')
const datasetsDir = path.join(root, 'datasets')
const resultsDir = path.join(root, 'results')
const MLP = path.join(REFERENCE_DIR, 'models', 'mlp.onnx')
const MODEL_COPY = path.join(modelsDir, 'mlp.onnx')

/** Row `k` of the mlp's 12 features (float32 values, written exactly). */
const row = (k: number): number[] => Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(k * 1.7 + i * 0.9) * 1.5))
/** A CSV of `n` rows: the 12 features, and with `labelled` a name and a target column too. */
const csvOf = (n: number, labelled = false): string => [
  [...(labelled ? ['name'] : []), ...Array.from({ length: 12 }, (_, i) => `f${i}`), ...(labelled ? ['label'] : [])].join(','),
  ...Array.from({ length: n }, (_, k) => [...(labelled ? [`row-${k}`] : []), ...row(k), ...(labelled ? [k % 3] : [])].join(',')),
].join('\n') + '\n'

interface Running {
  readonly app: FastifyInstance
  readonly url: string
}
const servers: Running[] = []
const executors: Executor[] = []
const executor = (e: Executor): Executor => {
  executors.push(e)
  return e
}
const start = async (jobs: Partial<JobsOptions> | undefined, options: Partial<Parameters<typeof createServer>[0]> = {}): Promise<Running> => {
  const app = createServer({
    models: modelsDir, maxSteps: 10_000, maxPerturbations: 100, ...options,
    ...(jobs !== undefined ? { jobs: { executor: executor(inProcessExecutor()), datasets: datasetsDir, results: resultsDir, ...jobs } } : {}),
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const r = { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
  servers.push(r)
  return r
}

let main: Running
let reference: Executor

beforeAll(async () => {
  mkdirSync(modelsDir, { recursive: true })
  mkdirSync(datasetsDir, { recursive: true })
  copyFileSync(MLP, MODEL_COPY)
  writeFileSync(path.join(datasetsDir, 'rows.csv'), csvOf(40))
  writeFileSync(path.join(datasetsDir, 'labelled.csv'), csvOf(40, true))
  writeFileSync(path.join(datasetsDir, 'long.csv'), csvOf(400))
  writeFileSync(path.join(datasetsDir, 'notes.txt'), 'not a dataset')
  writeFileSync(path.join(modelsDir, 'broken.onnx'), 'not an onnx model')
  const line = (k: number): string => JSON.stringify({ inputs: [row(200 + k)], target: 0, id: `j${k}` })
  writeFileSync(path.join(datasetsDir, 'broken.jsonl'), [line(0), line(1), line(2), '{ not json', line(4)].join('\n') + '\n')
  writeFileSync(path.join(root, 'secret.csv'), csvOf(2))
  copyFileSync(path.join(REFERENCE_DIR, 'models', 'cnn.onnx'), path.join(modelsDir, 'cnn.onnx'))
  mkdirSync(path.join(datasetsDir, 'images'))
  for (let k = 0; k < 3; k++) {
    const png = new PNG({ width: 32, height: 32 })
    png.data.forEach((_, i) => (png.data[i] = i % 4 === 3 ? 255 : (i * 7 + k * 53) % 256))
    writeFileSync(path.join(datasetsDir, 'images', `img-${k}.png`), PNG.sync.write(png))
  }
  main = await start({ maxJobs: 2 })
  reference = executor(inProcessExecutor())
})

afterAll(async () => {
  for (const s of servers) await s.app.close()
  for (const e of executors) await e.close()
  rmSync(root, { recursive: true, force: true })
})

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown> & {
    readonly id?: string
    readonly status?: string
    readonly issues?: { path: string; message: string }[]
    readonly error?: string | { error: string; message: string; path: string }
    readonly message?: string
    readonly progress?: { done: number; total: number; failed: number; tasks: number }
    readonly summary?: { examples: number; failed: number; jobId: string }
    readonly links?: Record<string, string>
    readonly streams?: number
    readonly startedAt?: string
    readonly finishedAt?: string
  }
  readonly headers: Headers
}

const call = async (url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
  const r = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  return { status: r.status, body: (await r.json()) as Answer['body'], headers: r.headers }
}
const submit = (s: Running, body: unknown, headers?: Record<string, string>): Promise<Answer> => call(`${s.url}/jobs`, 'POST', body, headers)
const paths = (a: Answer): string[] => (a.body.issues ?? []).map((i) => i.path).sort()

interface Event {
  readonly name: string
  readonly data: Answer['body']
}

/** Opens a job's event stream; `events` resolves with every event once the server ends the stream. */
const subscribe = async (s: Running, id: string, signal?: AbortSignal): Promise<{ status: number; type: string; events: Promise<Event[]>; first: Promise<void> }> => {
  const r = await fetch(`${s.url}/jobs/${id}/events`, signal !== undefined ? { signal } : {})
  let gotFirst: () => void = () => undefined
  const first = new Promise<void>((resolve) => (gotFirst = resolve))
  const read = async (): Promise<Event[]> => {
    const out: Event[] = []
    const reader = r.body!.getReader()
    const text = new TextDecoder()
    let buf = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return out
      buf += text.decode(value, { stream: true })
      for (let k = buf.indexOf('\n\n'); k >= 0; k = buf.indexOf('\n\n')) {
        const block = buf.slice(0, k)
        buf = buf.slice(k + 2)
        const name = /^event: (.+)$/m.exec(block)?.[1]
        const data = /^data: (.+)$/m.exec(block)?.[1]
        if (name !== undefined && data !== undefined) out.push({ name, data: JSON.parse(data) as Answer['body'] })
        gotFirst()
      }
    }
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', events: read(), first }
}

/** Polls a job until `until` holds (default: a final status). */
const waitFor = async (s: Running, id: string, until = (a: Answer): boolean => ['done', 'failed', 'cancelled'].includes(a.body.status!)): Promise<Answer> => {
  for (const t0 = performance.now(); performance.now() - t0 < 15_000;) {
    const a = await call(`${s.url}/jobs/${id}`, 'GET')
    if (until(a)) return a
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`job ${id} did not get there in time`)
}

/** The results file `runJob` writes for the same job on the reference in-process executor. */
const expectedResults = async (job: Record<string, unknown>, dataset: Dataset, model = MODEL_COPY): Promise<string> => {
  const file = path.join(root, `expected-${Math.random().toString(36).slice(2)}.jsonl`)
  const sink = jsonlSink(file)
  const r = await runJob(reference, { ...job, model }, dataset, sink.write)
  await sink.close()
  expect(E.isRight(r)).toBe(true)
  return readFileSync(file, 'utf8')
}

// Long enough per task (4 examples × 5000 steps) that the event stream, opened right after the
// submission, sees the job part-way done: with 1000 steps the whole job can finish first.
const IG = { method: 'integratedGradients', options: { nSteps: 5000 } }

// 400 examples × 10 000 IG steps: seconds of work, for the tests that cancel or close while it runs.
// It names a target: without one every example would fail at once with BadTarget, and the job end early.
const LONG_JOB = { spec: { method: 'integratedGradients', options: { nSteps: 10_000 } }, model: 'mlp.onnx', target: 1, examplesPerTask: 2 }

describe('a job over a CSV dataset', () => {
  it('runs to done with progress events; its results equal runJob in-process byte for byte', async () => {
    const job = { spec: IG, model: 'mlp.onnx', examplesPerTask: 4 }
    const a = await submit(main, { job, data: { file: 'labelled.csv', csvTarget: 'label', csvId: 'name' } })
    expect(a.status).toBe(202)
    expect(a.body).toMatchObject({ status: 'queued', links: { self: `/jobs/${a.body.id}`, events: `/jobs/${a.body.id}/events`, results: `/jobs/${a.body.id}/results` } })
    expect(a.headers.get('location')).toBe(`/jobs/${a.body.id}`)
    const id = a.body.id!
    const sse = await subscribe(main, id)
    expect(sse.status).toBe(200)
    expect(sse.type).toMatch(/^text\/event-stream/)
    const events = await sse.events
    const last = events[events.length - 1]!
    expect(last.name).toBe('done')
    expect(last.data).toMatchObject({ id, status: 'done', progress: { done: 40, total: 40, failed: 0, tasks: 10 }, summary: { examples: 40, failed: 0, jobId: id } })
    const progress = events.slice(0, -1)
    expect(progress.every((e) => e.name === 'progress')).toBe(true)
    // Progress was reported while the job ran (not only at its start and end), in order.
    expect(progress.some((e) => e.data.progress!.done > 0 && e.data.progress!.done < 40)).toBe(true)
    const done = progress.map((e) => e.data.progress!.done)
    expect(done).toEqual([...done].sort((x, y) => x - y))

    const status = await call(`${main.url}/jobs/${id}`, 'GET')
    expect(status.body).toMatchObject({ status: 'done', progress: { done: 40, total: 40, failed: 0, tasks: 10 }, source: 'labelled.csv', streams: 0 })
    const r = await fetch(`${main.url}/jobs/${id}/results`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const text = await r.text()
    expect(readFileSync(path.join(resultsDir, `${id}.jsonl`), 'utf8')).toBe(text)
    const want = await expectedResults(job, await csvSource(path.join(datasetsDir, 'labelled.csv'), { target: 'label', id: 'name' }))
    expect(text).toBe(want)
    expect(text.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(Array.from({ length: 40 }, (_, k) => `row-${k}`))
    // Negative control: the per-row targets reached the run (one target for all rows gives other results).
    const oneTarget = await expectedResults({ ...job, target: 0 }, await csvSource(path.join(datasetsDir, 'labelled.csv'), { id: 'name', columns: Array.from({ length: 12 }, (_, i) => `f${i}`) }))
    expect(oneTarget).not.toBe(want)
    // A finished job has nothing to cancel.
    expect((await call(`${main.url}/jobs/${id}`, 'DELETE')).status).toBe(409)
    // Its event stream replays the end at once.
    const again = await (await subscribe(main, id)).events
    expect(again.map((e) => e.name)).toEqual(['progress', 'done'])
  })

  it('examples given inline, with a JSON feature mask: the same results as runJob', async () => {
    const mask = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    const examples = Array.from({ length: 6 }, (_, k) => ({ inputs: [{ dtype: 'float32', shape: [1, 12], data: row(100 + k) }], target: k % 3, id: `x${k}` }))
    const job = { spec: { method: 'featureAblation' }, model: 'mlp.onnx', examplesPerTask: 4 }
    const a = await submit(main, { job: { ...job, featureMask: [{ dtype: 'int32', shape: [1, 12], data: mask }] }, data: { examples } })
    expect(a.status).toBe(202)
    expect((await waitFor(main, a.body.id!)).body.status).toBe('done')
    const text = await (await fetch(`${main.url}/jobs/${a.body.id}/results`)).text()
    const want = await expectedResults({ ...job, featureMask: [int32([1, 12], mask)] }, {
      size: 6, examples: examples.map((e) => ({ inputs: [float32([1, 12], e.inputs[0]!.data)], target: e.target, id: e.id })),
    })
    expect(text).toBe(want)
    // Grouped features share one value: the mask reached the run.
    const first = JSON.parse(text.split('\n')[0]!) as { attributions: { data: number[] }[] }
    expect(first.attributions[0]!.data[0]).toBe(first.attributions[0]!.data[1])
    expect(first.attributions[0]!.data[1]).not.toBe(first.attributions[0]!.data[2])
  })

  it('a folder of images, sized for the model and preprocessed as asked: the same results as runJob', async () => {
    const preprocess = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }
    const job = { spec: { method: 'saliency' }, model: 'cnn.onnx', target: 1 }
    const a = await submit(main, { job, data: { file: 'images', preprocess } })
    expect(a.status).toBe(202)
    expect((await waitFor(main, a.body.id!)).body).toMatchObject({ status: 'done', progress: { done: 3, total: 3, failed: 0 } })
    const text = await (await fetch(`${main.url}/jobs/${a.body.id}/results`)).text()
    const cnn = await loadModel(path.join(modelsDir, 'cnn.onnx'))
    const info = cnn.model.signature.inputs[0]
    await cnn.release()
    const want = await expectedResults(job, imageDirectorySource(path.join(datasetsDir, 'images'), info, preprocess), path.join(modelsDir, 'cnn.onnx'))
    expect(text).toBe(want)
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { id: string; attributions: { shape: number[] }[] })
    expect(lines.map((l) => [l.id, l.attributions[0]!.shape])).toEqual([0, 1, 2].map((k) => [`img-${k}.png`, [1, 3, 32, 32]]))
    // Negative control: without the preprocessing the attributions differ, so it reached the run.
    expect(await expectedResults(job, imageDirectorySource(path.join(datasetsDir, 'images'), info), path.join(modelsDir, 'cnn.onnx'))).not.toBe(want)
  })

  it('a dataset that breaks midway: the job fails with the reader\'s error; the examples before it are kept', async () => {
    const a = await submit(main, { job: { spec: { method: 'saliency' }, model: 'mlp.onnx', examplesPerTask: 1 }, data: { file: 'broken.jsonl' } })
    expect(a.status).toBe(202)
    const events = await (await subscribe(main, a.body.id!)).events
    const last = events[events.length - 1]!
    expect(last.name).toBe('failed')
    expect(last.data).toMatchObject({ status: 'failed', error: { error: 'ShapeMismatch', path: 'dataset.4' } })
    expect((last.data.error as { message: string }).message).toContain('broken.jsonl:4: not JSON')
    const r = await fetch(`${main.url}/jobs/${a.body.id}/results`)
    expect(r.headers.get('clarus-job-status')).toBe('failed')
    const ids = (await r.text()).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)
    // Units ahead of the bad line may or may not have been written when reading stopped; none after it.
    expect(['j0', 'j1', 'j2'].slice(0, ids.length)).toEqual(ids)
  })
})

describe('progress events are throttled', () => {
  it('at most one per progressIntervalMs; the final event is never held back', async () => {
    const body = { job: { spec: { method: 'saliency' }, model: 'mlp.onnx', target: 0, examplesPerTask: 1 }, data: { file: 'rows.csv' } }
    const count = async (s: Running): Promise<{ progress: number; last: string }> => {
      const a = await submit(s, body)
      const events = await (await subscribe(s, a.body.id!)).events
      return { progress: events.filter((e) => e.name === 'progress').length, last: events[events.length - 1]!.name }
    }
    // 40 units report progress about 80 times; a minute apart leaves the first snapshot and the start.
    const slow = await count(await start({ progressIntervalMs: 60_000 }))
    expect(slow.progress).toBeLessThanOrEqual(2)
    expect(slow.last).toBe('done')
    // Negative control: 1 ms apart lets most of them through.
    const fast = await count(await start({ progressIntervalMs: 1 }))
    expect(fast.progress).toBeGreaterThan(5)
    expect(fast.last).toBe('done')
  })
})

describe('cancellation and the queue', () => {
  it('DELETE cancels a long job: 200 cancelled, its stream ends with cancelled, partial results stay readable', async () => {
    const a = await submit(main, { job: LONG_JOB, data: { file: 'long.csv' } })
    expect(a.status).toBe(202)
    const id = a.body.id!
    const sse = await subscribe(main, id)
    await waitFor(main, id, (s) => (s.body.progress?.done ?? 0) > 0)
    const busy = await call(`${main.url}/jobs/${id}/results`, 'GET')
    expect(busy.status).toBe(409)
    expect(busy.body).toMatchObject({ error: 'JobNotFinished', status: 'running' })
    const t0 = performance.now()
    const d = await call(`${main.url}/jobs/${id}`, 'DELETE')
    expect(d.status).toBe(200)
    expect(d.body).toEqual({ id, status: 'cancelled' })
    // The job stopped within a unit or so, far short of its 400 examples (tens of seconds of work).
    expect(performance.now() - t0).toBeLessThan(3000)
    const s = await call(`${main.url}/jobs/${id}`, 'GET')
    expect(s.body.status).toBe('cancelled')
    expect(s.body.progress!.done).toBeLessThan(400)
    const events = await sse.events
    expect(events[events.length - 1]!.name).toBe('cancelled')
    const r = await fetch(`${main.url}/jobs/${id}/results`)
    expect(r.status).toBe(200)
    expect(r.headers.get('clarus-job-status')).toBe('cancelled')
    expect((await r.text()).trim().split('\n').length).toBe(s.body.progress!.done)
    expect((await call(`${main.url}/jobs/${id}`, 'DELETE')).status).toBe(409)
  })

  it('maxJobs 1: jobs run one after another, none lost; a queued job can be cancelled', async () => {
    const s = await start({ maxJobs: 1 })
    const long = await submit(s, { job: LONG_JOB, data: { file: 'long.csv' } })
    const body = { job: { spec: { method: 'saliency' }, model: 'mlp.onnx', target: 1 }, data: { file: 'rows.csv' } }
    const ids = [long.body.id!]
    for (let i = 0; i < 3; i++) ids.push((await submit(s, body)).body.id!)
    await waitFor(s, ids[0]!, (x) => x.body.status === 'running')
    const waiting = await Promise.all(ids.slice(1).map((id) => call(`${s.url}/jobs/${id}`, 'GET')))
    expect(waiting.map((w) => w.body.status)).toEqual(['queued', 'queued', 'queued'])
    expect(await call(`${s.url}/jobs/${ids[3]}`, 'DELETE')).toMatchObject({ status: 200, body: { status: 'cancelled' } })
    expect(await call(`${s.url}/jobs/${ids[3]}/results`, 'GET')).toMatchObject({ status: 404, body: { error: 'NoResults' } })
    expect((await call(`${s.url}/jobs/${ids[0]}`, 'DELETE')).body.status).toBe('cancelled')
    const final = await Promise.all(ids.slice(0, 3).map((id) => waitFor(s, id)))
    expect(final.map((f) => f.body.status)).toEqual(['cancelled', 'done', 'done'])
    expect(final.slice(1).map((f) => [f.body.progress!.done, f.body.progress!.failed])).toEqual([[40, 0], [40, 0]])
    expect((await call(`${s.url}/jobs/${ids[3]}`, 'GET')).body.status).toBe('cancelled')
    // Each started only after the one before it had finished.
    for (let i = 1; i < 3; i++) expect(final[i]!.body.startedAt! >= final[i - 1]!.body.finishedAt!).toBe(true)
    const texts = await Promise.all(ids.slice(1, 3).map(async (id) => (await fetch(`${s.url}/jobs/${id}/results`)).text()))
    expect(texts[1]).toBe(texts[0])
    expect(texts[0]!.trim().split('\n')).toHaveLength(40)
  })

  it('a client that leaves its event stream is dropped from the job', async () => {
    const a = await submit(main, { job: LONG_JOB, data: { file: 'long.csv' } })
    const id = a.body.id!
    const ctl = new AbortController()
    const sse = await subscribe(main, id, ctl.signal)
    await sse.first
    expect((await call(`${main.url}/jobs/${id}`, 'GET')).body.streams).toBe(1)
    ctl.abort()
    await sse.events.catch(() => undefined)
    const gone = await waitFor(main, id, (x) => x.body.streams === 0)
    expect(gone.body.status).not.toBe('cancelled')
    expect((await call(`${main.url}/jobs/${id}`, 'DELETE')).body.status).toBe('cancelled')
  })
})

describe('a thread pool behind the service', () => {
  it('gives the in-process results; closing the server cancels its jobs and leaves the pool open', async () => {
    const pool = executor(threadPoolExecutor({ workers: 2 }))
    const s = await start({ executor: pool })
    const job = { spec: { method: 'integratedGradients', options: { nSteps: 300 } }, model: 'mlp.onnx', target: 2, examplesPerTask: 8, entriesPerTask: 100 }
    const a = await submit(s, { job, data: { file: 'rows.csv' } })
    const done = await waitFor(s, a.body.id!)
    expect(done.body).toMatchObject({ status: 'done', progress: { done: 40, failed: 0, tasks: 5 * (3 + 1) } })
    const text = await (await fetch(`${s.url}/jobs/${a.body.id}/results`)).text()
    expect(text).toBe(await expectedResults(job, await csvSource(path.join(datasetsDir, 'rows.csv'))))

    const long = await submit(s, { job: LONG_JOB, data: { file: 'long.csv' } })
    const sse = await subscribe(s, long.body.id!)
    // Tasks are running on both workers when the server closes.
    await waitFor(s, long.body.id!, (x) => (x.body.progress?.done ?? 0) > 0)
    const t0 = performance.now()
    await s.app.close()
    expect(performance.now() - t0).toBeLessThan(5000)
    const events = await sse.events
    expect(events[events.length - 1]!.name).toBe('cancelled')
    // The pool belongs to the test, not to the server: it still runs jobs.
    const after = await runJob(pool, { spec: { method: 'saliency' }, model: MODEL_COPY }, { size: 1, examples: [{ inputs: [float32([1, 12], row(1))] }] }, () => undefined)
    expect(E.isRight(after)).toBe(true)
  })
})

describe('refusals', () => {
  const good = { spec: { method: 'saliency' }, model: 'mlp.onnx' }
  it('a bad job spec: 400 with the paths decodeJob and the spec resolver name', async () => {
    const a = await submit(main, { job: { spec: { method: 'integratedGradients', options: { nSteps: 'many', bogus: 1 } }, model: 'mlp.onnx', seed: 1.5, examplesPerTask: 0, nSteps: 3 }, data: { file: 'rows.csv' } })
    expect(a.status).toBe(400)
    expect(a.body.error).toBe('InvalidRequest')
    expect(paths(a)).toEqual(['job.examplesPerTask', 'job.nSteps', 'job.seed', 'job.spec.options.bogus', 'job.spec.options.nSteps'])
    expect(paths(await submit(main, { job: { ...good, spec: { method: 'saliencyy' } }, data: { file: 'rows.csv' } }))).toEqual(['job.spec.method'])
    expect(paths(await submit(main, { job: { model: 'mlp.onnx' }, data: { file: 'rows.csv' } }))).toEqual(['job.spec'])
    const perm = await submit(main, { job: { ...good, spec: { method: 'featurePermutation' } }, data: { file: 'rows.csv' } })
    expect(paths(perm)).toEqual(['job.examplesPerTask'])
    expect(paths(await submit(main, { job: { ...good, featureMask: [{ dtype: 'int32', shape: [1, 12], data: [0, 1.5, ...new Array<number>(10).fill(0)] }] }, data: { file: 'rows.csv' } }))).toEqual(['job.featureMask.0.data.1'])
  })

  it('bad bodies and data: 400 with paths; every problem at once', async () => {
    expect(paths(await submit(main, [1, 2]))).toEqual(['<root>'])
    expect(paths(await submit(main, { job: good, data: { file: 'rows.csv' }, extra: 1 }))).toEqual(['extra'])
    expect(paths(await submit(main, { job: 'saliency', data: 3 }))).toEqual(['data', 'job'])
    expect(paths(await submit(main, { job: good, data: { file: 'labelled.csv', csvTarget: 'nope' } }))).toEqual(['data.csvTarget'])
    expect(paths(await submit(main, { job: good, data: { file: 'rows.csv', preprocess: { size: [4, 4] } } }))).toEqual(['data.preprocess'])
    expect(paths(await submit(main, { job: good, data: { examples: [] } }))).toEqual(['data.examples'])
    const inline = await submit(main, {
      job: { ...good, model: '../mlp.onnx' },
      data: { examples: [{ inputs: [{ dtype: 'float32', shape: [2, 12], data: new Array<number>(24).fill(0) }] }, { inputs: [{ dtype: 'float32', shape: [1, 12], data: [1, 2] }] }] },
    })
    expect(paths(inline)).toEqual(['data.examples.0.inputs.0.shape', 'data.examples.1.inputs.0.data', 'job.model'])
    const notJson = await submit(main, '{"job": ')
    expect(notJson.status).toBe(400)
  })

  it('files outside the datasets folder: 400; missing models and datasets: 404', async () => {
    for (const file of ['../secret.csv', path.join(root, 'secret.csv'), 'notes.txt', '']) {
      const a = await submit(main, { job: good, data: { file } })
      expect(a.status, file).toBe(400)
      expect(paths(a), file).toEqual(['data.file'])
    }
    expect(await submit(main, { job: good, data: { file: 'missing.csv' } })).toMatchObject({ status: 404, body: { error: 'UnknownDataset', path: 'data.file' } })
    expect(await submit(main, { job: { ...good, model: 'nope.onnx' }, data: { file: 'rows.csv' } })).toMatchObject({ status: 404, body: { error: 'UnknownModel', path: 'job.model' } })
    // An image folder loads the model to size its images: a missing model is 404, one that does not load 500.
    expect(await submit(main, { job: { ...good, model: 'nope.onnx' }, data: { file: 'images' } })).toMatchObject({ status: 404, body: { error: 'UnknownModel', path: 'job.model' } })
    expect(await submit(main, { job: { ...good, model: 'broken.onnx' }, data: { file: 'images' } })).toMatchObject({ status: 500, body: { error: 'BadModel', path: 'job.model' } })
  })

  it('work limits as for /explain: steps, samples and perturbations', async () => {
    const steps = await submit(main, { job: { ...good, spec: { method: 'noiseTunnel', options: { wrapped: 'saliency', ntSamples: 1001 } } }, data: { file: 'rows.csv' } })
    expect(paths(steps)).toEqual(['job.spec.options.ntSamples'])
    expect(steps.body.issues![0]!.message).toContain('maxSamples')
    // ShapleyValueSampling evaluates 1 + nSamples × (features − 1) copies: 1 + 10 × 11 = 111 > 100.
    const svs = await submit(main, { job: { ...good, spec: { method: 'shapleyValueSampling', options: { nSamples: 10 } } }, data: { file: 'rows.csv' } })
    expect(paths(svs)).toEqual(['job.spec.options.nSamples'])
    expect((await submit(main, { job: { ...good, spec: { method: 'shapleyValueSampling', options: { nSamples: 9 } } }, data: { file: 'rows.csv' } })).status).toBe(202)
  })

  it('unknown ids: 404 on every route', async () => {
    for (const [method, suffix] of [['GET', ''], ['GET', '/events'], ['GET', '/results'], ['DELETE', '']] as const) {
      const a = await call(`${main.url}/jobs/no-such-job${suffix}`, method)
      expect(a.status, `${method} ${suffix}`).toBe(404)
      expect(a.body).toMatchObject({ error: 'UnknownJob', path: 'id' })
    }
  })
})

describe('auth and configuration', () => {
  it('every /jobs route needs the bearer token', async () => {
    const s = await start({}, { token: 'open sesame' })
    const body = { job: { spec: { method: 'saliency' }, model: 'mlp.onnx', target: 0 }, data: { file: 'rows.csv' } }
    expect((await submit(s, body)).status).toBe(401)
    expect((await submit(s, body, { authorization: 'Bearer wrong' })).status).toBe(401)
    const ok = await submit(s, body, { authorization: 'Bearer open sesame' })
    expect(ok.status).toBe(202)
    for (const suffix of ['', '/events', '/results']) expect((await fetch(`${s.url}/jobs/${ok.body.id}${suffix}`)).status, suffix).toBe(401)
    expect((await call(`${s.url}/jobs/${ok.body.id}`, 'DELETE')).status).toBe(401)
    expect((await call(`${s.url}/jobs/${ok.body.id}`, 'GET', undefined, { authorization: 'Bearer open sesame' })).status).toBe(200)
  })

  it('without the jobs option the /jobs routes answer 404 saying how to enable them', async () => {
    const s = await start(undefined)
    for (const [method, url] of [['POST', '/jobs'], ['GET', '/jobs/abc'], ['GET', '/jobs/abc/events'], ['DELETE', '/jobs/abc']] as const) {
      const a = await call(`${s.url}${url}`, method, method === 'POST' ? { job: {}, data: {} } : undefined)
      expect(a.status, url).toBe(404)
      expect(a.body.error).toBe('JobsDisabled')
      expect(a.body.message).toContain('--jobs-datasets')
    }
    // Negative control: the same request to a server with jobs is not refused that way.
    expect((await call(`${main.url}/jobs/abc`, 'GET')).body.error).toBe('UnknownJob')
  })

  it('bad jobs options throw naming the field', () => {
    const bad = (jobs: Partial<JobsOptions>): unknown => createServer({ models: modelsDir, jobs: { executor: reference, datasets: datasetsDir, results: resultsDir, ...jobs } })
    expect(() => bad({ datasets: path.join(root, 'missing') })).toThrow(/jobs\.datasets/)
    expect(() => bad({ maxJobs: 0 })).toThrow(/jobs\.maxJobs/)
    expect(() => bad({ executor: {} as Executor })).toThrow(/jobs\.executor/)
  })
})

describe('clarus serve --jobs-*', () => {
  const cli = async (...argv: string[]): Promise<{ code: number; err: string }> => {
    let err = ''
    const code = await cliMain(argv, { write: () => undefined }, { write: (s: string) => (err += s) })
    return { code, err }
  }

  it('refuses incomplete or bad job flags with exit code 2', async () => {
    expect(await cli('serve', '--models', modelsDir, '--jobs-datasets', datasetsDir)).toMatchObject({ code: 2, err: expect.stringContaining('--jobs-results') })
    expect(await cli('serve', '--models', modelsDir, '--max-jobs', '2')).toMatchObject({ code: 2, err: expect.stringContaining('--max-jobs needs --jobs-datasets') })
    expect(await cli('serve', '--models', modelsDir, '--jobs-datasets', datasetsDir, '--jobs-results', resultsDir, '--jobs-executor', 'gpu')).toMatchObject({ code: 2, err: expect.stringContaining('--jobs-executor') })
    expect(await cli('serve', '--models', modelsDir, '--jobs-datasets', datasetsDir, '--jobs-results', resultsDir, '--max-jobs', '0')).toMatchObject({ code: 2, err: expect.stringContaining('--max-jobs') })
    expect(await cli('serve', '--models', modelsDir, '--jobs-datasets', path.join(root, 'missing'), '--jobs-results', resultsDir)).toMatchObject({ code: 2, err: expect.stringContaining('jobs.datasets') })
  })

  it('jobsExecutor builds the executor the flags name', async () => {
    const pool = await jobsExecutor({ 'jobs-executor': 'threads', 'jobs-workers': '3' })
    expect(pool.name).toBe('thread pool (3 workers)')
    await pool.close()
    const inProcess = await jobsExecutor({})
    expect(inProcess.name).toBe('in-process')
    await inProcess.close()
    await expect(jobsExecutor({ 'jobs-workers': '2' })).rejects.toThrow(/--jobs-workers applies to --jobs-executor threads/)
    await expect(jobsExecutor({ 'jobs-executor': 'threads', 'jobs-workers': 'two' })).rejects.toThrow(/--jobs-workers/)
    await expect(jobsExecutor({ 'jobs-executor': 'redis' })).rejects.toThrow(/--jobs-redis <url>/)
    await expect(jobsExecutor({ 'jobs-redis': 'http://x' })).rejects.toThrow(/redis:\/\/ or rediss:\/\//)
  })

  it('serves jobs and stops on SIGTERM', async () => {
    const run = await runServe(['--models', modelsDir, '--port', '0', '--jobs-datasets', datasetsDir, '--jobs-results', resultsDir, '--max-jobs', '1'])
    const url = run.url
    expect(run.log()).toContain(`jobs: ${datasetsDir} → ${resultsDir} on in-process`)
    const s = { url } as Running
    const a = await submit(s, { job: { spec: { method: 'saliency' }, model: 'mlp.onnx', target: 1 }, data: { file: 'rows.csv' } })
    expect((await waitFor(s, a.body.id!)).body.status).toBe('done')
    run.terminate()
    await run.done
    expect(run.log()).toContain('stopped')
  })
})
