/**
 * `clarus serve --models <dir> …`: runs the explanation service (`createServer`) until SIGINT or
 * SIGTERM, then stops taking connections, lets the requests in flight finish, releases the models
 * and returns. The bearer token is read from an environment variable (`--token-env NAME`), never
 * from the command line, where other users of the machine could read it.
 *
 * With `--jobs-datasets DIR --jobs-results DIR` the server also runs dataset jobs (`POST /jobs`) on
 * an executor this command creates ({@link jobsExecutor}) and closes after the server has stopped.
 *
 * @category cli
 * @since 0.6.0
 */
import type { AddressInfo } from 'node:net'
import { ClarusError } from '../core/errors.js'
import type { Executor } from '../scale/executor.js'
import { inProcessExecutor } from '../scale/inProcess.js'
import { threadPoolExecutor } from '../scale/pool.js'
import { CliError, parseArgs, processSignals, queueExecutor, redisUrl, stopSignal, wholeFlag, type StopSignals } from './args.js'
import type { TextSink } from './progress.js'
import { errorText } from './spec.js'

export const SERVE_USAGE = `clarus serve --models <dir> [--port 8080] [--host 127.0.0.1] [--token-env CLARUS_TOKEN]
    [--max-concurrent N] [--timeout-ms N] [--body-limit BYTES] [--max-steps N] [--max-samples N] [--max-perturbations N]
    [--jobs-datasets <dir> --jobs-results <dir> [--jobs-executor in-process | threads | redis] [--jobs-workers N] [--jobs-redis URL] [--max-jobs N]]`

const FLAGS = ['models', 'port', 'host', 'token-env', 'max-concurrent', 'timeout-ms', 'body-limit', 'max-steps', 'max-samples', 'max-perturbations',
  'jobs-datasets', 'jobs-results', 'jobs-executor', 'jobs-workers', 'jobs-redis', 'max-jobs']

/**
 * The executor dataset jobs run on, from the `--jobs-*` flags: `in-process` (the default),
 * `threads` (`--jobs-workers N` worker threads, default one per core) or `redis` (BullMQ on
 * `--jobs-redis URL`, `clarus worker` processes anywhere; `--jobs-workers N` is how many to assume).
 * The caller closes it.
 */
export const jobsExecutor = async (flags: Readonly<Record<string, string>>): Promise<Executor> => {
  const kind = flags['jobs-executor'] ?? (flags['jobs-redis'] !== undefined ? 'redis' : 'in-process')
  const workers = wholeFlag(flags, 'jobs-workers')
  if (kind !== 'redis' && flags['jobs-redis'] !== undefined) throw new CliError('--jobs-redis goes with --jobs-executor redis')
  if (kind === 'in-process') {
    if (workers !== undefined) throw new CliError('--jobs-workers applies to --jobs-executor threads or redis only')
    return inProcessExecutor()
  }
  if (kind === 'threads') return threadPoolExecutor(workers !== undefined ? { workers } : {})
  if (kind === 'redis') {
    const url = flags['jobs-redis']
    if (url === undefined) throw new CliError('--jobs-executor redis needs --jobs-redis <url> (e.g. redis://127.0.0.1:6379) where `clarus worker` processes take tasks')
    return queueExecutor(redisUrl(url, 'jobs-redis'), workers !== undefined ? { workers } : {})
  }
  throw new CliError(`--jobs-executor must be in-process, threads or redis, got ${JSON.stringify(kind)}`)
}

/** The signals that stop the server (replaceable in tests). */
export type { StopSignals } from './args.js'

/** Runs `clarus serve`; resolves once the server has shut down after SIGINT or SIGTERM. */
export const serve = async (argv: readonly string[], err: TextSink = process.stderr, signals: StopSignals = processSignals): Promise<void> => {
  const a = parseArgs(argv, FLAGS)
  if (a.positionals.length > 0) throw new CliError(`serve takes no positional arguments, got ${a.positionals.join(' ')}\n\nusage: ${SERVE_USAGE}`)
  const models = a.flags.models
  if (models === undefined) throw new CliError(`serve needs --models <dir>, the folder of model files it may serve\n\nusage: ${SERVE_USAGE}`)
  const port = wholeFlag(a.flags, 'port', 0) ?? 8080
  if (port > 65535) throw new CliError(`--port must be at most 65535, got ${port}`)
  const host = a.flags.host ?? '127.0.0.1'
  const tokenEnv = a.flags['token-env']
  const token = tokenEnv !== undefined ? process.env[tokenEnv] : undefined
  if (tokenEnv !== undefined && (token === undefined || token === '')) throw new CliError(`--token-env ${tokenEnv}: the environment variable ${tokenEnv} is not set or empty; set it to the token clients must send`)
  const datasets = a.flags['jobs-datasets']
  const results = a.flags['jobs-results']
  const jobFlags = ['jobs-executor', 'jobs-workers', 'max-jobs'].filter((f) => a.flags[f] !== undefined)
  if ((datasets === undefined) !== (results === undefined)) throw new CliError(`dataset jobs need both --jobs-datasets <dir> and --jobs-results <dir>\n\nusage: ${SERVE_USAGE}`)
  if (datasets === undefined && jobFlags.length > 0) throw new CliError(`--${jobFlags[0]} needs --jobs-datasets <dir> and --jobs-results <dir>`)
  const maxJobs = wholeFlag(a.flags, 'max-jobs')
  const limits = Object.fromEntries(([
    ['maxConcurrent', 'max-concurrent'], ['timeoutMs', 'timeout-ms'], ['bodyLimitBytes', 'body-limit'],
    ['maxSteps', 'max-steps'], ['maxSamples', 'max-samples'], ['maxPerturbations', 'max-perturbations'],
  ] as const).flatMap(([key, flag]) => {
    const n = wholeFlag(a.flags, flag)
    return n === undefined ? [] : [[key, n]]
  }))
  // Fastify is an optional peer dependency, loaded only here, when a server is actually started.
  let createServer: typeof import('../serve/server.js').createServer
  try {
    ({ createServer } = await import('../serve/server.js'))
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /fastify/.test((e as Error).message)
    if (!missing) throw e
    throw new CliError('clarus serve needs Fastify 5, an optional dependency: npm install fastify@5 next to clarus', 1)
  }
  // This command owns the jobs' executor: it is closed after the server, whatever happens.
  const executor = datasets !== undefined ? await jobsExecutor(a.flags) : undefined
  try {
    const options = {
      models,
      ...(token !== undefined ? { token } : {}),
      ...(executor !== undefined && datasets !== undefined && results !== undefined
        ? { jobs: { executor, datasets, results, ...(maxJobs !== undefined ? { maxJobs } : {}) } }
        : {}),
      ...limits,
    }
    let app: ReturnType<typeof createServer>
    try {
      app = createServer(options)
    } catch (e) {
      if (e instanceof ClarusError) throw new CliError(`bad server options:\n${errorText(e.error)}`)
      throw e
    }
    try {
      await app.listen({ port, host })
    } catch (e) {
      await app.close()
      throw new CliError(`cannot listen on ${host}:${port}: ${(e as Error).message}`, 1)
    }
    const addr = app.server.address() as AddressInfo
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    const loopback = ['127.0.0.1', '::1', 'localhost'].includes(host)
    const jobsNote = executor !== undefined ? `, jobs: ${datasets} → ${results} on ${executor.name}` : ''
    err.write(`clarus serve: listening on http://${shown}:${addr.port} (models: ${models}${jobsNote}${token !== undefined ? ', bearer token required' : ''})\n`)
    if (token === undefined && !loopback) err.write('clarus serve: warning: no --token-env; anyone who can reach this address can run explanations\n')
    const stopped = await stopSignal(signals)
    err.write(`clarus serve: ${stopped}: finishing the requests in flight${executor !== undefined ? ' and cancelling the jobs' : ''}, then stopping\n`)
    await app.close()
  } finally {
    await executor?.close()
  }
  err.write('clarus serve: stopped\n')
}
