/**
 * `fromTfjs`: a TensorFlow.js model as a clarus {@link Model}. Three kinds are recognised by shape
 * (duck typing, so models from any copy of the tfjs packages work):
 *
 * | kind | forward | capture | inject, `wrt: layer` | layer names |
 * |---|---|---|---|---|
 * | function `(...xs) => y` | call | — | — | — |
 * | tfjs-layers `LayersModel` | `apply(xs, {training: false})` | sub-model with extra outputs, built once per capture list and cached | `tf.Sequential` only (layers applied one by one) | layer names |
 * | tfjs-converter `GraphModel` | `execute` (runs under a gradient tape; `executeAsync` cannot) | `execute(feeds, [output, ...names])` | the node is fed (`execute` cuts the graph there) | node names |
 *
 * Gradients are `tf.valueAndGrads` over the model run, inside `tf.tidy`; every tensor not handed
 * to the caller is released. File length: one place for the three runners and the shared
 * forward/vjp driver, which share the error mapping and ownership rules (≈400 lines).
 *
 * @category backends
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { TaskEither } from 'fp-ts/lib/TaskEither.js'
import * as tf from '@tensorflow/tfjs-core'
import { model as layersModelOf, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers'
import type { ForwardOptions, ForwardResult, Model, ModelSignature, Selector, TensorInfo, VjpOptions, VjpResult } from '../../core/backend.js'
import { ClarusError, backendFailure, err, type AttributionError } from '../../core/errors.js'
import { declaredShapeProblem } from '../../core/declaredShape.js'
import { nonFiniteIn } from '../../core/finite.js'
import type { DType } from '../../core/tensor.js'
import { tfjsBackend } from './tfjsBackend.js'

/** A model written as a function of tf tensors. */
export type TfjsFunction = (...inputs: tf.Tensor[]) => tf.Tensor

/** What clarus uses of a tfjs-converter `GraphModel` (its public API). */
export interface GraphModelLike {
  readonly inputNodes: readonly string[]
  readonly outputNodes: readonly string[]
  readonly inputs: readonly { readonly name: string; readonly shape?: readonly number[]; readonly dtype: string }[]
  readonly outputs: readonly { readonly name: string; readonly shape?: readonly number[]; readonly dtype: string }[]
  execute(inputs: tf.NamedTensorMap, outputs?: string | string[]): tf.Tensor | tf.Tensor[]
}

/**
 * Passes an internal tensor through: the function calls `tap(name, t)` on each tensor it wants to
 * expose as a layer and continues with what `tap` returns (clarus may record it, or replace it).
 */
export type Tap = (name: string, t: tf.Tensor) => tf.Tensor

/**
 * A model written as a function that names its internal tensors: layer methods (capture, inject,
 * gradients w.r.t. a layer) then work on it as on a GraphModel.
 *
 * @example
 * const model = fromTfjs({ layers: ['hidden'], fn: (tap, x) => tf.matMul(tap('hidden', tf.relu(tf.matMul(x, w1))), w2) })
 */
export interface TappedFunction {
  readonly layers: readonly string[]
  readonly fn: (tap: Tap, ...inputs: tf.Tensor[]) => tf.Tensor
}

/** Any model {@link fromTfjs} accepts. */
export type TfjsModel = TfjsFunction | TappedFunction | LayersModel | GraphModelLike

export interface FromTfjsOptions {
  /** GraphModel: the input node names in positional order (default: `model.inputNodes`). */
  readonly inputNames?: readonly string[]
  /** GraphModel/LayersModel: the output explained (default: the first output). */
  readonly outputName?: string
  /** The signature to report (functions have none of their own; overrides the inferred one). */
  readonly signature?: ModelSignature
}

/** One way to run a model kind; `run` is synchronous so it can sit inside `tf.tidy` and a tape. */
interface Runner {
  readonly kind: string
  readonly signature: ModelSignature
  /** Why `capture`/`inject` cannot be honoured, or undefined. */
  check(capture: readonly string[], inject: readonly string[]): AttributionError | undefined
  run(inputs: readonly tf.Tensor[], capture: readonly string[], inject: tf.NamedTensorMap): { output: tf.Tensor; captured: Record<string, tf.Tensor> }
  dispose(): void
}

const LAYER_KINDS = 'GraphModel (any node), tf.Sequential LayersModel (any layer) and tapped functions ({ layers, fn: (tap, ...inputs) => … })'

const tfDType = (d: string): DType => (d === 'int32' ? 'int32' : d === 'bool' ? 'bool' : 'float32')
const infoOf = (name: string, dtype: string, shape: readonly (number | null)[] | undefined): TensorInfo => ({
  name,
  dtype: tfDType(dtype),
  shape: (shape ?? []).map((d) => (d === null || d < 0 ? null : d)),
})

const unknownNames = (names: readonly string[], known: readonly string[], what: string): AttributionError | undefined => {
  const bad = names.filter((n) => !known.includes(n))
  return bad.length === 0
    ? undefined
    : err('UnknownTensor', `${what} ${bad.map((b) => JSON.stringify(b)).join(', ')} not found; known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`, ['layers', bad[0]!])
}

/** A tf.Tensor from any copy of the tfjs packages (duck-typed, like the model kinds). */
const isTfTensor = (u: unknown): u is tf.Tensor =>
  typeof u === 'object' && u !== null && typeof (u as { dispose?: unknown }).dispose === 'function' &&
  Array.isArray((u as { shape?: unknown }).shape) && typeof (u as { dtype?: unknown }).dtype === 'string'

/**
 * What a model function returned, as one tensor; anything else (several tensors, a number) throws
 * a typed `BadModel`. It is called inside `tf.tidy`, which releases whatever the run made.
 */
const oneOutput = (y: unknown): tf.Tensor => {
  if (isTfTensor(y)) return y
  const many = Array.isArray(y) ? y : typeof y === 'object' && y !== null ? Object.values(y) : undefined
  const n = many?.filter(isTfTensor).length ?? 0
  const what = n > 0 ? `${n} tensors (${Array.isArray(y) ? 'an array' : 'a map'})` : typeof y === 'number' ? `a number (${y}), not a tf.Tensor` : `${y === null ? 'null' : typeof y}, not a tf.Tensor`
  throw new ClarusError(err('BadModel',
    `the model returned ${what}; clarus explains one output — wrap the model to return the one you want (e.g. (x) => f(x)[0]), ` +
      'or, for a LayersModel or GraphModel, pick it with fromTfjs(model, { outputName })', ['model']))
}

// ------------------------------------------------------------------------------------------------
// runners
// ------------------------------------------------------------------------------------------------

const functionRunner = (fn: TfjsFunction, options: FromTfjsOptions): Runner => ({
  kind: 'function',
  signature: options.signature ?? { inputs: [], outputs: [], layers: [] },
  check: (capture, inject) =>
    capture.length > 0 || inject.length > 0
      ? err('Unsupported', `${capture.length > 0 ? 'capture' : 'inject'} needs named internal tensors, which a function model does not have; it is supported for ${LAYER_KINDS}`, [capture.length > 0 ? 'capture' : 'inject'])
      : undefined,
  run: (inputs) => ({ output: oneOutput(fn(...inputs)), captured: {} }),
  dispose: () => undefined,
})

const tappedRunner = (m: TappedFunction, options: FromTfjsOptions): Runner => ({
  kind: 'tapped function',
  signature: options.signature ?? { inputs: [], outputs: [], layers: [...m.layers] },
  check: (capture, inject) => unknownNames([...capture, ...inject], m.layers, 'layer(s)'),
  run: (inputs, capture, inject) => {
    const captured: Record<string, tf.Tensor> = {}
    const seen = new Set<string>()
    const tap: Tap = (name, t) => {
      seen.add(name)
      const v = inject[name] ?? t
      if (capture.includes(name)) captured[name] = v
      return v
    }
    const output = oneOutput(m.fn(tap, ...inputs))
    const missing = [...capture, ...Object.keys(inject)].filter((n) => !seen.has(n))
    if (missing.length > 0) {
      throw new ClarusError(err('UnknownTensor', `the model function never tapped ${missing.map((n) => JSON.stringify(n)).join(', ')}`, ['layers', missing[0]!]))
    }
    return { output, captured }
  },
  dispose: () => undefined,
})

const isTapped = (m: object): m is TappedFunction =>
  typeof (m as { fn?: unknown }).fn === 'function' && Array.isArray((m as { layers?: unknown }).layers)

const isSequential = (m: LayersModel): boolean => typeof (m as { add?: unknown }).add === 'function' && typeof (m as { pop?: unknown }).pop === 'function'

const layersRunner = (m: LayersModel, options: FromTfjsOptions): Runner => {
  const outIndex = options.outputName === undefined ? 0 : m.outputNames.indexOf(options.outputName)
  const layerNames = m.layers.filter((l) => l.getClassName() !== 'InputLayer').map((l) => l.name)
  const sequential = isSequential(m) && m.inputs.length === 1
  // Sub-models share the user's layers and weights; they are only dropped, never disposed, since
  // LayersModel.dispose() would decrement the shared layers' ref counts and free the user's weights.
  const subModels = new Map<string, LayersModel>()
  const subModel = (capture: readonly string[]): LayersModel => {
    const key = capture.join('\u0000')
    let sub = subModels.get(key)
    if (sub === undefined) {
      const outs = capture.map((n) => m.getLayer(n).output as SymbolicTensor)
      sub = layersModelOf({ inputs: m.inputs, outputs: [...m.outputs, ...outs] })
      subModels.set(key, sub)
    }
    return sub
  }
  const asList = (y: unknown): tf.Tensor[] => (Array.isArray(y) ? (y as tf.Tensor[]) : [y as tf.Tensor])
  return {
    kind: 'LayersModel',
    signature: options.signature ?? {
      inputs: m.inputs.map((t, i) => infoOf(m.inputNames[i] ?? t.name, t.dtype, t.shape)),
      outputs: m.outputs.map((t, i) => infoOf(m.outputNames[i] ?? t.name, t.dtype, t.shape)),
      layers: layerNames,
    },
    check: (capture, inject) => {
      if (outIndex < 0) return err('UnknownTensor', `output ${JSON.stringify(options.outputName)} not found; outputs: ${m.outputNames.join(', ')}`, ['outputName'])
      const unknown = unknownNames([...capture, ...inject], layerNames, 'layer(s)')
      if (unknown) return unknown
      if (inject.length > 0 && !sequential) {
        return err('Unsupported', `inject (and gradients w.r.t. a layer) on a functional LayersModel is not supported; it is supported for ${LAYER_KINDS}. Convert the model to a GraphModel or write it as a function.`, ['inject'])
      }
      for (const n of capture) {
        if (m.getLayer(n).inboundNodes.length !== 1) {
          return err('Unsupported', `layer ${JSON.stringify(n)} is called more than once in the model, so its output is ambiguous`, ['capture', n])
        }
      }
      return undefined
    },
    run: (inputs, capture, inject) => {
      if (sequential && (Object.keys(inject).length > 0 || capture.length > 0)) {
        const captured: Record<string, tf.Tensor> = {}
        const layers = m.layers.filter((l) => l.getClassName() !== 'InputLayer')
        let x = inputs[0]!
        for (const l of layers) {
          const fed = inject[l.name]
          x = fed ?? (l.apply(x, { training: false }) as tf.Tensor)
          if (capture.includes(l.name)) captured[l.name] = x
        }
        return { output: x, captured }
      }
      const xs = inputs.length === 1 ? inputs[0]! : [...inputs]
      const ys = asList((capture.length === 0 ? m : subModel(capture)).apply(xs, { training: false }))
      const nOut = m.outputs.length
      return { output: ys[outIndex]!, captured: Object.fromEntries(capture.map((n, i) => [n, ys[nOut + i]!])) }
    },
    dispose: () => subModels.clear(),
  }
}

/** Node names of a GraphModel's topology (a private field; empty when a tfjs version hides it). */
const graphNodeNames = (g: GraphModelLike): string[] => {
  const artifacts = (g as unknown as { artifacts?: { modelTopology?: { node?: unknown } } }).artifacts
  const nodes = artifacts?.modelTopology?.node
  if (!Array.isArray(nodes)) return []
  return nodes
    .filter((n): n is { name: string; op: string } => typeof n === 'object' && n !== null && typeof (n as { name?: unknown }).name === 'string')
    .filter((n) => n.op !== 'Const' && n.op !== 'Placeholder')
    .map((n) => n.name)
}

const graphRunner = (g: GraphModelLike, options: FromTfjsOptions): Runner => {
  const inputNames = options.inputNames ?? g.inputNodes
  const outputName = options.outputName ?? g.outputNodes[0] ?? ''
  const nodes = graphNodeNames(g)
  return {
    kind: 'GraphModel',
    signature: options.signature ?? {
      inputs: g.inputs.map((t, i) => infoOf(inputNames[i] ?? t.name, t.dtype, t.shape)),
      outputs: g.outputs.map((t) => infoOf(t.name, t.dtype, t.shape)),
      layers: nodes,
    },
    // Names are checked against the topology when it is readable; otherwise `execute` reports them.
    check: (capture, inject) => (nodes.length > 0 ? unknownNames([...capture, ...inject], nodes, 'node(s)') : undefined),
    run: (inputs, capture, inject) => {
      const feeds: tf.NamedTensorMap = { ...inject }
      inputNames.forEach((n, i) => {
        const x = inputs[i]
        if (x !== undefined) feeds[n] = x
      })
      const ys = g.execute(feeds, [outputName, ...capture])
      const list = Array.isArray(ys) ? ys : [ys]
      return { output: list[0]!, captured: Object.fromEntries(capture.map((n, i) => [n, list[i + 1]!])) }
    },
    dispose: () => undefined,
  }
}

const isGraphModel = (m: object): m is GraphModelLike =>
  typeof (m as { execute?: unknown }).execute === 'function' && Array.isArray((m as { inputNodes?: unknown }).inputNodes)
const isLayersModel = (m: object): m is LayersModel =>
  typeof (m as { apply?: unknown }).apply === 'function' &&
  typeof (m as { getLayer?: unknown }).getLayer === 'function' &&
  Array.isArray((m as { layers?: unknown }).layers)

// ------------------------------------------------------------------------------------------------
// errors
// ------------------------------------------------------------------------------------------------

const OTHER_BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu']

/** A thrown tfjs error as a typed clarus error. */
const fromThrown = (e: unknown, phase: string): AttributionError => {
  if (e instanceof ClarusError) return e.error
  const msg = e instanceof Error ? e.message : String(e)
  const kernel = /Kernel '([^']+)' not registered for backend '([^']+)'/.exec(msg)
  if (kernel) {
    const [, k, b] = kernel
    const others = OTHER_BACKENDS.filter((x) => x !== b).map((x) => `'${x}'`).join(', ')
    return err('Unsupported', `the tfjs backend '${b}' has no kernel '${k}', which the ${phase} of this model needs. Switch tfjs backend (await tf.setBackend(…) with one of ${others}; 'cpu' has every kernel) or use the ONNX backend.`, ['model'])
  }
  const noGrad = /gradient function not found for (\w+)/.exec(msg)
  if (noGrad) {
    return err('Unsupported', `tfjs has no gradient for op '${noGrad[1]}'. If you imported only @tensorflow/tfjs-core, import 'clarus/tfjs' or '@tensorflow/tfjs' (they register all gradients); otherwise use a perturbation method, which needs only forward passes.`, ['model'])
  }
  if (/Cannot compute gradient of y=f\(x\)/.test(msg)) {
    return err('NotReachable', 'the explained output does not depend on the differentiated tensors (no path from them to the output)', ['wrt'])
  }
  if (/not found in the graph|not part of graph/.test(msg)) return err('UnknownTensor', msg, ['layers'])
  return backendFailure(`tfjs ${phase} failed: ${msg}`, e)
}

// ------------------------------------------------------------------------------------------------
// the shared driver
// ------------------------------------------------------------------------------------------------

/** Σ over non-batch dims of output ⊙ seed (a mask product: its gradient needs no gather kernels). */
const selectValue = (output: tf.Tensor, selector: Selector<tf.Tensor>): tf.Tensor => {
  if (output.rank === 0) throw new ClarusError(err('BadModel', 'the model output is a scalar; it needs a batch dimension (one row per input row)', ['output']))
  let picked: tf.Tensor
  if (selector.kind === 'fn') picked = selector.fn(output)
  else {
    const seed = selector.seed(output.shape)
    if (E.isLeft(seed)) throw new ClarusError(seed.left)
    const s = tfjsBackend.fromHost(seed.right)
    picked = tf.mul(output, s.dtype === 'float32' ? s : tf.cast(s, 'float32'))
  }
  return picked.rank <= 1 ? picked : tf.sum(picked, Array.from({ length: picked.rank - 1 }, (_, i) => i + 1))
}

/** The NonFinite error for the first bad element of `t`'s float output, or undefined (one download). */
const nonFiniteOutput = async (t: tf.Tensor): Promise<AttributionError | undefined> => {
  if (t.dtype !== 'float32') return undefined
  const flag = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))))
  const bad = (await flag.data())[0] === 1
  flag.dispose()
  if (!bad) return undefined
  return nonFiniteIn(await tfjsBackend.toHost(t), ['output'], 'the model output', 'check the inputs (and baselines) for extreme values and the model for unstable ops (log, division)')
}

/**
 * After a failed `tf.grads` at the outermost gradient level, releases the tensors the tape saved
 * for the backward pass and drops the tape: tfjs does this only when the gradient succeeds.
 */
const releaseTape = (): void => {
  const state = tf.engine().state as { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null }
  if (state.gradientDepth !== 0 || state.activeTape === null) return
  state.activeTape.forEach((node) => node.saved?.forEach((t) => t.dispose()))
  state.activeTape = null
}

/**
 * Checks each input against the model's declared input (rank, and every dimension but the batch
 * one). Only per-example dimensions are compared and reported: clarus may have stacked many
 * copies of the batch (steps, perturbations) into the first dimension, which is not the user's.
 */
const inputShapeProblem = (inputs: readonly tf.Tensor[], signature: ModelSignature): AttributionError | undefined =>
  declaredShapeProblem(inputs.map((t) => t.shape), signature)

const bytesPerElement = (t: tf.Tensor): number => (t.dtype === 'bool' ? 1 : 4)

/** An owned copy when `t` is one of the caller's tensors (so the caller never disposes one twice). */
const owned = (t: tf.Tensor, theirs: ReadonlySet<tf.Tensor>): tf.Tensor => (theirs.has(t) ? t.clone() : t)

const wrap = <A>(f: () => Promise<E.Either<AttributionError, A>>): TaskEither<AttributionError, A> => () => f()

const makeModel = (runner: Runner): Model<tf.Tensor> => {
  const forward = (inputs: readonly tf.Tensor[], options: ForwardOptions<tf.Tensor> = {}): TaskEither<AttributionError, ForwardResult<tf.Tensor>> =>
    wrap(async () => {
      const capture = options.capture ?? []
      const inject = options.inject ?? {}
      const bad = runner.check(capture, Object.keys(inject)) ?? inputShapeProblem(inputs, runner.signature)
      if (bad) return E.left(bad)
      const theirs = new Set([...inputs, ...Object.values(inject)])
      let out: tf.Tensor[]
      try {
        out = tf.tidy(() => {
          const r = runner.run(inputs, capture, inject)
          return [owned(r.output, theirs), ...capture.map((n) => owned(r.captured[n]!, theirs))]
        })
      } catch (e) {
        return E.left(fromThrown(e, 'forward pass'))
      }
      const output = out[0]!
      const nonFinite = options.allowNonFinite === true ? undefined : await nonFiniteOutput(output)
      if (nonFinite !== undefined) {
        out.forEach((t) => t.dispose())
        return E.left(nonFinite)
      }
      return E.right({ output, captured: Object.fromEntries(capture.map((n, i) => [n, out[i + 1]!])) })
    })

  const vjp = (inputs: readonly tf.Tensor[], selector: Selector<tf.Tensor>, options: VjpOptions<tf.Tensor>): TaskEither<AttributionError, VjpResult<tf.Tensor>> =>
    wrap(async () => {
      if (inputs.length === 0) return E.left(err('MissingInput', 'vjp needs at least one input', ['inputs']))
      const capture = options.capture ?? []
      const inject = options.inject ?? {}
      const wrt = options.wrt
      const layer = wrt.kind === 'layer' ? wrt.name : undefined
      const bad = runner.check(layer === undefined ? capture : [...capture, layer], layer === undefined ? Object.keys(inject) : [...Object.keys(inject), layer])
      if (bad) return E.left(wrt.kind === 'layer' && bad._tag === 'Unsupported' ? { ...bad, message: `gradients w.r.t. a layer: ${bad.message}`, path: ['wrt'] } : bad)
      const badShape = inputShapeProblem(inputs, runner.signature)
      if (badShape) return E.left(badShape)
      // The differentiated inputs: the leading run of float32 inputs (see fromTfjs).
      let nFloat = 0
      while (nFloat < inputs.length && inputs[nFloat]!.dtype === 'float32') nFloat++
      if (layer === undefined && nFloat === 0) {
        return E.left(err('DTypeMismatch', `input 0 has dtype ${tfjsBackend.dtypeOf(inputs[0]!)}: gradients exist only for float32 inputs. For token ids, attribute to the embedding layer (a layer method) instead.`, ['inputs', '0']))
      }
      const theirs = new Set([...inputs, ...Object.values(inject)])
      const kept: tf.Tensor[] = []
      const keep = (t: tf.Tensor): tf.Tensor => {
        const o = tf.keep(owned(t, theirs))
        kept.push(o)
        return o
      }
      let output: tf.Tensor | undefined
      let captured: Record<string, tf.Tensor> = {}
      let res: { value: tf.Tensor; grads: tf.Tensor[] }
      const outerLevel = (tf.engine().state as { gradientDepth: number }).gradientDepth === 0
      try {
        res = tf.tidy(() => {
          const otherCapture = capture.filter((n) => n !== layer)
          const once = (feedInputs: readonly tf.Tensor[], feedInject: tf.NamedTensorMap): tf.Tensor => {
            const r = runner.run(feedInputs, otherCapture, feedInject)
            if (r.output.dtype !== 'float32') {
              throw new ClarusError(err('DTypeMismatch',
                `the model output is ${r.output.dtype}: integer and boolean outputs (argmax, comparisons, casts) are not differentiable, so gradient methods cannot explain them. ` +
                  'Explain the float scores before that step (wrap the model to return them), or use a perturbation method (FeatureAblation, ShapleyValueSampling, KernelShap, …), which needs only forward passes',
                ['output']))
            }
            output = keep(r.output)
            captured = Object.fromEntries(otherCapture.map((n) => [n, keep(r.captured[n]!)]))
            return selectValue(r.output, selector)
          }
          if (layer === undefined) {
            const rest = inputs.slice(nFloat)
            const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => once([...xs, ...rest], inject))(inputs.slice(0, nFloat))
            return { value, grads }
          }
          // Layer: its value (injected, or from a first pass), then the model with the layer fed.
          const h = inject[layer] ?? runner.run(inputs, [layer], inject).captured[layer]!
          const { value, grads } = tf.valueAndGrads((hh: tf.Tensor) => once(inputs, { ...inject, [layer]: hh }))([h])
          if (capture.includes(layer)) captured = { ...captured, [layer]: keep(h) }
          return { value, grads }
        })
      } catch (e) {
        kept.forEach((t) => t.dispose())
        if (outerLevel) releaseTape()
        return E.left(fromThrown(e, layer === undefined ? 'gradient' : `gradient w.r.t. ${JSON.stringify(layer)}`))
      }
      const out = output!
      const nonFinite = options.allowNonFinite === true ? undefined : await nonFiniteOutput(out)
      if (nonFinite !== undefined) {
        kept.forEach((t) => t.dispose())
        res.value.dispose()
        res.grads.forEach((g) => g.dispose())
        return E.left(nonFinite)
      }
      // tf.keep'd tensors stay alive past every tidy; ownership passes to the caller here.
      return E.right({ output: out, value: res.value, grads: res.grads, captured })
    })

  return {
    backend: tfjsBackend,
    signature: runner.signature,
    bytesPerRow: (inputs) => {
      const rows = Math.max(1, inputs[0]?.shape[0] ?? 1)
      return (64 * inputs.reduce((s, t) => s + t.size * bytesPerElement(t), 0)) / rows
    },
    forward,
    vjp,
    dispose: () => {
      runner.dispose()
      return Promise.resolve()
    },
  }
}

/**
 * Wraps a TensorFlow.js model (a function, a tfjs-layers `LayersModel` or a tfjs-converter
 * `GraphModel`) as a clarus {@link Model} on the {@link tfjsBackend}.
 *
 * Gradients (`vjp` w.r.t. inputs) are taken for the **leading run of float32 inputs**: `grads[i]`
 * is ∂(Σ value)/∂`inputs[i]` for `i < k`, where `inputs[k]` is the first input that is not
 * float32. Attributed inputs come first, so they are all differentiated; additional forward
 * arguments after them are passed through unchanged (a float one before the first integer one is
 * differentiated too, which costs a little and is ignored by callers). If `inputs[0]` is not
 * float32 the call fails with `DTypeMismatch` (differentiate an embedding layer instead). The ONNX
 * backend follows the same rule.
 *
 * `value` is Σ over non-batch dims of `output ⊙ seed` for a `linear` selector (a mask product, so
 * no gather kernels are needed on any tfjs backend), or `fn(output)` summed the same way.
 *
 * `bytesPerRow` estimates 64 × the bytes of one row of all inputs (activations and their
 * gradients of a mid-size network); it only sizes chunks.
 *
 * Errors: a kernel a tfjs backend lacks (e.g. `DepthwiseConv2dNativeBackpropInput` and
 * `UnsortedSegmentSum` on wasm) → `Unsupported` naming the kernel and the backend; NaN or
 * Infinity in the output → `NonFinite`; capture, inject or `wrt: layer` on a model kind that
 * cannot do it → `Unsupported`; an unknown layer → `UnknownTensor`.
 *
 * `dispose()` drops cached sub-models; it never disposes the user's model or weights.
 *
 * Captum: the model passed to an attribution class; `forward_func` with `additional_forward_args`.
 *
 * @example
 * const model = fromTfjs((x: tf.Tensor) => tf.matMul(x, w))
 * @category backends
 * @since 0.1.0
 */
export const fromTfjs = (model: TfjsModel, options: FromTfjsOptions = {}): Model<tf.Tensor> => {
  if (typeof model === 'function') return makeModel(functionRunner(model, options))
  if (isTapped(model)) return makeModel(tappedRunner(model, options))
  if (isGraphModel(model)) return makeModel(graphRunner(model, options))
  if (isLayersModel(model)) return makeModel(layersRunner(model, options))
  throw new TypeError('fromTfjs: expected a function, a tapped function { layers, fn }, a tfjs-layers LayersModel or a tfjs-converter GraphModel')
}
