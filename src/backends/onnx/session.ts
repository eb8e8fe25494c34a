/**
 * The session layer over onnxruntime-node: one decoded graph, and one cached InferenceSession per
 * distinct (outputs, captures, injected tensors, seeds, wrt) combination, each built from an edited
 * copy of the graph (cutAt → backward graph → outputs → prune). Feeds are checked (missing inputs,
 * dtype, rank, static dims) before running; ORT failures come back as BackendFailure values.
 *
 * @category backends
 * @since 0.1.0
 */
import { readFile } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import ort from 'onnxruntime-node'
import { backendFailure, err, type AttributionError } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'
import { buildBackward } from './gradients/builder.js'
import type { GradRule } from './gradients/rule.js'
import { ruleKey } from './gradients/rule.js'
import { ALL_GRAD_RULES } from './gradients/rules/index.js'
import { cutAt, prune, setOutputs } from './graph/edit.js'
import { fromProto, opsetOf, toProto, type Graph } from './graph/ir.js'
import { decodeModel, encodeModel } from './graph/proto.js'
import { dtypeOfElem, signatureOf, type ModelSignature } from './graph/signature.js'
import { upgradeOpset } from './graph/upgradeOpset.js'

export interface OnnxSessionOptions {
  /** Passed through to `InferenceSession.create` (e.g. `['cpu']`, `['cuda']`). */
  readonly executionProviders?: readonly string[]
  readonly intraOpNumThreads?: number
  readonly interOpNumThreads?: number
  readonly graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all'
  /**
   * Gradient rules for op types clarus does not cover (or replacements: a rule here takes the
   * place of the built-in one for its op type). Each must emit standard ONNX ops only.
   */
  readonly extraGradRules?: readonly GradRule[]
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
}

export interface VjpOutput {
  /** Graph outputs and captured tensors. */
  readonly outputs: Record<string, HostTensor>
  /** wrt tensor → d(Σ ⟨seed, cotangent⟩)/d(wrt). */
  readonly grads: Record<string, HostTensor>
}

export interface OnnxRuntime {
  readonly graph: Graph
  readonly signature: ModelSignature
  forward(feeds: Readonly<Record<string, HostTensor>>, opts?: ForwardOptions): Promise<E.Either<AttributionError, Record<string, HostTensor>>>
  vjp(feeds: Readonly<Record<string, HostTensor>>, opts: VjpOptions): Promise<E.Either<AttributionError, VjpOutput>>
  /** Releases every cached session. */
  dispose(): Promise<void>
}

interface Entry {
  readonly session: ort.InferenceSession
  readonly graph: Graph
  /** Graph output name → key in the result (grad outputs map back to wrt names). */
  readonly seedInputs: Readonly<Record<string, string>>
  readonly gradOutputs: Readonly<Record<string, string>>
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const toOrt = (t: HostTensor): ort.Tensor => new ort.Tensor(t.dtype, t.data, [...t.shape])

const fromOrt = (name: string, t: ort.Tensor): E.Either<AttributionError, HostTensor> => {
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

const sessionOptions = (o: OnnxSessionOptions): ort.InferenceSession.SessionOptions => ({
  ...(o.executionProviders !== undefined ? { executionProviders: [...o.executionProviders] as ort.InferenceSession.ExecutionProviderConfig[] } : {}),
  ...(o.intraOpNumThreads !== undefined ? { intraOpNumThreads: o.intraOpNumThreads } : {}),
  ...(o.interOpNumThreads !== undefined ? { interOpNumThreads: o.interOpNumThreads } : {}),
  ...(o.graphOptimizationLevel !== undefined ? { graphOptimizationLevel: o.graphOptimizationLevel } : {}),
})

/** Checks and assembles the feeds a graph needs; surplus feeds are dropped. */
const feedsFor = (g: Graph, feeds: Readonly<Record<string, HostTensor>>): E.Either<AttributionError, Record<string, ort.Tensor>> => {
  const out: Record<string, ort.Tensor> = {}
  const missing: string[] = []
  for (const v of g.inputs) {
    const t = feeds[v.name]
    if (t === undefined) {
      if (!g.initializers.has(v.name)) missing.push(v.name)
      continue
    }
    const want = dtypeOfElem(v.elemType)
    if (want !== null && want !== t.dtype) {
      return E.left(err('DTypeMismatch', `input '${v.name}' must be ${want}, got ${t.dtype}`, ['inputs', v.name]))
    }
    if (v.shape !== null) {
      const bad = v.shape.length !== t.shape.length || v.shape.some((d, i) => typeof d === 'number' && d !== t.shape[i])
      if (bad) {
        return E.left(err('ShapeMismatch', `input '${v.name}' must have shape [${v.shape.map((d) => d ?? '?').join(', ')}], got [${t.shape.join(', ')}]`, ['inputs', v.name]))
      }
    }
    out[v.name] = toOrt(t)
  }
  if (missing.length > 0) {
    return E.left(err('MissingInput', `missing input(s) ${missing.map((m) => `'${m}'`).join(', ')}; feed every graph input the requested outputs depend on`, ['inputs', ...missing]))
  }
  return E.right(out)
}

const sortedKeys = (r: Readonly<Record<string, unknown>> | undefined): string[] => Object.keys(r ?? {}).sort()

/** Loads a model (bytes or a file path) and returns its session layer. */
export const createOnnxRuntime = async (model: Uint8Array | string, options: OnnxSessionOptions = {}): Promise<E.Either<AttributionError, OnnxRuntime>> => {
  let bytes: Uint8Array
  try {
    bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model
  } catch (e) {
    return E.left(err('BadModel', `cannot read the ONNX model file: ${message(e)}`, ['model']))
  }
  const decoded = decodeModel(bytes)
  if (E.isLeft(decoded)) return decoded
  const graphE = fromProto(decoded.right)
  if (E.isLeft(graphE)) return graphE
  const graph = graphE.right
  const signature = signatureOf(graph)
  const so = sessionOptions(options)
  const extra = options.extraGradRules ?? []
  const overridden = new Set(extra.map((r) => ruleKey(r.domain, r.opType)))
  const rules = [...ALL_GRAD_RULES.filter((r) => !overridden.has(ruleKey(r.domain, r.opType))), ...extra]
  const cache = new Map<string, Promise<E.Either<AttributionError, Entry>>>()
  // Backward graphs need opset >= 13 forms; older models are upgraded once (forward sessions keep the original).
  let gradGraph: E.Either<AttributionError, Graph> | undefined
  const gradBase = (): E.Either<AttributionError, Graph> => (gradGraph ??= opsetOf(graph) < 13 ? upgradeOpset(graph, 13) : E.right(graph))

  const open = (key: string, make: () => E.Either<AttributionError, Omit<Entry, 'session'>>): Promise<E.Either<AttributionError, Entry>> => {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const p = (async (): Promise<E.Either<AttributionError, Entry>> => {
      const made = make()
      if (E.isLeft(made)) return made
      try {
        const session = await ort.InferenceSession.create(encodeModel(toProto(made.right.graph)), so)
        return E.right({ ...made.right, session })
      } catch (e) {
        return E.left(backendFailure(`onnxruntime could not create a session: ${message(e)}`, e, ['session']))
      }
    })()
    cache.set(key, p)
    void p.then((r) => { if (E.isLeft(r)) cache.delete(key) })
    return p
  }

  const run = async (entry: Entry, feeds: Record<string, ort.Tensor>): Promise<E.Either<AttributionError, Record<string, HostTensor>>> => {
    let res: ort.InferenceSession.ReturnType
    try {
      res = await entry.session.run(feeds)
    } catch (e) {
      return E.left(backendFailure(`onnxruntime failed while running the model: ${message(e)}`, e, ['session']))
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
    const entry = await open(key, () => {
      const cut = cutAt(graph, injected)
      if (E.isLeft(cut)) return cut
      const g = setOutputs(cut.right, outputs)
      if (E.isLeft(g)) return g
      return E.right({ graph: prune(g.right), seedInputs: {}, gradOutputs: {} })
    })
    if (E.isLeft(entry)) return entry
    const f = feedsFor(entry.right.graph, withInject(feeds, opts.inject))
    if (E.isLeft(f)) return f
    return run(entry.right, f.right)
  }

  const vjp: OnnxRuntime['vjp'] = async (feeds, opts) => {
    const seedNames = sortedKeys(opts.seeds)
    const injected = sortedKeys(opts.inject)
    const capture = [...new Set(opts.capture ?? [])]
    const wrt = [...new Set(opts.wrt)]
    const key = JSON.stringify({ k: 'vjp', seedNames, injected, capture, wrt })
    const entry = await open(key, () => {
      const base = gradBase()
      if (E.isLeft(base)) return base
      const cut = cutAt(base.right, injected)
      if (E.isLeft(cut)) return cut
      const bw = buildBackward(cut.right, { seeds: seedNames, wrt }, rules)
      if (E.isLeft(bw)) return bw
      const forwardOuts = graph.outputs.map((o) => o.name).filter((n) => !injected.includes(n))
      const g = setOutputs(bw.right.graph, [...forwardOuts, ...capture, ...Object.values(bw.right.gradOutputs)])
      if (E.isLeft(g)) return g
      return E.right({ graph: prune(g.right), seedInputs: bw.right.seedInputs, gradOutputs: bw.right.gradOutputs })
    })
    if (E.isLeft(entry)) return entry
    const e = entry.right
    const all: Record<string, HostTensor> = { ...withInject(feeds, opts.inject) }
    for (const s of seedNames) {
      const name = e.seedInputs[s]
      const t = opts.seeds[s]
      if (name !== undefined && t !== undefined) all[name] = t
    }
    const f = feedsFor(e.graph, all)
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

  const dispose = async (): Promise<void> => {
    const entries = [...cache.values()]
    cache.clear()
    for (const p of entries) {
      const r = await p
      if (E.isRight(r)) await r.right.session.release()
    }
  }

  return E.right({ graph, signature, forward, vjp, dispose })
}
