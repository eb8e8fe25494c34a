/**
 * The session layer over an injected ONNX Runtime module: one decoded graph, and one InferenceSession
 * per distinct (outputs, captures, injected tensors, seeds, wrt, rule set, reference layout) combination, each built from an
 * edited copy of the graph (cutAt → backward graph → outputs → prune). Sessions live in a bounded
 * LRU cache (`sessionCacheBytes`, `maxCachedSessions`, see `sessionCost.ts` for the estimate) and are
 * released when evicted or disposed, never while a call is running on them. Feeds are checked
 * (missing inputs, dtype, rank, static dims) before running; ORT failures come back as
 * BackendFailure values.
 *
 * No runtime and no Node module is imported here: the ORT module is passed in (onnxruntime-node is
 * loaded on demand from `node.ts` when none is), as is file reading.
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, PositiveInt, PositiveNumber } from '../../core/codecs.js'
import { backendFailure, err, type AttributionError } from '../../core/errors.js'
import { ruleSetKey, type RuleSet } from '../../core/ruleSet.js'
import type { HostTensor } from '../../core/tensor.js'
import { buildBackward } from './gradients/builder.js'
import type { GradRule } from './gradients/rule.js'
import { ruleKey } from './gradients/rule.js'
import { ALL_GRAD_RULES } from './gradients/rules/index.js'
import { cutAt, prune, setOutputs, tensorNames } from './graph/edit.js'
import { fromProto, opsetOf, toProto, type Graph } from './graph/ir.js'
import { decodeModel, encodeModel } from './graph/proto.js'
import { dtypeOfElem, signatureOf, type ModelSignature } from './graph/signature.js'
import { upgradeOpset } from './graph/upgradeOpset.js'
import { NEXT_TOKEN_LOGP, withNextTokenHead } from './graph/nextToken.js'
import type { OrtModule, OrtSession, OrtSessionOptions, OrtTensor } from './ort.js'
import { sessionCache } from './sessionCache.js'
import { checkDevice, isWebGpuStartFailure, providersOf, resolveDevice, webGpuUnavailable, type OnnxDevice } from './device.js'
import { sessionCost } from './sessionCost.js'
import { modelBytes, type ModelSource } from './source.js'

/** Default bound on the summed cost estimate of the cached sessions of one model: 1 GiB. */
export const DEFAULT_SESSION_CACHE_BYTES = 1024 ** 3
/** Default bound on the number of cached sessions of one model. */
export const DEFAULT_MAX_CACHED_SESSIONS = 32

/** The cache bounds, checked when a model is loaded. */
export const SessionCacheOptionsCodec = t.partial({
  /** Bound on the summed cost estimate (bytes) of the sessions one model keeps (default 1 GiB). */
  sessionCacheBytes: PositiveNumber,
  /** Bound on how many sessions one model keeps (default 32). */
  maxCachedSessions: PositiveInt,
})

export interface OnnxSessionOptions {
  /**
   * Passed through to `InferenceSession.create` (e.g. `['cpu']`, `['cuda']`). For the GPU without
   * CUDA use `fromOnnx(model, { device: 'webgpu' })`, which also picks the gradient forms WebGPU runs;
   * `['webgpu']` here means the same, and a `device` that disagrees with these is an error.
   */
  readonly executionProviders?: readonly string[]
  readonly intraOpNumThreads?: number
  readonly interOpNumThreads?: number
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all'
  /**
   * ONNX Runtime's profiler: each session writes a Chrome-trace JSON (`<profileFilePrefix>_<date>.json`
   * in the working directory) when it is released, e.g. by `model.dispose()`; its `Node` events give
   * every node's kernel time, so forward and backward (`clarus_grad/…`) nodes can be told apart.
   */
  readonly enableProfiling?: boolean
  readonly profileFilePrefix?: string
  /**
   * ONNX Runtime's log level for the sessions (0 verbose … 4 fatal; default 2, warnings, and 3 on
   * device 'webgpu', where ORT warns at every session that shape computations stay on the CPU). At 0
   * each session logs, when created, which execution provider every node was placed on.
   */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4
  /**
   * Gradient rules for op types clarus does not cover (or replacements: a rule here takes the
   * place of the built-in one for its op type). Each must emit standard ONNX ops only.
   */
  readonly extraGradRules?: readonly GradRule[]
  /**
   * Bound, in estimated bytes, on the sessions one model keeps cached (default 1 GiB). Each
   * combination of captured, injected and differentiated tensors needs its own session; the least
   * recently used ones are released past this bound.
   */
  readonly sessionCacheBytes?: number
  /** Bound on the number of sessions one model keeps cached (default 32). */
  readonly maxCachedSessions?: number
}

/** The session layer's options: the session options and the device (see `device.ts`). */
export interface RuntimeOptions extends OnnxSessionOptions {
  /** Where every session of the model runs (default 'cpu', or 'webgpu' when the providers name it). */
  readonly device?: OnnxDevice
}

export interface ForwardOptions {
  /** Intermediate tensors to return besides the outputs. */
  readonly capture?: readonly string[]
  /** Values replacing intermediate tensors (the graph is cut there). */
  readonly inject?: Readonly<Record<string, HostTensor>>
  /** Outputs to compute (default: the graph outputs). */
  readonly outputs?: readonly string[]
}

export interface VjpOptions {
  /** Cotangent per seeded tensor (same shape as that tensor). */
  readonly seeds: Readonly<Record<string, HostTensor>>
  readonly wrt: readonly string[]
  readonly inject?: Readonly<Record<string, HostTensor>>
  readonly capture?: readonly string[]
  /** Modified-backprop rules replacing the ordinary gradients (default: none); see `gradients/builder.ts`. */
  readonly ruleSet?: RuleSet
  /** `'halves'`: rows n + i are the references of rows i (needed by DeepLift's rescale). */
  readonly referenceRows?: 'halves'
}

export interface VjpOutput {
  /** Graph outputs and captured tensors. */
  readonly outputs: Record<string, HostTensor>
  /** wrt tensor → d(Σ ⟨seed, cotangent⟩)/d(wrt). */
  readonly grads: Record<string, HostTensor>
}

export interface OnnxRuntime {
  readonly graph: Graph
  /** The device every session of this model runs on. */
  readonly device: OnnxDevice
  readonly signature: ModelSignature
  forward(feeds: Readonly<Record<string, HostTensor>>, opts?: ForwardOptions): Promise<E.Either<AttributionError, Record<string, HostTensor>>>
  vjp(feeds: Readonly<Record<string, HostTensor>>, opts: VjpOptions): Promise<E.Either<AttributionError, VjpOutput>>
  /** A causal LM's next-token log-probabilities [N, L] (see graph/nextToken.ts), in a session of their own. */
  nextTokenLogProbs(feeds: Readonly<Record<string, HostTensor>>, opts: { readonly logits: string; readonly ids: string }): Promise<E.Either<AttributionError, HostTensor>>
  /**
   * Releases every cached session (those in use by a running call once that call ends) and resolves
   * when all are released. Later calls are BadModel errors. Calling it again does nothing more.
   */
  dispose(): Promise<void>
  /** The cached sessions' keys, least recently used first, and their summed cost estimate. */
  cacheStats(): { readonly keys: readonly string[]; readonly bytes: number }
}

interface Entry {
  readonly session: OrtSession
  readonly graph: Graph
  /** Graph output name → key in the result (grad outputs map back to wrt names). */
  readonly seedInputs: Readonly<Record<string, string>>
  readonly gradOutputs: Readonly<Record<string, string>>
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const toOrt = (ort: OrtModule, h: HostTensor): OrtTensor => {
  switch (h.dtype) {
    case 'float32': return new ort.Tensor('float32', h.data as Float32Array, h.shape)
    case 'int32': return new ort.Tensor('int32', h.data as Int32Array, h.shape)
    case 'int64': return new ort.Tensor('int64', h.data as BigInt64Array, h.shape)
    case 'bool': return new ort.Tensor('bool', h.data as Uint8Array, h.shape)
  }
}

const fromOrt = (name: string, t: OrtTensor): E.Either<AttributionError, HostTensor> => {
  const shape = [...t.dims]
  switch (t.type) {
    case 'float32': return E.right({ dtype: 'float32', shape, data: Float32Array.from(t.data as Float32Array) })
    case 'int32': return E.right({ dtype: 'int32', shape, data: Int32Array.from(t.data as Int32Array) })
    case 'int64': return E.right({ dtype: 'int64', shape, data: BigInt64Array.from(t.data as BigInt64Array) })
    case 'bool': return E.right({ dtype: 'bool', shape, data: Uint8Array.from(t.data as Uint8Array) })
    case 'float64': return E.right({ dtype: 'float32', shape, data: Float32Array.from(t.data as Float64Array) })
    default: return E.left(err('Unsupported', `output '${name}' has element type ${t.type}, which clarus cannot return; expose a float32/int32/int64/bool tensor instead`, ['outputs', name]))
  }
}

const sessionOptions = (o: OnnxSessionOptions, device: OnnxDevice): OrtSessionOptions => ({
  // the CPU default leaves the providers to the runtime, as before devices existed
  ...(o.executionProviders !== undefined ? { executionProviders: [...o.executionProviders] } : device !== 'cpu' ? { executionProviders: [...providersOf(device)] } : {}),
  ...(o.intraOpNumThreads !== undefined ? { intraOpNumThreads: o.intraOpNumThreads } : {}),
  ...(o.interOpNumThreads !== undefined ? { interOpNumThreads: o.interOpNumThreads } : {}),
  ...(o.graphOptimizationLevel !== undefined ? { graphOptimizationLevel: o.graphOptimizationLevel } : {}),
  ...(o.enableProfiling !== undefined ? { enableProfiling: o.enableProfiling } : {}),
  ...(o.profileFilePrefix !== undefined ? { profileFilePrefix: o.profileFilePrefix } : {}),
  // on WebGPU, ORT warns at every session that it keeps shape computations on the CPU (by design): errors only, unless asked
  ...(o.logSeverityLevel !== undefined ? { logSeverityLevel: o.logSeverityLevel } : device === 'webgpu' ? { logSeverityLevel: 3 as const } : {}),
})

/**
 * Checks and assembles the feeds a graph needs; surplus feeds are dropped. `seedOf` maps the backward
 * graph's cotangent inputs to the user's tensor they seed, so that messages name that tensor.
 */
const feedsFor = (ort: OrtModule, g: Graph, feeds: Readonly<Record<string, HostTensor>>, seedOf: Readonly<Record<string, string>> = {}): E.Either<AttributionError, Record<string, OrtTensor>> => {
  const out: Record<string, OrtTensor> = {}
  const missing: string[] = []
  for (const v of g.inputs) {
    const t = feeds[v.name]
    if (t === undefined) {
      if (!g.initializers.has(v.name)) missing.push(v.name)
      continue
    }
    const seeded = seedOf[v.name]
    const what = seeded === undefined ? `input '${v.name}'` : `the cotangent (seed) of '${seeded}'`
    const path = seeded === undefined ? ['inputs', v.name] : ['seeds', seeded]
    const want = dtypeOfElem(v.elemType)
    if (want !== null && want !== t.dtype) {
      return E.left(err('DTypeMismatch', `${what} must be ${want}, got ${t.dtype}`, path))
    }
    if (v.shape !== null) {
      const bad = v.shape.length !== t.shape.length || v.shape.some((d, i) => typeof d === 'number' && d !== t.shape[i])
      if (bad) {
        const hint = seeded === undefined ? '' : ` (the shape of '${seeded}' as the model computes it)`
        return E.left(err('ShapeMismatch', `${what} must have shape [${v.shape.map((d) => d ?? '?').join(', ')}]${hint}, got [${t.shape.join(', ')}]`, path))
      }
    }
    out[v.name] = toOrt(ort, t)
  }
  if (missing.length > 0) {
    return E.left(err('MissingInput', `missing input(s) ${missing.map((m) => `'${m}'`).join(', ')}; feed every graph input the requested outputs depend on`, ['inputs', ...missing]))
  }
  return E.right(out)
}

const sortedKeys = (r: Readonly<Record<string, unknown>> | undefined): string[] => Object.keys(r ?? {}).sort()

/** The error every call on a disposed model returns. */
export const disposedError = (): AttributionError => err('BadModel', 'this model was disposed; create a new one with fromOnnx', ['model'])

/**
 * Loads a model (see {@link ModelSource}) and returns its session layer. `ort` is the runtime module
 * to run it with (onnxruntime-node, onnxruntime-web, or a wrapper of either); when it is left out,
 * onnxruntime-node (in browser builds, onnxruntime-web) is imported on first use.
 */
export const createOnnxRuntime = async (model: ModelSource, options: RuntimeOptions = {}, ort?: OrtModule): Promise<E.Either<AttributionError, OnnxRuntime>> => {
  const limits = decodeWith(SessionCacheOptionsCodec, { sessionCacheBytes: options.sessionCacheBytes, maxCachedSessions: options.maxCachedSessions }, ['session'])
  if (E.isLeft(limits)) return limits
  const deviceE = resolveDevice(options.device, options.executionProviders)
  if (E.isLeft(deviceE)) return deviceE
  const device = deviceE.right
  const bytesE = await modelBytes(model)
  if (E.isLeft(bytesE)) return bytesE
  const bytes = bytesE.right
  let rt: OrtModule
  if (ort !== undefined) rt = ort
  else {
    const runtime = await import('./runtime.js')
    try {
      rt = await runtime.loadDefaultRuntime(device)
    } catch (e) {
      return E.left(backendFailure(`cannot load ${runtime.DEFAULT_RUNTIME} (pass a runtime module as fromOnnx(model, { ort })): ${message(e)}`, e, ['ort']))
    }
  }
  // no GPU adapter is an error now, not at the first call
  const usable = await checkDevice(rt, device)
  if (E.isLeft(usable)) return usable
  const decoded = decodeModel(bytes)
  if (E.isLeft(decoded)) return decoded
  const graphE = fromProto(decoded.right)
  if (E.isLeft(graphE)) return graphE
  const graph = graphE.right
  const signature = signatureOf(graph)
  const so = sessionOptions(options, device)
  const extra = options.extraGradRules ?? []
  const overridden = new Set(extra.map((r) => ruleKey(r.domain, r.opType)))
  const rules = [...ALL_GRAD_RULES.filter((r) => !overridden.has(ruleKey(r.domain, r.opType))), ...extra]
  const cache = sessionCache<Entry>(
    { maxBytes: limits.right.sessionCacheBytes ?? DEFAULT_SESSION_CACHE_BYTES, maxEntries: limits.right.maxCachedSessions ?? DEFAULT_MAX_CACHED_SESSIONS },
    (e) => e.session.release(),
  )
  let disposed: Promise<void> | undefined
  // Backward graphs need opset >= 13 forms; older models are upgraded once (forward sessions keep the original).
  let gradGraph: E.Either<AttributionError, Graph> | undefined
  const gradBase = (): E.Either<AttributionError, Graph> => (gradGraph ??= opsetOf(graph) < 13 ? upgradeOpset(graph, 13) : E.right(graph))

  const create = async (made: Omit<Entry, 'session'>): Promise<E.Either<AttributionError, Entry>> => {
    try {
      const session = await rt.InferenceSession.create(encodeModel(toProto(made.graph)), so)
      return E.right({ ...made, session })
    } catch (e) {
      if (device === 'webgpu' && isWebGpuStartFailure(e)) return E.left(webGpuUnavailable(e))
      return E.left(backendFailure(`onnxruntime could not create a session: ${message(e)}`, e, ['session']))
    }
  }

  /** Runs `use` on the session for `key` (made by `make` if not cached), holding it for the whole call. */
  const withSession = async <A>(
    key: string,
    make: () => E.Either<AttributionError, Omit<Entry, 'session'>>,
    use: (e: Entry) => Promise<E.Either<AttributionError, A>>,
  ): Promise<E.Either<AttributionError, A>> => {
    if (disposed !== undefined) return E.left(disposedError())
    const lease = cache.acquire(key, () => {
      const made = make()
      return E.isLeft(made) ? { cost: 0, value: Promise.resolve(made) } : { cost: sessionCost(made.right.graph), value: create(made.right) }
    })
    try {
      const entry = await lease.value
      return E.isLeft(entry) ? entry : await use(entry.right)
    } finally {
      lease.end()
    }
  }

  const run = async (entry: Entry, feeds: Record<string, OrtTensor>): Promise<E.Either<AttributionError, Record<string, HostTensor>>> => {
    let res: Readonly<Record<string, OrtTensor>>
    try {
      res = await entry.session.run(feeds)
    } catch (e) {
      const hint = device === 'webgpu' ? ' (on device \'webgpu\'; device: \'cpu\' runs every op ONNX Runtime has, so try it to tell a WebGPU kernel gap from a model problem)' : ''
      return E.left(backendFailure(`onnxruntime failed while running the model${hint}: ${message(e)}`, e, ['session']))
    }
    const out: Record<string, HostTensor> = {}
    for (const [k, v] of Object.entries(res)) {
      const h = fromOrt(k, v)
      if (E.isLeft(h)) return h
      out[k] = h.right
    }
    return E.right(out)
  }

  const withInject = (feeds: Readonly<Record<string, HostTensor>>, inject: Readonly<Record<string, HostTensor>> | undefined): Readonly<Record<string, HostTensor>> =>
    inject === undefined ? feeds : { ...feeds, ...inject }

  const forward: OnnxRuntime['forward'] = async (feeds, opts = {}) => {
    const outputs = [...new Set([...(opts.outputs ?? graph.outputs.map((o) => o.name)), ...(opts.capture ?? [])])]
    const injected = sortedKeys(opts.inject)
    const key = JSON.stringify({ k: 'forward', outputs, injected })
    const make = (): E.Either<AttributionError, Omit<Entry, 'session'>> => {
      const cut = cutAt(graph, injected)
      if (E.isLeft(cut)) return cut
      const g = setOutputs(cut.right, outputs)
      if (E.isLeft(g)) return g
      return E.right({ graph: prune(g.right), seedInputs: {}, gradOutputs: {} })
    }
    return withSession(key, make, async (entry) => {
      const f = feedsFor(rt, entry.graph, withInject(feeds, opts.inject))
      return E.isLeft(f) ? f : run(entry, f.right)
    })
  }

  const nextTokenLogProbs: OnnxRuntime['nextTokenLogProbs'] = async (feeds, opts) => {
    const key = JSON.stringify({ k: 'nextToken', logits: opts.logits, ids: opts.ids })
    const make = (): E.Either<AttributionError, Omit<Entry, 'session'>> => {
      const head = withNextTokenHead(graph, opts.logits, opts.ids, device)
      if (E.isLeft(head)) return head
      const g = setOutputs(head.right, [NEXT_TOKEN_LOGP])
      return E.isLeft(g) ? g : E.right({ graph: prune(g.right), seedInputs: {}, gradOutputs: {} })
    }
    return withSession(key, make, async (entry) => {
      const f = feedsFor(rt, entry.graph, feeds)
      if (E.isLeft(f)) return f
      const r = await run(entry, f.right)
      if (E.isLeft(r)) return r
      const out = r.right[NEXT_TOKEN_LOGP]
      return out === undefined ? E.left(err('UnknownTensor', 'the scoring head returned nothing')) : E.right(out)
    })
  }

  const vjp: OnnxRuntime['vjp'] = async (feeds, opts) => {
    const seedNames = sortedKeys(opts.seeds)
    const injected = sortedKeys(opts.inject)
    const capture = [...new Set(opts.capture ?? [])]
    const wrt = [...new Set(opts.wrt)]
    const ruleSet = opts.ruleSet === undefined ? null : ruleSetKey(opts.ruleSet)
    // the reference layout changes the backward graph only under a rule set
    const referenceRows = opts.ruleSet === undefined ? null : opts.referenceRows ?? null
    const key = JSON.stringify({ k: 'vjp', seedNames, injected, capture, wrt, ruleSet, referenceRows })
    const make = (): E.Either<AttributionError, Omit<Entry, 'session'>> => {
      const base = gradBase()
      if (E.isLeft(base)) return base
      const cut = cutAt(base.right, injected)
      if (E.isLeft(cut)) return cut
      // an injected tensor whose every way to the seeds runs through another injected tensor is
      // cut off by that injection (several layers replaced at once, LayerIntegratedGradients)
      const kept = tensorNames(cut.right)
      const cutOff = wrt.filter((w) => injected.includes(w) && !kept.has(w))
      if (cutOff.length > 0) {
        return E.left(err('NotReachable', `${cutOff.map((n) => `'${n}'`).join(', ')} reach${cutOff.length === 1 ? 'es' : ''} the seeded tensor only through other replaced (injected) tensors (${injected.filter((n) => !cutOff.includes(n)).map((n) => `'${n}'`).join(', ')}), so replacing them all at once leaves no gradient there; replace and differentiate layers that do not feed each other`, ['wrt', ...cutOff]))
      }
      const bw = buildBackward(cut.right, {
        seeds: seedNames,
        wrt,
        ...(opts.ruleSet !== undefined ? { ruleSet: opts.ruleSet } : {}),
        ...(opts.referenceRows !== undefined ? { referenceRows: opts.referenceRows } : {}),
        device,
      }, rules)
      if (E.isLeft(bw)) return bw
      const forwardOuts = graph.outputs.map((o) => o.name).filter((n) => !injected.includes(n))
      const g = setOutputs(bw.right.graph, [...forwardOuts, ...capture, ...Object.values(bw.right.gradOutputs)])
      if (E.isLeft(g)) return g
      return E.right({ graph: prune(g.right), seedInputs: bw.right.seedInputs, gradOutputs: bw.right.gradOutputs })
    }
    return withSession(key, make, (e) => runVjp(e, feeds, opts, seedNames))
  }

  const runVjp = async (e: Entry, feeds: Readonly<Record<string, HostTensor>>, opts: VjpOptions, seedNames: readonly string[]): Promise<E.Either<AttributionError, VjpOutput>> => {
    const all: Record<string, HostTensor> = { ...withInject(feeds, opts.inject) }
    for (const s of seedNames) {
      const name = e.seedInputs[s]
      const t = opts.seeds[s]
      if (name !== undefined && t !== undefined) all[name] = t
    }
    const f = feedsFor(rt, e.graph, all, Object.fromEntries(Object.entries(e.seedInputs).map(([s, n]) => [n, s])))
    if (E.isLeft(f)) return f
    const res = await run(e, f.right)
    if (E.isLeft(res)) return res
    const outputs: Record<string, HostTensor> = {}
    const grads: Record<string, HostTensor> = {}
    const byGradName = new Map(Object.entries(e.gradOutputs).map(([w, n]) => [n, w]))
    for (const [k, v] of Object.entries(res.right)) {
      const w = byGradName.get(k)
      if (w !== undefined) grads[w] = v
      else outputs[k] = v
    }
    return E.right({ outputs, grads })
  }

  const dispose = (): Promise<void> => (disposed ??= cache.close())

  return E.right({ graph, device, signature, forward, vjp, nextTokenLogProbs, dispose, cacheStats: () => cache.stats() })
}
