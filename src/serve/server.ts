/**
 * `createServer`: clarus as an HTTP explanation service (Fastify). Routes:
 *
 * - `POST /explain`: a model file of the models folder, a spec (a method with options, or a whole
 *   pipeline), input tensors and call options in JSON; answers the attributions (and an HTML report
 *   when asked). Requests are validated by io-ts codecs, bounded by the work limits, and run at most
 *   `maxConcurrent` at a time; the rest wait in arrival order, none is dropped.
 * - `GET /methods`: the registered methods and their options (as `clarus methods --json`).
 * - `GET /health`: `{ ok: true }`, without authentication.
 * - `/jobs`: dataset jobs run in the background when the `jobs` option is given (see `jobs.ts`).
 *
 * Every failure is JSON `{ error, message, … }`: 400 `InvalidRequest` with `issues` (the dotted
 * path of each bad field) or an attribution error's tag and `path`, 401 `Unauthorized`, 404
 * `UnknownModel`, 413 `PayloadTooLarge`, 503 `Overloaded` (no slot came free in time), 504
 * `Timeout`, 500 for a model or runtime failure.
 *
 * Fastify is loaded only by this module and the `clarus serve` command, never by `clarus` itself.
 *
 * @category serve
 * @since 0.6.0
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { fastify, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify'
import * as E from 'fp-ts/lib/Either.js'
import { attribute } from '../api/attribute.js'
import { CliError } from '../cli/args.js'
import type { LoadedModel } from '../cli/models.js'
import { methodRows, type ResolvedSpec } from '../cli/spec.js'
import type { Model } from '../core/backend.js'
import { ClarusError, invalidSpec, type AttributionError, type ErrorTag } from '../core/errors.js'
import { sizeOf, toFloat64, type HostTensor } from '../core/tensor.js'
import type { AttributionResult } from '../dsl/run.js'
import { describe } from '../dsl/spec.js'
import { explanationReport } from '../viz/report.js'
import { barChartSvg } from '../viz/tabular.js'
import { limitIssues } from './limits.js'
import { modelCache } from './modelCache.js'
import { jobRoutes, resolveJobsOptions, type JobsOptions } from './jobs.js'
import { decodeServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.js'
import { callInputsOf, decodeExplainRequest, issuesOf, toJsonTensor, type CallInputs, type ExplainRequest, type RequestIssue } from './request.js'
import { slots } from './slots.js'
import { resolveRequestSpec } from './spec.js'

/**
 * HTTP status of each attribution error: what the client can fix is 400, a model or runtime
 * failure 500, a run past `timeoutMs` 504. A new error tag must be placed here (the record is total).
 */
const STATUS: Readonly<Record<ErrorTag, 400 | 500 | 504>> = {
  InvalidSpec: 400,
  ShapeMismatch: 400,
  BadTarget: 400,
  BadBaseline: 400,
  DTypeMismatch: 400,
  NonFinite: 400,
  EmptyInput: 400,
  MissingInput: 400,
  UnknownTensor: 400,
  NotReachable: 400,
  UnsupportedOps: 400,
  Unsupported: 400,
  BadPipeline: 400,
  BackendFailure: 500,
  BadModel: 500,
  Cancelled: 504,
}

const invalid = (reply: FastifyReply, issues: readonly RequestIssue[]): FastifyReply =>
  reply.code(400).send({
    error: 'InvalidRequest',
    message: `the request is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  })

/** The attribution error as a JSON body (with `issues` for InvalidSpec, `nodes` for UnsupportedOps). */
const errorBody = (e: AttributionError): Record<string, unknown> => ({
  error: e._tag,
  message: e.message,
  path: e.path.join('.'),
  ...(e._tag === 'InvalidSpec' ? { issues: issuesOf(e) } : {}),
  ...(e._tag === 'UnsupportedOps' ? { nodes: e.nodes } : {}),
})

/** The first example of a tensor as plain numbers. */
const firstExample = (h: HostTensor): Float64Array => toFloat64(h).subarray(0, h.shape.length === 0 ? 1 : sizeOf(h.shape.slice(1)))

/** Above this many values per example the report leaves out the bar chart. */
const MAX_CHART_VALUES = 1 << 16

/** A standalone HTML report of one explanation: the method, the options, the delta, a bar chart of the largest attributions. */
const reportOf = (modelName: string, spec: ResolvedSpec, req: ExplainRequest, res: AttributionResult): string => {
  const name = spec.method ?? spec.pipeline.name
  const attr = res.attributions[0]
  const values = attr !== undefined ? firstExample(attr) : new Float64Array(0)
  const labels = Array.from(values, (_, i) => (attr?.shape.length === 2 ? `feature ${i}` : `element ${i}`))
  const chart = values.length > 0 && values.length <= MAX_CHART_VALUES
    ? [{ caption: 'attributions of the first example (largest |value| first)', svg: barChartSvg(labels, Array.from(values), { title: 'Attributions', topK: 20 }) }]
    : []
  return explanationReport({
    title: `${name} on ${modelName}`,
    model: modelName,
    method: { name, describe: describe(spec.pipeline) },
    options: {
      ...spec.options,
      inputs: req.inputs.map((x) => `[${x.dtype} ${JSON.stringify(x.shape)}]`),
      ...(req.target !== undefined ? { target: req.target } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(req.baselines !== undefined ? { baselines: typeof req.baselines === 'number' ? req.baselines : '[given]' } : {}),
      ...(req.featureMask !== undefined ? { featureMask: '[given]' } : {}),
    },
    ...(res.delta !== undefined ? { delta: Array.from(toFloat64(res.delta)) } : {}),
    svgs: chart,
    facts: [
      ...res.attributions.map((a, i) => [`attribution ${i} shape`, `[${a.shape.join(', ')}]`] as const),
      ['Σ attribution (first example)', String(Number(values.reduce((s, v) => s + v, 0).toPrecision(6)))],
      ['model rows evaluated', String(res.meta.modelRows)],
    ],
  })
}

/**
 * The explanation service as a Fastify instance, not yet listening: call
 * `listen({ port, host })` to serve and `close()` to stop (closing releases every loaded model).
 * Bad options throw a {@link ClarusError} carrying an `InvalidSpec` that names each field.
 *
 * @example
 * ```ts
 * import { createServer } from 'clarus/serve'
 *
 * const app = createServer({ models: './models', token: process.env.CLARUS_TOKEN, maxConcurrent: 2 })
 * await app.listen({ port: 8080, host: '127.0.0.1' })
 * // POST http://127.0.0.1:8080/explain { "model": "mlp.onnx", "spec": { "method": "integratedGradients" }, … }
 *
 * // With dataset jobs (POST /jobs): the executor stays yours to close after the server.
 * const executor = threadPoolExecutor({ workers: 2 })
 * const withJobs = createServer({ models: './models', jobs: { executor, datasets: './data', results: './results', maxJobs: 2 } })
 * ```
 *
 * @category serve
 * @since 0.6.0
 */
export const createServer = (options: ServeOptions & { readonly jobs?: JobsOptions }): FastifyInstance => {
  const { jobs: jobsOptions, ...serveOptions } = options
  const decoded = decodeServeOptions(serveOptions)
  if (E.isLeft(decoded)) throw new ClarusError(decoded.left)
  const o: ResolvedServeOptions = decoded.right
  const jobs = jobsOptions !== undefined ? resolveJobsOptions(jobsOptions) : undefined
  let models: ReturnType<typeof modelCache>
  try {
    models = modelCache(o.models)
  } catch (e) {
    throw new ClarusError(invalidSpec([{ path: ['models'], message: `the models folder ${JSON.stringify(o.models)} cannot be opened: ${(e as Error).message}` }]))
  }
  const queue = slots(o.maxConcurrent)
  const methods = methodRows()
  const tokenHash = o.token !== undefined ? createHash('sha256').update(o.token).digest() : undefined

  const app = fastify({ bodyLimit: o.bodyLimitBytes, logger: false })
  // Bodies are JSON only: a text body would otherwise reach the route as a string.
  app.removeContentTypeParser('text/plain')

  app.addHook('onRequest', async (req, reply) => {
    if (tokenHash === undefined || (req.method === 'GET' && req.url.split('?')[0] === '/health')) return
    const m = /^Bearer +(.+?) *$/i.exec(req.headers.authorization ?? '')
    const given = m !== null ? createHash('sha256').update(m[1]!).digest() : undefined
    if (given !== undefined && timingSafeEqual(given, tokenHash)) return
    await reply.code(401).header('WWW-Authenticate', 'Bearer realm="clarus"').send({
      error: 'Unauthorized',
      message: m === null ? 'this server needs a bearer token: send the header Authorization: Bearer <token>' : 'the bearer token is not the one this server was started with',
    })
    return reply
  })

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ error: 'PayloadTooLarge', message: `the request body is larger than this server's limit of ${o.bodyLimitBytes} bytes (bodyLimitBytes): send smaller or fewer tensors` })
    }
    const status = error.statusCode ?? 500
    if (status === 415) return reply.code(415).send({ error: 'UnsupportedMediaType', message: 'send the body as JSON with the header Content-Type: application/json' })
    if (status >= 400 && status < 500) return invalid(reply.code(status), [{ path: '<root>', message: error.message }])
    return reply.code(500).send({ error: 'InternalError', message: `the server failed: ${error.message}` })
  })

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'NotFound', message: `no route ${req.method} ${req.url.split('?')[0]}: the routes are POST /explain, GET /methods, GET /health${jobs !== undefined ? ' and /jobs' : ''}` }))

  app.addHook('onClose', async () => {
    await models.releaseAll()
  })

  app.get('/health', async () => ({ ok: true }))
  jobRoutes(app, jobs, models, o)
  app.get('/methods', async () => ({ methods }))

  app.post('/explain', async (req, reply) => {
    const started = performance.now()
    // A client that goes away stops its wait or its run; its slot goes to the next request. Node's
    // server keeps a half-closed socket open while a response is pending, so the client's FIN
    // ('end') is the first sign; the listeners come off the (keep-alive) socket with the response.
    const gone = new AbortController()
    const socket = req.raw.socket
    const onGone = (): void => {
      if (!reply.raw.writableFinished) gone.abort()
    }
    const detach = (): void => {
      socket.off('end', onGone)
      socket.off('close', onGone)
    }
    socket.once('end', onGone)
    socket.once('close', onGone)
    reply.raw.once('close', () => {
      onGone()
      detach()
    })
    reply.raw.once('finish', detach)
    if (socket.destroyed || socket.readableEnded) gone.abort()
    const body = decodeExplainRequest(req.body)
    if (E.isLeft(body)) return invalid(reply, body.left)
    const r = body.right
    const spec = resolveRequestSpec(r.spec)
    const call = callInputsOf(r)
    const problems = [...(E.isLeft(spec) ? spec.left : []), ...(E.isLeft(call) ? call.left : [])]
    if (E.isLeft(spec) || E.isLeft(call)) return invalid(reply, problems)
    const over = limitIssues(spec.right, r.spec, o, call.right.inputs, call.right.featureMask)
    if (over.length > 0) return invalid(reply, over)
    const where = models.resolve(r.model)
    if ('problem' in where) {
      const p = where.problem
      return p.status === 400 ? invalid(reply, [{ path: 'model', message: p.message }]) : reply.code(404).send({ error: p.error, message: p.message, path: 'model' })
    }
    let loaded: LoadedModel
    try {
      loaded = await models.load(where.file)
    } catch (e) {
      if (!(e instanceof CliError)) throw e
      return reply.code(500).send({ error: 'BadModel', message: e.message, path: 'model' })
    }

    const waited = await queue.acquire(o.timeoutMs - (performance.now() - started), gone.signal)
    if (waited === 'aborted') return reply.code(499).send({ error: 'Cancelled', message: 'the client closed the connection' })
    if (waited === 'timedOut') {
      const { waiting } = queue.stats()
      return reply.code(503).header('Retry-After', '1').send({
        error: 'Overloaded',
        message: `no attribution slot came free within this server's timeoutMs (${o.timeoutMs} ms; ${o.maxConcurrent} run at once, ${waiting} waiting): retry later`,
      })
    }
    const queuedMs = performance.now() - started
    let result: E.Either<AttributionError, AttributionResult>
    try {
      result = await run(loaded, spec.right, call.right, r, Math.max(1, o.timeoutMs - (performance.now() - started)), gone.signal)
    } finally {
      queue.release()
    }
    // How long the request waited for a slot and ran (standard Server-Timing, readable in browser dev tools).
    reply.header('Server-Timing', `queue;dur=${queuedMs.toFixed(1)}, attribute;dur=${(performance.now() - started - queuedMs).toFixed(1)}`)
    if (E.isLeft(result)) {
      const e = result.left
      if (e._tag === 'Cancelled') {
        return gone.signal.aborted
          ? reply.code(499).send({ error: 'Cancelled', message: 'the client closed the connection' })
          : reply.code(504).send({ error: 'Timeout', message: `${spec.right.pipeline.name} did not finish within this server's timeoutMs (${o.timeoutMs} ms): ask for fewer steps or samples, or send fewer examples`, path: 'timeoutMs' })
      }
      return reply.code(STATUS[e._tag]).send(errorBody(e))
    }
    const res = result.right
    return reply.code(200).send({
      attributions: res.attributions.map(toJsonTensor),
      ...(res.delta !== undefined ? { delta: toJsonTensor(res.delta) } : {}),
      meta: res.meta,
      ...(r.report === true ? { report: reportOf(r.model, spec.right, r, res) } : {}),
    })
  })

  return app
}

/** One attribution with the request's call options. */
const run = (loaded: LoadedModel, spec: ResolvedSpec, call: CallInputs, r: ExplainRequest, timeoutMs: number, signal: AbortSignal): Promise<E.Either<AttributionError, AttributionResult>> =>
  attribute(spec.pipeline, loaded.model as Model<unknown>, call.inputs, {
    ...(call.target !== undefined ? { target: call.target } : {}),
    ...(call.baselines !== undefined ? { baselines: call.baselines } : {}),
    ...(call.featureMask !== undefined ? { featureMask: call.featureMask } : {}),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    ...(r.perturbationsPerEval !== undefined ? { perturbationsPerEval: r.perturbationsPerEval } : {}),
    ...(r.internalBatchSize !== undefined ? { internalBatchSize: r.internalBatchSize } : {}),
    timeoutMs,
    signal,
  })()
