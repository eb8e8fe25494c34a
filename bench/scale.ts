// Explaining a dataset (issue 17): IG (50 steps) over 256 images of the reference cnn on the
// in-process executor, a worker-thread pool and BullMQ queue workers (1 and 2 of each: this machine
// has 2 cores), with throughput, parallel efficiency against the same executor with one worker, and
// the queue's cost per task (tiny tasks: Saliency on the mlp, one example each, BullMQ vs in-process).
// Every executor's results are checked to be the in-process results, bit for bit.
// Needs redis-server on PATH for the BullMQ rows (skipped with a note otherwise).
import { spawn, type ChildProcess } from 'node:child_process'
import * as path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { float32 } from '../src/index.js'
import { inProcessExecutor, runJob, threadPoolExecutor, type Example, type ExampleResult, type Executor } from '../src/scale/index.js'
import { bullmqExecutor } from '../src/scale/bullmq.js'
import { haveRedis, startRedis, until } from '../test/helpers/redis.js'
import { row } from './util.js'

const CNN = path.resolve('../shared/reference/models/cnn.onnx')
const MLP = path.resolve('../shared/reference/models/mlp.onnx')
const N = 256
const QUEUE = 'clarus-bench'

const images: Example[] = Array.from({ length: N }, (_, e) => ({
  inputs: [float32([1, 3, 32, 32], Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => (((i + 131 * e) * 2654435761) % 1000) / 1000))],
}))
const rows: Example[] = Array.from({ length: 64 }, (_, e) => ({ inputs: [float32([1, 12], Array.from({ length: 12 }, (_, j) => Math.sin(e * 12 + j)))] }))
const IG_JOB = { spec: { method: 'integratedGradients', options: { nSteps: 50 } }, model: CNN, target: 2, examplesPerTask: 16 }
const TINY_JOB = { spec: { method: 'saliency' }, model: MLP, target: 1, examplesPerTask: 1 }

const run = async (ex: Executor, job: object, data: Example[]): Promise<{ seconds: number; tasks: number; out: ExampleResult[] }> => {
  const out: ExampleResult[] = []
  const t0 = performance.now()
  const r = await runJob(ex, job, { examples: data }, (x) => {
    out.push(x)
  })
  if (E.isLeft(r)) throw new Error(`${ex.name}: ${r.left.message}`)
  if (r.right.failed > 0) throw new Error(`${ex.name}: ${r.right.failed} examples failed: ${out.find((o) => o.error)?.error?.message}`)
  return { seconds: (performance.now() - t0) / 1000, tasks: r.right.tasks, out }
}
const sameBits = (a: readonly ExampleResult[], b: readonly ExampleResult[]): boolean =>
  a.length === b.length && a.every((x, i) => {
    const p = x.attributions![0]!.data as Float32Array
    const q = b[i]!.attributions![0]!.data as Float32Array
    return p.length === q.length && p.every((v, j) => Object.is(v, q[j]))
  })

const startWorker = async (url: string): Promise<ChildProcess> => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/clarus.ts', 'worker', '--redis', url, '--queue', QUEUE, '--threads', '1', '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d: Buffer) => {
    log += d.toString()
  })
  await until('a clarus worker', 60_000, () => log.includes('ready, taking tasks'))
  return child
}

export const benchScale = async (): Promise<string[]> => {
  const out = [
    `### Explaining a dataset: IG (50 steps) over ${N} images of the reference cnn (1×3×32×32), 16 per unit`,
    '',
    'Throughput in examples per second; efficiency = throughput ÷ (workers × the same executor\'s one-worker throughput). ' +
      'One warm-up job per executor first (model loading, worker start-up and tsx compilation are not timed). Bits: results equal the in-process executor\'s, float for float.',
    '',
    row(['executor', 'seconds', 'examples/s', 'efficiency', 'bits']),
    row(['---', '---', '---', '---', '---']),
  ]
  const inProc = inProcessExecutor({ threads: 2 })
  await run(inProc, IG_JOB, images.slice(0, 16))
  const ref = await run(inProc, IG_JOB, images)
  out.push(row(['in-process (ONNX Runtime with 2 threads)', ref.seconds, N / ref.seconds, '—', 'reference']))
  const tinyRef = await run(inProc, TINY_JOB, rows)
  await inProc.close()
  const one = new Map<string, number>()
  for (const workers of [1, 2]) {
    const pool = threadPoolExecutor({ workers, threads: 1 })
    await run(pool, IG_JOB, images.slice(0, 16 * workers))
    const r = await run(pool, IG_JOB, images)
    await pool.close()
    if (workers === 1) one.set('pool', N / r.seconds)
    out.push(row([`thread pool, ${workers} worker(s) × 1 thread`, r.seconds, N / r.seconds, workers === 1 ? '1' : (N / r.seconds / (2 * one.get('pool')!)).toFixed(2), sameBits(r.out, ref.out) ? 'equal' : 'DIFFERENT']))
  }
  const tiny: string[] = []
  if (!haveRedis()) {
    out.push('', 'BullMQ rows skipped: no redis-server on PATH (Debian: apt-get install redis-server).')
    return out
  }
  const { url, process: redis } = await startRedis()
  const workers: ChildProcess[] = []
  try {
    for (const n of [1, 2]) {
      while (workers.length < n) workers.push(await startWorker(url))
      const ex = bullmqExecutor({ connection: { url }, queueName: QUEUE, workers: n })
      await run(ex, IG_JOB, images.slice(0, 16 * n))
      const r = await run(ex, IG_JOB, images)
      if (n === 1) one.set('bullmq', N / r.seconds)
      out.push(row([`BullMQ on Redis, ${n} clarus worker process(es) × 1 thread`, r.seconds, N / r.seconds, n === 1 ? '1' : (N / r.seconds / (2 * one.get('bullmq')!)).toFixed(2), sameBits(r.out, ref.out) ? 'equal' : 'DIFFERENT']))
      if (n === 1) {
        await run(ex, TINY_JOB, rows.slice(0, 8))
        const t = await run(ex, TINY_JOB, rows)
        tiny.push('', `Queue cost per task: ${rows.length} one-example Saliency tasks on the mlp take ${t.seconds.toFixed(3)} s through BullMQ (one worker) and ` +
          `${tinyRef.seconds.toFixed(3)} s in-process: ${(((t.seconds - tinyRef.seconds) / t.tasks) * 1000).toFixed(1)} ms of queue per task ` +
          `(a unit is one flow: a child task and its parent finish job, each through Redis).`)
      }
      await ex.close()
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM')
    redis.kill('SIGTERM')
  }
  return [...out, ...tiny]
}
