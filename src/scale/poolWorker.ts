/**
 * A worker thread of {@link threadPoolExecutor}: loads models once (its own cache), runs the tasks
 * it is sent with `runTask`, and aborts a task when told to. Messages are plain data (structured
 * clone carries the typed arrays of units and partials without copying them through JSON).
 *
 * @category scale
 * @since 0.6.0
 */
import { parentPort, workerData } from 'node:worker_threads'
import * as E from 'fp-ts/lib/Either.js'
import { modelCache } from './models.js'
import { runTask, unitExpansion } from './task.js'
import type { PoolReply, PoolRequest } from './pool.js'
import type { Model } from '../core/backend.js'

const port = parentPort
if (port === null) throw new Error('poolWorker.ts runs as a worker thread of threadPoolExecutor')
const models = modelCache({ threads: (workerData as { threads?: number } | undefined)?.threads ?? 1 })
const running = new Map<number, AbortController>()

const reply = (r: PoolReply): void => port.postMessage(r)

port.on('message', (msg: PoolRequest) => {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort()
    return
  }
  if (msg.type === 'close') {
    void models.close().then(() => port.close())
    return
  }
  const ctl = new AbortController()
  running.set(msg.id, ctl)
  void (async () => {
    const m = await models.get(msg.job.spec.model)
    if (E.isLeft(m)) {
      reply(msg.type === 'task' ? { type: 'task', id: msg.id, outcome: { ok: false, error: m.left } } : { type: 'expansion', id: msg.id, size: m })
      return
    }
    const model = m.right.model as Model<unknown>
    if (msg.type === 'task') reply({ type: 'task', id: msg.id, outcome: await runTask(msg.job, model, msg.task, ctl.signal) })
    else reply({ type: 'expansion', id: msg.id, size: await unitExpansion(msg.job, model, msg.unit) })
  })().finally(() => running.delete(msg.id))
})
