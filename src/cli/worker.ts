/**
 * `clarus worker --redis URL …`: a queue worker for the BullMQ executor. It takes clarus tasks from
 * the queue until SIGINT or SIGTERM, then stops taking new ones, lets the running ones finish,
 * releases its models and returns. The Redis URL may carry a password
 * (`redis://:secret@host:6379`); give it through an environment variable in shared shells
 * (`--redis "$CLARUS_REDIS"`), and it is never printed.
 *
 * @category cli
 * @since 0.6.0
 */
import { CliError, parseArgs, processSignals, redisUrl, stopSignal, wholeFlag, type StopSignals } from './args.js'
import type { TextSink } from './progress.js'

export const WORKER_USAGE = `clarus worker --redis redis://127.0.0.1:6379 [--queue clarus] [--concurrency 1] [--threads N]
    [--prefix bull] [--lock-duration-ms 30000] [--stalled-interval-ms 30000] [--verbose]`

const FLAGS = ['redis', 'queue', 'concurrency', 'threads', 'prefix', 'lock-duration-ms', 'stalled-interval-ms']

/** The signals that stop the worker (replaceable in tests). */
export type WorkerSignals = StopSignals

/** Runs `clarus worker`; resolves once the worker has closed after SIGINT or SIGTERM. */
export const worker = async (argv: readonly string[], err: TextSink = process.stderr, signals: WorkerSignals = processSignals): Promise<void> => {
  const a = parseArgs(argv, FLAGS, ['verbose'])
  if (a.positionals.length > 0) throw new CliError(`worker takes no positional arguments, got ${a.positionals.join(' ')}\n\nusage: ${WORKER_USAGE}`)
  const url = a.flags.redis
  if (url === undefined) throw new CliError(`worker needs --redis <url>, the Redis server the producer enqueues to (e.g. redis://127.0.0.1:6379)\n\nusage: ${WORKER_USAGE}`)
  redisUrl(url)
  const verbose = a.switches.has('verbose')
  const options = {
    connection: { url },
    ...(a.flags.queue !== undefined ? { queueName: a.flags.queue } : {}),
    ...(a.flags.prefix !== undefined ? { prefix: a.flags.prefix } : {}),
    ...Object.fromEntries(([
      ['concurrency', 'concurrency'], ['threads', 'threads'], ['lockDurationMs', 'lock-duration-ms'], ['stalledIntervalMs', 'stalled-interval-ms'],
    ] as const).flatMap(([key, flag]) => {
      const n = wholeFlag(a.flags, flag)
      return n === undefined ? [] : [[key, n]]
    })),
  }
  // BullMQ is an optional dependency: loaded only when a worker is started
  let mod: typeof import('../scale/queueWorker.js')
  let describeConnection: typeof import('../scale/queueProtocol.js').describeConnection
  try {
    mod = await import('../scale/queueWorker.js')
    describeConnection = (await import('../scale/queueProtocol.js')).describeConnection
  } catch (e) {
    throw new CliError(`clarus worker needs bullmq and ioredis installed next to clarus (npm install bullmq ioredis): ${(e as Error).message}`, 1)
  }
  const where = describeConnection(options.connection)
  const queue = options.queueName ?? 'clarus'
  const tag = `clarus worker ${process.pid}`
  let w: Awaited<ReturnType<typeof mod.startQueueWorker>>
  err.write(`${tag}: connecting to ${where}\n`)
  try {
    w = await mod.startQueueWorker({
      ...options,
      onEvent: (e) => {
        if (e.kind === 'error') err.write(`${tag}: ${e.message}\n`)
        else if (verbose) err.write(`${tag}: ${e.kind} ${e.kind === 'cancelled' ? e.scope : `${e.name} ${e.job}`}\n`)
      },
    })
  } catch (e) {
    throw new CliError(`cannot start a worker on ${where}: ${(e as Error).message}`, 1)
  }
  err.write(`${tag}: ready, taking tasks from queue ${queue} on ${where}\n`)
  const stopped = await stopSignal(signals)
  err.write(`${tag}: ${stopped}: finishing the running tasks, then stopping\n`)
  await w.close()
  err.write(`${tag}: stopped\n`)
}
