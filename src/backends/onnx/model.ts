/**
 * `fromOnnx`: an ONNX model as a clarus {@link Model} over host tensors. Forward passes run in the
 * ONNX Runtime module given as `ort` (onnxruntime-node, loaded on first use, when none is); gradients come from the backward graph clarus builds in standard ONNX ops and
 * runs in the same session as the forward pass (see `gradients/builder.ts`). The seed is a graph
 * input, so one cached session serves every target. `vjp` seeds the explained output, any graph
 * output (`of: { kind: 'output', index }`, the graph's output order) or a node output (`of: { kind:
 * 'tensor', name }`, whose shape costs one forward pass), and a `wrt` list becomes one backward
 * graph with one gradient output per distinct tensor. A rule set (modified backprop) and the
 * reference layout (`referenceRows`) are part of the session key; the backward builder gives each
 * node its rule and reports, before running, every node the rule set leaves without one.
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { pipe } from 'fp-ts/lib/function.js'
import { isWrtList, type Model, type ModelSignature, type Selector, type TensorInfo, type VjpOf, type VjpOptions, type VjpResult } from '../../core/backend.js'
import { err, type AttributionError } from '../../core/errors.js'
import { nonFiniteIn } from '../../core/finite.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import { hostBackend } from '../host/hostBackend.js'
import { closestNames } from '../../core/names.js'
import { activationsOf, constantWeightsOf } from './graph/activations.js'
import { dtypeOfElem } from './graph/signature.js'
import { inferTypes } from './graph/shapeInference.js'
import { parametersOf } from './graph/parameters.js'
import type { OrtModule } from './ort.js'
import { DEVICE_MEMORY_BUDGET, type OnnxDevice } from './device.js'
import { createOnnxRuntime, type OnnxRuntime, type OnnxSessionOptions } from './session.js'
import type { ModelSource } from './source.js'

export interface FromOnnxOptions {
  /**
   * Where the model runs: `'cpu'` (default) or `'webgpu'` (ONNX Runtime's bundled WebGPU provider,
   * over Vulkan on Linux: no CUDA needed). Every session clarus builds for the model (forward,
   * backward, layer and injection variants, next-token heads) runs there. Without a usable GPU
   * adapter `fromOnnx` returns an `Unsupported` error at `['device']` saying what to install; it
   * never falls back to the CPU silently. On `'webgpu'` the default chunk budget is 2 GiB
   * (`DEVICE_MEMORY_BUDGET`) instead of 512 MiB.
   */
  readonly device?: OnnxDevice
  /**
   * The ONNX Runtime module to run the model with: `onnxruntime-node`, `onnxruntime-web`, or any
   * object with the same `InferenceSession.create`, `run`, `release` and `Tensor` (see {@link OrtModule}).
   * Default: onnxruntime-node, imported on first use.
   */
  readonly ort?: OrtModule
  /**
   * Passed to `InferenceSession.create` (threads, graph optimisation, execution providers), plus
   * the session cache bounds (`sessionCacheBytes`, default 1 GiB; `maxCachedSessions`, default 32).
   */
  readonly session?: OnnxSessionOptions
  /**
   * The tensor to explain (default: the graph's first output): a graph output, or any activation
   * of the graph (one of `signature.layers`, e.g. the logits a final Softmax reads), which the
   * sessions then return as an extra output. An unknown name is an `UnknownTensor` error listing
   * the closest names.
   */
  readonly output?: string
  /**
   * Graph input names in the positional order clarus passes tensors: attributed inputs first, then
   * additional forward arguments (default: the graph's input order).
   */
  readonly inputs?: readonly string[]
  /** Working memory of one example row in a forward+backward pass, if you know it better than the estimate. */
  readonly bytesPerRow?: number
}

const sumPerRow = (x: HostTensor): HostTensor => {
  const rank = x.shape.length
  return rank <= 1 ? x : hostBackend.sum(x, Array.from({ length: rank - 1 }, (_, i) => i + 1))
}

/**
 * Loads an ONNX model from bytes, a `Blob`/`File`, a URL or (in Node) a file path (see
 * {@link ModelSource}). `dispose()` releases the model's native sessions; every later call on the
 * model is a BadModel error.
 */
export const fromOnnx = async (source: ModelSource, options: FromOnnxOptions = {}): Promise<E.Either<AttributionError, Model<HostTensor>>> => {
  const rt = await createOnnxRuntime(source, { ...options.session, ...(options.device !== undefined ? { device: options.device } : {}) }, options.ort)
  if (E.isLeft(rt)) return rt
  return modelOf(rt.right, options)
}

const modelOf = (rt: OnnxRuntime, options: FromOnnxOptions): E.Either<AttributionError, Model<HostTensor>> => {
  const sig = rt.signature
  const activations = activationsOf(rt.graph)
  const layers = activations.map((l) => l.name)
  const outputName = options.output ?? sig.outputs[0]?.name
  // the explained output: a graph output, or any activation (logits before a final softmax, an internal tensor)
  const graphOutput = sig.outputs.find((o) => o.name === outputName)
  const internal = graphOutput === undefined && outputName !== undefined && layers.includes(outputName)
  if (outputName === undefined || (graphOutput === undefined && !internal)) {
    const candidates = [...sig.outputs.map((o) => o.name), ...layers.filter((l) => !sig.outputs.some((o) => o.name === l))]
    return E.left(err('UnknownTensor', sig.outputs.length === 0 && options.output === undefined
      ? 'this model declares no outputs, so there is nothing to explain: check the file is a complete ONNX model, or name the tensor to explain as fromOnnx(file, { output })'
      : `output ${JSON.stringify(options.output)} is neither an output of this model (${sig.outputs.map((o) => JSON.stringify(o.name)).join(', ')}) nor a tensor computed from its inputs; ${closestNames(options.output ?? '', candidates)}`, ['output']))
  }
  const inputOrder = options.inputs ?? sig.inputs.map((i) => i.name)
  const unknown = inputOrder.filter((n) => !sig.inputs.some((i) => i.name === n))
  if (unknown.length > 0) {
    const names = sig.inputs.map((i) => i.name)
    return E.left(err('UnknownTensor', `not inputs of this model: ${unknown.map((u) => `${JSON.stringify(u)} (${closestNames(u, names)})`).join('; ')}`, ['inputs']))
  }
  const inferred = internal ? inferTypes(rt.graph).get(outputName) : undefined
  const out = graphOutput ?? { name: outputName, dtype: dtypeOfElem(inferred?.elemType ?? null), shape: inferred?.shape ?? null }
  const info = (t: { name: string; dtype: TensorInfo['dtype'] | null; shape: readonly (number | string | null)[] | null }): TensorInfo => ({
    name: t.name,
    dtype: t.dtype ?? 'float32',
    shape: t.shape ?? [],
  })
  const signature: ModelSignature = {
    inputs: inputOrder.map((n) => info(sig.inputs.find((i) => i.name === n)!)),
    outputs: [info(out)],
    layers,
    layerInfo: activations,
    // weights in Constant nodes (paddle2onnx) count as parameters too, after the initializers
    parameters: [...parametersOf(rt.graph), ...constantWeightsOf(rt.graph)],
  }

  const feedsOf = (inputs: readonly HostTensor[]): E.Either<AttributionError, Record<string, HostTensor>> => {
    if (inputs.length > inputOrder.length) {
      return E.left(err('ShapeMismatch', `got ${inputs.length} input tensors but the model takes ${inputOrder.length} (${inputOrder.join(', ')})`, ['inputs']))
    }
    return E.right(Object.fromEntries(inputs.map((x, i) => [inputOrder[i]!, x])))
  }

  /**
   * The shape of the seeded tensor for these feeds: static from the signature when an output (or an
   * internal explained output, by shape inference) has every non-batch dim known, otherwise by one
   * forward pass (always, for another internal tensor).
   */
  const seededShape = (name: string, feeds: Record<string, HostTensor>, rows: number, inject?: Readonly<Record<string, HostTensor>>): TE.TaskEither<AttributionError, readonly number[]> => {
    const dims = (name === outputName ? out.shape : sig.outputs.find((o) => o.name === name)?.shape) ?? null
    if (dims !== null && dims.length > 0 && dims.slice(1).every((d) => typeof d === 'number')) return TE.right([rows, ...(dims.slice(1) as number[])])
    return pipe(
      () => rt.forward(feeds, { outputs: [name], ...(inject ? { inject } : {}) }),
      TE.chainEitherK((o) => {
        const y = o[name]
        return y === undefined ? E.left(err('UnknownTensor', `the model did not return ${name}`)) : E.right(y.shape)
      }),
    )
  }

  /** The output's first NaN/Infinity as a NonFinite error (see core/finite.ts), or undefined. */
  const nonFiniteOutput = (output: HostTensor): AttributionError | undefined =>
    nonFiniteIn(output, ['output'], `the model output ${outputName}`, 'check the inputs (and baselines) for extreme values and the model for unstable ops (log, division)')

  /** The tensor `of` seeds (default: the explained output), or why it cannot be seeded. */
  const seededOf = (of: VjpOf | undefined): E.Either<AttributionError, string> => {
    if (of === undefined) return E.right(outputName)
    if (of.kind === 'tensor') {
      return layers.includes(of.name)
        ? E.right(of.name)
        : E.left(err('UnknownTensor', `of: no tensor named ${JSON.stringify(of.name)} among the activations of the graph (signature.layers); ${closestNames(of.name, layers)}`, ['of', 'name']))
    }
    const o = Number.isInteger(of.index) && of.index >= 0 ? sig.outputs[of.index] : undefined
    return o === undefined
      ? E.left(err('UnknownTensor', `of.index ${of.index} is out of range: the graph has ${sig.outputs.length} output(s) (${sig.outputs.map((x) => JSON.stringify(x.name)).join(', ')})`, ['of', 'index']))
      : E.right(o.name)
  }

  /** The graph tensor per gradient asked for: the attributed inputs, one layer, or one per entry. */
  const wrtNames = (wrt: VjpOptions<HostTensor>['wrt'], inputs: readonly HostTensor[]): E.Either<AttributionError, readonly string[]> => {
    if (!isWrtList(wrt)) return E.right(wrt.kind === 'layer' ? [wrt.name] : inputOrder.slice(0, wrt.count ?? inputs.length))
    if (wrt.length === 0) return E.left(err('MissingInput', 'wrt is an empty list: name at least one { kind: \'input\', index } or { kind: \'layer\', name }', ['wrt']))
    const names: string[] = []
    for (const [k, e] of wrt.entries()) {
      const at = ['wrt', String(k)]
      if (e.kind === 'param') {
        if (!signature.parameters?.some((p) => p.name === e.name)) {
          return E.left(err('UnknownTensor', `wrt[${k}]: no parameter named ${JSON.stringify(e.name)}; the model's parameters (float initializers and Constant weights) are listed in signature.parameters; ${closestNames(e.name, (signature.parameters ?? []).map((p) => p.name))}`, at))
        }
        names.push(e.name)
        continue
      }
      if (e.kind === 'layer') {
        if (!layers.includes(e.name)) return E.left(err('UnknownTensor', `wrt[${k}]: no tensor named ${JSON.stringify(e.name)} among the activations of the graph (signature.layers; weights are { kind: 'param' } entries); ${closestNames(e.name, layers)}`, at))
        names.push(e.name)
        continue
      }
      const x = Number.isInteger(e.index) && e.index >= 0 ? inputs[e.index] : undefined
      if (x === undefined) return E.left(err('MissingInput', `wrt[${k}]: there is no input ${e.index}: vjp was given ${inputs.length} input(s), numbered from 0`, at))
      if (x.dtype !== 'float32') return E.left(err('DTypeMismatch', `wrt[${k}]: input ${e.index} has dtype ${x.dtype}: gradients exist only for float32 inputs; differentiate a float layer computed from it (e.g. the embedding output)`, at))
      names.push(inputOrder[e.index]!)
    }
    return E.right(names)
  }

  const vjp = (inputs: readonly HostTensor[], selector: Selector<HostTensor>, opts: VjpOptions<HostTensor>): TE.TaskEither<AttributionError, VjpResult<HostTensor>> => {
    if (selector.kind === 'fn') {
      return TE.left(opts.of?.kind === 'tensor'
        ? err('Unsupported', `a neuron selector function (on ${JSON.stringify(opts.of.name)}) needs a backend that differentiates JS functions (tfjs). On ONNX models give the neuron as data: ` +
          'an index tuple, a tuple with slices ({ start, stop, step }) for the sum of a block, or { mask } for a weighted sum of the layer\'s elements (Σ mask ⊙ layer)', ['neuron'])
        : err('Unsupported', 'function targets need a backend that differentiates JS functions (tfjs). On ONNX models give the target as data: an index, a per-example list, { mask } for a weighted sum of outputs, ' +
          'or a target expression such as { expr: [{ op: \'logSoftmax\' }, { op: \'select\', indices: [3] }] } (softmax, logSoftmax, select, sum, mean, dot, scale); perturbation methods also take a function of the host output', ['target']))
    }
    const ruleSet = opts.ruleSet
    const referenceRows = opts.referenceRows
    const feeds = feedsOf(inputs)
    if (E.isLeft(feeds)) return TE.left(feeds.left)
    const wrt = wrtNames(opts.wrt, inputs)
    if (E.isLeft(wrt)) return TE.left(wrt.left)
    const seeded = seededOf(opts.of)
    if (E.isLeft(seeded)) return TE.left(seeded.left)
    const seedName = seeded.right
    const rows = inputs[0]?.shape[0] ?? 0
    if (referenceRows === 'halves' && rows % 2 !== 0) {
      return TE.left(err('ShapeMismatch', `referenceRows 'halves' needs an even number of rows (n inputs, then their n references); got ${rows}`, ['referenceRows']))
    }
    // an internal seeded tensor is captured too, for its selected value, and so is an internal explained output
    const isGraphOutput = (n: string): boolean => sig.outputs.some((o) => o.name === n)
    const capture = [...new Set([...(opts.capture ?? []), ...[seedName, outputName].filter((n) => !isGraphOutput(n))])]
    return pipe(
      seededShape(seedName, feeds.right, rows, opts.inject),
      TE.chainEitherK((shape) => selector.seed(shape)),
      TE.chain((seed) =>
        pipe(
          () => rt.vjp(feeds.right, {
            seeds: { [seedName]: seed },
            wrt: [...new Set(wrt.right)],
            ...(opts.inject ? { inject: opts.inject } : {}),
            ...(capture.length > 0 ? { capture } : {}),
            ...(ruleSet !== undefined ? { ruleSet } : {}),
            ...(ruleSet !== undefined && referenceRows !== undefined ? { referenceRows } : {}),
          }),
          TE.chainEitherK((r) => {
            const output = r.outputs[outputName]
            if (output === undefined) return E.left(err('UnknownTensor', `the model did not return ${outputName}`))
            const seededValue = r.outputs[seedName]
            if (seededValue === undefined) return E.left(err('UnknownTensor', `the model did not return the seeded tensor ${seedName}`, ['of']))
            const grads: HostTensor[] = []
            for (const w of wrt.right) {
              const g = r.grads[w]
              if (g === undefined) return E.left(err('NotReachable', `no gradient was produced for ${w}`, ['wrt']))
              // host tensors are immutable, so a tensor named twice in wrt may share its gradient
              grads.push(g)
            }
            const captured = Object.fromEntries((opts.capture ?? []).flatMap((c) => (r.outputs[c] ? [[c, r.outputs[c]!]] : [])))
            const value = sumPerRow(hostBackend.mul(seededValue, seed))
            const bad = opts.allowNonFinite === true ? undefined : nonFiniteOutput(output)
            return bad !== undefined ? E.left(bad) : E.right({ output, value, grads, captured })
          }),
        ),
      ),
    )
  }

  const int64Inputs = sig.inputs.filter((i) => i.dtype === 'int64').map((i) => i.name)
  const idsInput = sig.inputs.some((i) => i.name === 'input_ids') ? 'input_ids' : int64Inputs.length === 1 ? int64Inputs[0] : undefined

  const inputBytes = (inputs: readonly HostTensor[]): number =>
    inputs.reduce((a, x) => a + (x.shape.length > 0 ? sizeOf(x.shape.slice(1)) : 1) * 4, 0)

  return E.right({
    backend: hostBackend,
    signature,
    // Activations of a CNN forward+backward are typically ~100× the input; a user who knows better sets bytesPerRow.
    bytesPerRow: (inputs) => options.bytesPerRow ?? inputBytes(inputs) * 100,
    ...(rt.device !== 'cpu' ? { memoryBudgetBytes: DEVICE_MEMORY_BUDGET[rt.device] } : {}),
    forward: (inputs, opts = {}) => {
      const feeds = feedsOf(inputs)
      if (E.isLeft(feeds)) return TE.left(feeds.left)
      return pipe(
        () => rt.forward(feeds.right, { outputs: [outputName], ...(opts.capture ? { capture: opts.capture } : {}), ...(opts.inject ? { inject: opts.inject } : {}) }),
        TE.chainEitherK((o) => {
          const output = o[outputName]
          if (output === undefined) return E.left(err('UnknownTensor', `the model did not return ${outputName}`))
          const captured = Object.fromEntries((opts.capture ?? []).flatMap((c) => (o[c] ? [[c, o[c]!]] : [])))
          const bad = opts.allowNonFinite === true ? undefined : nonFiniteOutput(output)
          return bad !== undefined ? E.left(bad) : E.right({ output, captured })
        }),
      )
    },
    vjp,
    // causal LMs (logits declared [batch, seq, vocab]): the ids are the input named input_ids, or the only int64 input
    ...(idsInput !== undefined && out.dtype === 'float32' && out.shape?.length === 3
      ? {
          nextTokenLogProbs: (inputs: readonly HostTensor[]) => {
            const feeds = feedsOf(inputs)
            if (E.isLeft(feeds)) return TE.left(feeds.left)
            return pipe(
              () => rt.nextTokenLogProbs(feeds.right, { logits: outputName, ids: idsInput }),
              TE.chainEitherK((lp) => {
                const bad = nonFiniteIn(lp, ['output'], `the log-probabilities of ${outputName}`, 'check the model for unstable ops')
                return bad !== undefined ? E.left(bad) : E.right(lp)
              }),
            )
          },
        }
      : {}),
    dispose: () => rt.dispose(),
  })
}
