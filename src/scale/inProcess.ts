/**
 * The in-process executor: tasks run one after another in this thread, on models loaded here.
 * The reference the other executors are tested against, and the right choice for small jobs.
 *
 * @category scale
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../core/backend.js'
import type { Executor } from './executor.js'
import { unitByTasks } from './executor.js'
import type { LoadOptions } from '../cli/models.js'
import { modelCache } from './models.js'
import { runTask, unitExpansion } from './task.js'

/** Runs every task in this process (sequentially: one model call at a time uses ONNX Runtime's own threads). */
export const inProcessExecutor = (options: LoadOptions = {}): Executor => {
  const models = modelCache(options)
  // one task at a time: concurrent runs on one model would only interleave on the same threads
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <A>(f: () => Promise<A>): Promise<A> => {
    const next = queue.then(f, f)
    queue = next.catch(() => undefined)
    return next
  }
  return {
    name: 'in-process',
    parallelism: 1,
    expansion: async (job, unit) => {
      const m = await models.get(job.spec.model)
      if (E.isLeft(m)) return m
      return serial(() => unitExpansion(job, m.right.model as Model<unknown>, unit))
    },
    runUnit: async (job, unit, spans, signal, onTask) => {
      const m = await models.get(job.spec.model)
      if (E.isLeft(m)) return { ok: false, error: m.left }
      return unitByTasks(unit, spans, (task) => serial(() => runTask(job, m.right.model as Model<unknown>, task, signal)), onTask)
    },
    close: () => models.close(),
  }
}
