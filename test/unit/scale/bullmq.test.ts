// The BullMQ executor against a real redis-server (started here on a free loopback port) and real
// worker processes (`clarus worker`): results equal the in-process executor's bit for bit, a worker
// killed with SIGKILL mid-task loses nothing, a poisoned input fails only its own unit, and
// cancelling the driver stops every worker's running task and leaves nothing queued.
import { spawn, type ChildProcess } from 'node:child_process'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Queue, QueueEvents } from 'bullmq'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HostTensor } from '../../../src/core/tensor.js'
import { bullmqExecutor } from '../../../src/scale/bullmq.js'
import { runJob, type ExampleResult, type JobProgress, type JobSummary } from '../../../src/scale/executor.js'
import { inProcessExecutor } from '../../../src/scale/inProcess.js'
import type { Example } from '../../../src/scale/job.js'
import { main } from '../../../src/cli/clarus.js'
import { freePort, haveRedis, startRedis, until } from '../../helpers/redis.js'
import { REFERENCE_DIR } from '../../helpers/reference.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const MLP = path.join(REFERENCE_DIR, 'models/mlp.onnx')
const CNN = path.join(REFERENCE_DIR, 'models/cnn.onnx')
const QUEUE = 'clarus-test'
// short locks, so a killed worker's task is retried within seconds
const LOCK_MS = 3000
const STALLED_MS = 1000

interface Proc {
  readonly child: ChildProcess
  log: string
}

let redis: ChildProcess | undefined
let url = ''
const workers: Proc[] = []

/** A `clarus worker` process (node + tsx, no npx in between, so a signal reaches the worker itself). */
const startWorker = async (): Promise<Proc> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/clarus.ts', 'worker', '--redis', url, '--queue', QUEUE, '--threads', '1',
    '--lock-duration-ms', String(LOCK_MS), '--stalled-interval-ms', String(STALLED_MS), '--verbose'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  const p: Proc = { child, log: '' }
  child.stderr!.on('data', (d: Buffer) => {
    p.log += d.toString()
  })
  workers.push(p)
  await until(`worker ${child.pid} to be ready (its log so far: ${p.log})`, 30_000, () => {
    if (child.exitCode !== null) throw new Error(`clarus worker exited with ${child.exitCode}: ${p.log}`)
    return p.log.includes('ready, taking tasks')
  })
  return p
}
const alive = (): Proc[] => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null)
const tasksStarted = (p: Proc): number => p.log.split('\n').filter((l) => l.includes(': active task ')).length

beforeAll(async () => {
  if (!haveRedis()) {
    throw new Error('redis-server is not installed, and the BullMQ tests need a real one: install Redis 7 (Debian/Ubuntu: apt-get install redis-server) so that `redis-server` is on PATH')
  }
  const r = await startRedis()
  url = r.url
  redis = r.process
  await Promise.all([startWorker(), startWorker(), startWorker()])
}, 60_000)

afterAll(async () => {
  for (const w of alive()) w.child.kill('SIGTERM')
  await until('the workers to stop', 15_000, () => alive().length === 0).catch(() => {
    for (const w of alive()) w.child.kill('SIGKILL')
  })
  redis?.kill('SIGKILL')
})

const mlpExamples = (n: number, poisoned?: number): Example[] => Array.from({ length: n }, (_, i) => ({
  inputs: [{ dtype: 'float32', shape: [1, 12], data: Float32Array.from({ length: 12 }, (_, j) => (i === poisoned && j === 5 ? Number.NaN : Math.sin(i * 12 + j + 1))) }],
  target: i % 3,
  id: `row-${i}`,
}))
const cnnExamples = (n: number): Example[] => Array.from({ length: n }, (_, i) => ({
  inputs: [{ dtype: 'float32', shape: [1, 3, 32, 32], data: Float32Array.from({ length: 3072 }, (_, j) => Math.sin(i * 7 + j * 0.01)) }],
  target: i % 5,
}))

interface Run {
  readonly summary: E.Either<import('../../../src/core/errors.js').AttributionError, JobSummary>
  readonly results: ExampleResult[]
  readonly progress: JobProgress[]
}
const run = async (executor: ReturnType<typeof bullmqExecutor>, spec: unknown, examples: Example[], signal?: AbortSignal): Promise<Run> => {
  const results: ExampleResult[] = []
  const progress: JobProgress[] = []
  const summary = await runJob(executor, spec, { examples, size: examples.length }, (r) => void results.push(r), {
    onProgress: (p) => void progress.push(p),
    ...(signal !== undefined ? { signal } : {}),
  })
  return { summary, results, progress }
}
const reference = async (spec: unknown, examples: Example[]): Promise<Run> => {
  const ex = inProcessExecutor({ threads: 1 })
  try {
    return await run(ex, spec, examples)
  } finally {
    await ex.close()
  }
}
const queueExecutor = (): ReturnType<typeof bullmqExecutor> =>
  bullmqExecutor({ connection: { url }, queueName: QUEUE, workers: 3, backoff: { type: 'exponential', delay: 200 }, timeoutMs: 50_000 })

/** Every float of every example's attributions and delta, compared by bits. */
const expectSameBits = (a: readonly ExampleResult[], b: readonly ExampleResult[]): void => {
  expect(b.map((r) => [r.index, r.id, r.error?._tag])).toEqual(a.map((r) => [r.index, r.id, r.error?._tag]))
  let compared = 0
  for (const [i, ra] of a.entries()) {
    const rb = b[i]!
    expect(Object.is(rb.delta, ra.delta), `delta of example ${i}: ${rb.delta} vs ${ra.delta}`).toBe(true)
    expect(rb.attributions?.length).toBe(ra.attributions?.length)
    for (const [k, ta] of (ra.attributions ?? []).entries()) {
      const tb: HostTensor = rb.attributions![k]!
      expect(tb.shape).toEqual(ta.shape)
      const x = new Uint8Array(ta.data.buffer, ta.data.byteOffset, ta.data.byteLength)
      const y = new Uint8Array(tb.data.buffer, tb.data.byteOffset, tb.data.byteLength)
      const first = x.findIndex((v, j) => v !== y[j])
      expect(first, `example ${i}, input ${k} differs at byte ${first}`).toBe(-1)
      compared += ta.data.length
    }
  }
  expect(compared).toBeGreaterThan(0)
}

describe('bullmqExecutor with 3 clarus worker processes on a real redis-server', () => {
  it('explains a dataset exactly as the in-process executor does: whole units, then units split into spans', async () => {
    const examples = mlpExamples(48)
    const executor = queueExecutor()
    try {
      for (const split of [{}, { entriesPerTask: 16 }]) {
        const spec = { spec: { method: 'integratedGradients', options: { nSteps: 50 } }, model: MLP, examplesPerTask: 8, ...split }
        const before = workers.map(tasksStarted)
        const [want, got] = [await reference(spec, examples), await run(executor, spec, examples)]
        const s = got.summary
        if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
        expect(E.isRight(want.summary)).toBe(true)
        expect({ ...s.right, jobId: '', seconds: 0 }).toEqual({ ...(want.summary as E.Right<JobSummary>).right, jobId: '', seconds: 0 })
        expectSameBits(want.results, got.results)
        // the attributions are not trivial (IG of a trained MLP), and a changed float would show
        expect(got.results.some((r) => r.attributions![0]!.data.some((v) => v !== 0))).toBe(true)
        // 6 units: one task each, or 4 spans (50 steps by 16) and a finish each; progress counted them all
        expect(s.right.tasks).toBe('entriesPerTask' in split ? 6 * 5 : 6)
        expect(got.progress.at(-1)).toEqual({ done: 48, failed: 0, tasks: s.right.tasks, total: 48 })
        // the work was spread: more than one worker process took tasks
        const took = workers.map((w, i) => tasksStarted(w) - before[i]!)
        expect(took.filter((n) => n > 0).length, `tasks per worker: ${took.join(', ')}`).toBeGreaterThan(1)
        expect(took.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(s.right.tasks - ('entriesPerTask' in split ? 6 : 0))
      }
    } finally {
      await executor.close()
    }
  })

  it('a poisoned input (NaN) fails its own unit with a clear NonFinite error, is not retried, and the other units complete', async () => {
    const examples = mlpExamples(24, 11)
    const spec = { spec: { method: 'integratedGradients', options: { nSteps: 20 } }, model: MLP, examplesPerTask: 8 }
    const executor = queueExecutor()
    const queue = new Queue(QUEUE, { connection: { url } })
    try {
      const failedBefore = (await queue.getJobCounts('failed')).failed ?? 0
      const got = await run(executor, spec, examples)
      const s = got.summary
      if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
      expect([s.right.examples, s.right.failed]).toEqual([24, 8])
      const bad = got.results.filter((r) => r.error !== undefined)
      expect(bad.map((r) => r.index)).toEqual([8, 9, 10, 11, 12, 13, 14, 15])
      for (const r of bad) {
        expect(r.error!._tag).toBe('NonFinite')
        expect(r.error!.message).toMatch(/NaN/)
      }
      const want = await reference(spec, examples)
      expectSameBits(want.results, got.results)
      // an attribution error is a result: no job failed in BullMQ, so nothing was retried
      expect((await queue.getJobCounts('failed')).failed ?? 0).toBe(failedBefore)
    } finally {
      await queue.close()
      await executor.close()
    }
  })

  it('a worker killed with SIGKILL mid-task loses nothing: its task is retried elsewhere and the result is unchanged', async () => {
    const examples = cnnExamples(4)
    const spec = { spec: { method: 'integratedGradients', options: { nSteps: 1000 } }, model: CNN, examplesPerTask: 2 }
    const want = await reference(spec, examples)
    const executor = queueExecutor()
    const events = new QueueEvents(QUEUE, { connection: { url } })
    const stalled: string[] = []
    events.on('stalled', ({ jobId }) => void stalled.push(jobId))
    await events.waitUntilReady()
    try {
      const before = workers.map(tasksStarted)
      const job = run(executor, spec, examples)
      let victim: Proc | undefined
      await until('a worker to start a task', 30_000, () => {
        victim = alive().find((w) => tasksStarted(w) > before[workers.indexOf(w)]!)
        return victim !== undefined
      })
      victim!.child.kill('SIGKILL')
      const got = await job
      const s = got.summary
      if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
      expect(victim!.child.signalCode).toBe('SIGKILL')
      expect(s.right.failed).toBe(0)
      expectSameBits(want.results, got.results)
      // the killed worker's job was found stalled and run again; each unit's task was counted once
      await until('the stalled event', 5000, () => stalled.length > 0)
      expect(s.right.tasks).toBe(2)
      expect(got.progress.at(-1)?.tasks).toBe(2)
    } finally {
      await events.close()
      await executor.close()
      await startWorker() // back to three
    }
  })

  it('cancelling the driver stops every worker\'s running task promptly and leaves no job queued', async () => {
    // 6 units of ~several seconds each: two or three are running when the signal aborts
    const examples = cnnExamples(12)
    const spec = { spec: { method: 'integratedGradients', options: { nSteps: 4000 } }, model: CNN, examplesPerTask: 2 }
    const executor = queueExecutor()
    const queue = new Queue(QUEUE, { connection: { url } })
    try {
      const before = workers.map(tasksStarted)
      const ctl = new AbortController()
      const job = run(executor, spec, examples, ctl.signal)
      await until('two workers to be running a task', 30_000, () => workers.filter((w, i) => tasksStarted(w) > before[i]!).length >= 2)
      const t0 = performance.now()
      ctl.abort()
      const got = await job
      const took = performance.now() - t0
      expect(E.isLeft(got.summary) && got.summary.left._tag).toBe('Cancelled')
      // a unit takes several seconds; its cancelled tasks ended long before that
      expect(took).toBeLessThan(4000)
      const running = workers.filter((w, i) => tasksStarted(w) > before[i]!)
      for (const w of running) expect(w.log).toMatch(/: cancelled job-/)
      const counts = await queue.getJobCounts()
      const { active, waiting, delayed, prioritized, 'waiting-children': parents } = counts
      expect({ active, waiting, delayed, prioritized, parents }, JSON.stringify(counts)).toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0, parents: 0 })
      expect(got.results).toEqual([])
    } finally {
      await queue.close()
      await executor.close()
    }
  })
})

describe('bullmqExecutor never hangs without workers or without Redis', () => {
  it('a unit nobody takes fails after timeoutMs with a message naming the queue, and is taken off the queue', async () => {
    const lonely = 'clarus-nobody-listens'
    const executor = bullmqExecutor({ connection: { url }, queueName: lonely, timeoutMs: 1500, checkIntervalMs: 500 })
    const queue = new Queue(lonely, { connection: { url } })
    try {
      const spec = { spec: { method: 'saliency' }, model: MLP, examplesPerTask: 4 }
      const got = await run(executor, spec, mlpExamples(4))
      const s = got.summary
      if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
      expect(s.right.failed).toBe(4)
      expect(got.results[0]!.error!._tag).toBe('BackendFailure')
      expect(got.results[0]!.error!.message).toMatch(/did not finish within 1500 ms .*queue clarus-nobody-listens.*clarus worker --redis/)
      const c = await queue.getJobCounts()
      expect([c.waiting, c['waiting-children'], c.active]).toEqual([0, 0, 0])
    } finally {
      await queue.close()
      await executor.close()
    }
  })

  it('an unreachable Redis is a BackendFailure that says what to start, within connectTimeoutMs', async () => {
    const port = await freePort() // nothing listens there
    const executor = bullmqExecutor({ connection: { url: `redis://127.0.0.1:${port}` }, connectTimeoutMs: 1000 })
    try {
      const t0 = performance.now()
      const got = await run(executor, { spec: { method: 'saliency' }, model: MLP, examplesPerTask: 2 }, mlpExamples(2))
      expect(performance.now() - t0).toBeLessThan(5000)
      const s = got.summary
      if (E.isLeft(s)) throw new Error(`${s.left._tag}: ${s.left.message}`)
      expect(got.results[0]!.error!.message).toMatch(new RegExp(`cannot reach Redis for queue clarus on redis://127.0.0.1:${port}.*Start redis-server`))
    } finally {
      await executor.close()
    }
  })
})

describe('clarus worker: usage errors', () => {
  const sink = (): { text: string; write: (s: string) => boolean } => {
    const o = { text: '', write: (s: string) => ((o.text += s), true) }
    return o
  }
  it('needs --redis, a redis:// URL, and whole numbers', async () => {
    for (const [argv, message] of [
      [['worker'], /worker needs --redis <url>/],
      [['worker', '--redis', 'http://x'], /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
      [['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency must be a whole number ≥ 1, got "0"/],
      [['worker', '--redis', 'redis://127.0.0.1:1', '--nope', '1'], /unknown option --nope/],
    ] as const) {
      const out = sink()
      const err = sink()
      expect(await main(argv, out, err)).toBe(2)
      expect(err.text).toMatch(message)
    }
    const out = sink()
    expect(await main(['help'], out, sink())).toBe(0)
    expect(out.text).toMatch(/clarus worker --redis/)
  })
})
