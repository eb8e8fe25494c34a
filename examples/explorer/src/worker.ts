/**
 * The explorer's Web Worker: it loads models and runs clarus, so the page's thread only draws.
 * ONNX models run on onnxruntime-web (its wasm-only build, the one clarus's ONNX backend loads by
 * default in browsers; one thread unless the page is cross-origin isolated);
 * tfjs models load TensorFlow.js on first use. Every request is answered with a message of
 * `protocol.ts`; failures are messages too, never exceptions escaping the worker.
 */
import * as E from 'fp-ts/lib/Either.js'
// the same module instance fromOnnx loads by default: its env is the one that counts
import * as ort from 'onnxruntime-web/wasm'
import { attribute, decodePipeline, layersOf, METHODS, type AttributionError, type HostTensor, type Model, type Pipeline } from 'clarus'
import { fromOnnx } from 'clarus/onnx'
import { concatBytes } from '../../../src/core/bytes.js'
import type { FromWorker, ModelFiles, ModelSummary, RunRequest, ToWorker, WireTensor } from './protocol.js'

/** The worker's global scope, typed here (the project's DOM types describe a window, not a worker). */
interface WorkerScope {
  postMessage(message: FromWorker): void
  addEventListener(type: 'message', listener: (e: MessageEvent<ToWorker>) => void): void
  readonly crossOriginIsolated?: boolean
}
const scope = globalThis as unknown as WorkerScope

const post = (m: FromWorker): void => scope.postMessage(m)

ort.env.wasm.numThreads = scope.crossOriginIsolated === true ? Math.min(4, navigator.hardwareConcurrency || 1) : 1

/** The loaded model, whichever backend's tensors it uses, behind the calls the worker makes. */
interface Loaded {
  readonly summary: ModelSummary
  forward(input: HostTensor): Promise<E.Either<AttributionError, number[]>>
  run(p: Pipeline, r: RunRequest, signal: AbortSignal): Promise<void>
  dispose(): Promise<void>
}
let loaded: Loaded | undefined
const running = new Map<number, AbortController>()

/**
 * Model work runs one request at a time (an ONNX Runtime session takes one run at a time); a
 * cancel is handled at once, whether its run is going or still waiting.
 */
let queue: Promise<void> = Promise.resolve()
const enqueue = (job: () => Promise<void>): void => {
  queue = queue.then(job, job)
}

/** An AttributionError as one line a user can act on (an InvalidSpec names every bad field). */
const errorMessage = (e: AttributionError): string =>
  e._tag === 'InvalidSpec' ? `${e.message}: ${e.issues.map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`).join('; ')}` : `${e._tag}: ${e.message}`

const thrown = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const summaryOf = <T>(name: string, backend: 'onnx' | 'tfjs', model: Model<T>): ModelSummary => ({
  name,
  backend,
  inputs: model.signature.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: [...i.shape] })),
  outputs: model.signature.outputs.map((o) => ({ name: o.name, dtype: o.dtype, shape: [...o.shape] })),
  layers: layersOf(model).map((l) => ({ name: l.name, opType: l.opType })),
})

/** A tfjs model from model.json and its weight files (weights concatenated in manifest order). */
const loadTfjs = async (files: Extract<ModelFiles, { kind: 'tfjs' }>): Promise<Loaded> => {
  const tf = await import('@tensorflow/tfjs')
  const { fromTfjs } = await import('clarus/tfjs')
  const json = JSON.parse(files.json) as { format?: string; modelTopology?: unknown; weightsManifest?: readonly { paths: readonly string[]; weights: unknown[] }[] }
  const manifest = json.weightsManifest ?? []
  const byName = new Map(files.weights.map((w) => [w.name, w.bytes]))
  const parts = manifest.flatMap((g) => g.paths).map((p) => {
    const base = p.split('/').pop() ?? p
    const bytes = byName.get(base)
    if (bytes === undefined) throw new Error(`model.json needs the weight file ${base}: drop it together with model.json`)
    return new Uint8Array(bytes)
  })
  const weightData = concatBytes(parts)
  const artifacts = {
    modelTopology: json.modelTopology as object,
    weightSpecs: manifest.flatMap((g) => g.weights) as Parameters<typeof tf.io.fromMemorySync>[1],
    weightData: weightData.buffer,
    format: json.format,
  }
  const handler = tf.io.fromMemory(artifacts)
  const model = json.format === 'graph-model' ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler)
  const wrapped = wrap(files.name, 'tfjs', fromTfjs(model))
  // clarus's dispose leaves the user's model alone; this one the worker loaded, so it frees its weights too
  return { ...wrapped, dispose: async () => { await wrapped.dispose(); model.dispose() } }
}

const load = async (requestId: number, files: ModelFiles): Promise<void> => {
  const t0 = performance.now()
  try {
    if (loaded !== undefined) await loaded.dispose()
    loaded = undefined
    if (files.kind === 'onnx') {
      const m = await fromOnnx(new Uint8Array(files.bytes))
      if (E.isLeft(m)) return post({ type: 'failed', requestId, message: `could not load ${files.name}: ${errorMessage(m.left)}` })
      loaded = wrap(files.name, 'onnx', m.right)
    } else {
      loaded = await loadTfjs(files)
    }
    post({ type: 'loaded', requestId, summary: loaded.summary, ms: performance.now() - t0 })
  } catch (e) {
    post({ type: 'failed', requestId, message: `could not load ${files.name}: ${thrown(e)}` })
  }
}

/** The model's first output for one input, as plain numbers (the page takes softmax and top-k). */
const forwardOn = async <T>(model: Model<T>, input: HostTensor): Promise<E.Either<AttributionError, number[]>> => {
  const x = model.backend.fromHost(input)
  try {
    const r = await model.forward([x])()
    if (E.isLeft(r)) return r
    const host = await model.backend.toHost(r.right.output)
    model.backend.dispose(r.right.output)
    return E.right(Array.from(host.data, Number))
  } finally {
    model.backend.dispose(x)
  }
}

const predict = async (requestId: number, input: WireTensor): Promise<void> => {
  if (loaded === undefined) return post({ type: 'failed', requestId, message: 'load a model first' })
  const t0 = performance.now()
  try {
    const r = await loaded.forward(input as HostTensor)
    if (E.isLeft(r)) return post({ type: 'failed', requestId, message: `the model could not run on this input: ${errorMessage(r.left)}` })
    post({ type: 'predicted', requestId, logits: r.right, ms: performance.now() - t0 })
  } catch (e) {
    post({ type: 'failed', requestId, message: `the model could not run on this input: ${thrown(e)}` })
  }
}

/** The pipeline a request names: a given pipeline value, or the method built from its options (with the delta when it has one). */
const pipelineOf = (r: RunRequest): E.Either<string, Pipeline> => {
  if (r.pipeline !== undefined) {
    const d = decodePipeline(r.pipeline)
    return E.isLeft(d) ? E.left(`the pipeline is not valid: ${errorMessage(d.left)}`) : E.right(d.right)
  }
  const info = Object.hasOwn(METHODS, r.method) ? METHODS[r.method] : undefined
  if (info === undefined) return E.left(`unknown method ${r.method}`)
  const options = info.hasDelta && r.options['returnConvergenceDelta'] === undefined ? { ...r.options, returnConvergenceDelta: true } : r.options
  try {
    return E.right(info.build(options))
  } catch (e) {
    const err = (e as { error?: AttributionError }).error
    return E.left(`bad options for ${r.method}: ${err !== undefined ? errorMessage(err) : thrown(e)}`)
  }
}

const runOn = async <T>(model: Model<T>, p: Pipeline, r: RunRequest, signal: AbortSignal): Promise<void> => {
  const t0 = performance.now()
  const res = await attribute(p, model, r.input as HostTensor, {
    target: r.target,
    signal,
    onProgress: (q) => post({ type: 'progress', runId: r.runId, done: q.done, total: q.total }),
  })()
  const ms = performance.now() - t0
  if (E.isLeft(res)) {
    const cancelled = res.left._tag === 'Cancelled' || signal.aborted
    return post({ type: 'runFailed', runId: r.runId, message: cancelled ? 'cancelled' : errorMessage(res.left), cancelled })
  }
  const out = res.right
  post({
    type: 'result',
    result: {
      runId: r.runId,
      method: r.method,
      options: r.options,
      pipeline: JSON.parse(JSON.stringify(p)) as unknown,
      target: r.target,
      attributions: out.attributions as readonly WireTensor[],
      ...(out.delta !== undefined ? { delta: Array.from(out.delta.data, Number) } : {}),
      ms,
    },
  })
}

const wrap = <T>(name: string, backend: 'onnx' | 'tfjs', model: Model<T>): Loaded => ({
  summary: summaryOf(name, backend, model),
  forward: (input) => forwardOn(model, input),
  run: (p, r, signal) => runOn(model, p, r, signal),
  dispose: () => model.dispose(),
})

const run = async (r: RunRequest, controller: AbortController): Promise<void> => {
  if (controller.signal.aborted) return post({ type: 'runFailed', runId: r.runId, message: 'cancelled', cancelled: true })
  if (loaded === undefined) return post({ type: 'runFailed', runId: r.runId, message: 'load a model first', cancelled: false })
  const p = pipelineOf(r)
  if (E.isLeft(p)) return post({ type: 'runFailed', runId: r.runId, message: p.left, cancelled: false })
  try {
    await loaded.run(p.right, r, controller.signal)
  } catch (e) {
    post({ type: 'runFailed', runId: r.runId, message: thrown(e), cancelled: controller.signal.aborted })
  } finally {
    running.delete(r.runId)
  }
}

scope.addEventListener('message', (e) => {
  const m = e.data
  switch (m.type) {
    case 'hello':
      return post({ type: 'hello', ortThreads: Number(ort.env.wasm.numThreads ?? 1) })
    case 'load':
      return enqueue(() => load(m.requestId, m.files))
    case 'predict':
      return enqueue(() => predict(m.requestId, m.input))
    case 'run': {
      const controller = new AbortController()
      running.set(m.runId, controller)
      return enqueue(() => run(m, controller))
    }
    case 'cancel':
      return running.get(m.runId)?.abort()
  }
})
