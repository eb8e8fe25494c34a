/**
 * The thread-pool executor: tasks run on N worker threads of this process (Node's own
 * `worker_threads`), each with its own models.
 *
 * Why Node's workers and not a pool library (piscina, tinypool): a task is long (a whole unit or
 * span: tens of milliseconds to minutes), so a library's faster dispatch buys nothing; what the
 * executor needs is a model cache that outlives tasks in each worker, per-task cancellation
 * messages, and respawning a worker that died with its task re-run — about a hundred lines on top
 * of `worker_threads`, with no dependency to track.
 *
 * ONNX Runtime's intra-op threads default to 1 per worker here (`threads`), so N workers use N
 * cores without oversubscribing them.
 *
 * @category scale
 * @since 0.6.0
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import * as E from 'fp-ts/lib/Either.js'
import { backendFailure, err, type AttributionError } from '../core/errors.js'
import type { ExpansionSize } from '../dsl/run.js'
import { unitByTasks, type Executor } from './executor.js'
import type { Job, Task, TaskOutcome, Unit } from './job.js'

/** Main thread → worker. */
export type PoolRequest =
  | { readonly type: 'task'; readonly id: number; readonly job: Job; readonly task: Task }
  | { readonly type: 'expansion'; readonly id: number; readonly job: Job; readonly unit: Unit }
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'close' }

/** Worker → main thread. */
export type PoolReply =
  | { readonly type: 'task'; readonly id: number; readonly outcome: TaskOutcome }
  | { readonly type: 'expansion'; readonly id: number; readonly size: E.Either<AttributionError, ExpansionSize | undefined> }

export interface ThreadPoolOptions {
  /** Worker threads (default: the machine's available parallelism). */
  readonly workers?: number
  /** ONNX Runtime intra-op threads per worker (default 1). */
  readonly threads?: number
  /** Runs of a task whose worker died before answering (default 2). */
  readonly attempts?: number
}

interface Pending {
  readonly msg: Extract<PoolRequest, { type: 'task' | 'expansion' }>
  readonly resolve: (r: PoolReply) => void
  attempts: number
  signal: AbortSignal
}

/**
 * How to start the worker script next to this module: the compiled `.js` directly; the `.ts`
 * source (tests, `tsx` runs) through a bootstrap that registers tsx's loader in the worker first.
 */
const workerStart = (): { readonly script: URL | string; readonly eval: boolean } => {
  if (!import.meta.url.endsWith('.ts')) return { script: new URL('./poolWorker.js', import.meta.url), eval: false }
  const src = new URL('./poolWorker.ts', import.meta.url).href
  return { script: `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(src)}) })`, eval: true }
}

/** Runs tasks on a pool of worker threads of this process. */
export const threadPoolExecutor = (options: ThreadPoolOptions = {}): Executor => {
  const size = Math.max(1, options.workers ?? availableParallelism())
  const attempts = Math.max(1, options.attempts ?? 2)
  const start = workerStart()
  const queue: Pending[] = []
  const slots: { worker: Worker; busy?: Pending; error?: string }[] = []
  let nextId = 0
  let closed = false

  const spawn = (): { worker: Worker; busy?: Pending; error?: string } => {
    const worker = new Worker(start.script, { workerData: { threads: options.threads ?? 1 }, eval: start.eval })
    const slot: { worker: Worker; busy?: Pending; error?: string } = { worker }
    worker.on('message', (r: PoolReply) => {
      const p = slot.busy
      if (p === undefined || p.msg.id !== r.id) return
      slot.busy = undefined
      p.resolve(r)
      pump()
    })
    // A worker that dies takes only its task with it: the task is run again on a new worker.
    worker.on('error', (e) => {
      slot.error = e.message
    })
    worker.on('exit', (code) => {
      const i = slots.indexOf(slot)
      if (i >= 0) slots.splice(i, 1)
      const p = slot.busy
      slot.busy = undefined
      if (p !== undefined) {
        p.attempts++
        if (p.attempts >= attempts || closed) {
          const error = backendFailure(`the worker thread running this task exited (code ${code}${slot.error !== undefined ? `: ${slot.error}` : ''}) ${p.attempts} time(s); giving up`)
          p.resolve(p.msg.type === 'task' ? { type: 'task', id: p.msg.id, outcome: { ok: false, error } } : { type: 'expansion', id: p.msg.id, size: E.left(error) })
        } else queue.unshift(p)
      }
      if (!closed) {
        slots.push(spawn())
        pump()
      }
    })
    return slot
  }

  const pump = (): void => {
    for (const slot of slots) {
      if (slot.busy !== undefined) continue
      const p = queue.shift()
      if (p === undefined) return
      if (p.signal.aborted) {
        const error = err('Cancelled', 'the job was cancelled before this task started')
        p.resolve(p.msg.type === 'task' ? { type: 'task', id: p.msg.id, outcome: { ok: false, error } } : { type: 'expansion', id: p.msg.id, size: E.left(error) })
        continue
      }
      slot.busy = p
      slot.worker.postMessage(p.msg)
    }
  }

  const send = (msg: Extract<PoolRequest, { type: 'task' | 'expansion' }>, signal: AbortSignal): Promise<PoolReply> =>
    new Promise((settle) => {
      const resolve = (r: PoolReply): void => {
        signal.removeEventListener('abort', onAbort)
        settle(r)
      }
      if (closed) {
        const error = err('Cancelled', 'the thread pool is closed')
        resolve(msg.type === 'task' ? { type: 'task', id: msg.id, outcome: { ok: false, error } } : { type: 'expansion', id: msg.id, size: E.left(error) })
        return
      }
      if (slots.length === 0) for (let i = 0; i < size; i++) slots.push(spawn())
      const p: Pending = { msg, resolve, attempts: 0, signal }
      // cancellation reaches the task wherever it is: still queued (dropped by pump) or running (told to abort)
      function onAbort(): void {
        for (const s of slots) if (s.busy === p) s.worker.postMessage({ type: 'cancel', id: msg.id } satisfies PoolRequest)
        const q = queue.indexOf(p)
        if (q >= 0) {
          queue.splice(q, 1)
          const error = err('Cancelled', 'the job was cancelled before this task started')
          resolve(msg.type === 'task' ? { type: 'task', id: msg.id, outcome: { ok: false, error } } : { type: 'expansion', id: msg.id, size: E.left(error) })
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      queue.push(p)
      pump()
    })

  return {
    name: `thread pool (${size} workers)`,
    parallelism: size,
    expansion: async (job, unit, signal) => {
      const r = await send({ type: 'expansion', id: nextId++, job, unit }, signal)
      return r.type === 'expansion' ? r.size : E.left(backendFailure('a worker answered an expansion request with a task result'))
    },
    runUnit: (job, unit, spans, signal, onTask) =>
      unitByTasks(unit, spans, async (task) => {
        const r = await send({ type: 'task', id: nextId++, job, task }, signal)
        return r.type === 'task' ? r.outcome : { ok: false, error: backendFailure('a worker answered a task with an expansion result') }
      }, onTask),
    close: async () => {
      closed = true
      const all = slots.splice(0)
      await Promise.all(all.map((s) => new Promise<void>((resolve) => {
        s.worker.once('exit', () => resolve())
        s.worker.postMessage({ type: 'close' } satisfies PoolRequest)
        // a worker stuck in a model call is terminated after a grace period
        setTimeout(() => void s.worker.terminate(), 5000).unref()
      })))
    },
  }
}
