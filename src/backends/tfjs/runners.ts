/**
 * The model kinds `fromTfjs` accepts, each as a {@link Runner}: one synchronous way to run it (so
 * it can sit inside `tf.tidy` and a gradient tape) with captured, injected and shifted internal
 * tensors and extra outputs by index. The forward/vjp driver in `model.ts` is written against
 * this interface only.
 *
 * | kind | capture | inject, shift | outputs by index |
 * |---|---|---|---|
 * | function `(...xs) => y` | — | — | index 0 only |
 * | tapped function `{ layers, fn }` | tapped names | tapped names | index 0 only |
 * | tfjs-layers `LayersModel` | layer names (a sub-model with extra outputs, cached) | `tf.Sequential` only | `outputs` |
 * | tfjs-converter `GraphModel` | node names | node names (the node is fed) | `outputNodes` |
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import { model as layersModelOf, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers'
import type { ModelSignature, PerExampleGrad, TensorInfo } from '../../core/backend.js'
import { ClarusError, err, type AttributionError } from '../../core/errors.js'
import { closestNames } from '../../core/names.js'
import type { DType } from '../../core/tensor.js'
import { graphModelInfo, layersModelInfo, tappedInfo, type GraphNodeInfo } from './layerInfo.js'
import { gradientTwin } from './linearFused.js'

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
  /**
   * Trainable parameters the model reads, by name: the tensors themselves (or variables), each
   * optionally with its per-example factorisation (see `PerExampleGrad`). They become
   * `signature.parameters`, and `vjp` differentiates w.r.t. them for `{ kind: 'param', name }`
   * entries (parameter gradients, TracIn). Default: none.
   */
  readonly parameters?: Readonly<Record<string, tf.Tensor | { readonly tensor: tf.Tensor; readonly perExample?: PerExampleGrad }>>
}

/** What one run of a model computes besides its explained output. */
export interface RunRequest {
  readonly capture: readonly string[]
  /** Internal tensors replaced by these values (the graph is cut there). */
  readonly inject: tf.NamedTensorMap
  /**
   * Added to these internal tensors where the model computes them (after any injection). A zero
   * leaf here makes the tensor differentiable without cutting the paths through it, so gradients
   * w.r.t. inputs and w.r.t. this tensor come from one tape.
   */
  readonly shift: tf.NamedTensorMap
  /** Model outputs to return by index (see {@link Runner.outputCount}). */
  readonly outputs: readonly number[]
  /**
   * Told the tensor the model computes for each name it reports (a tapped name, a layer's output, a
   * captured node), before any injection or shift: rule sets match kernels by these names.
   */
  readonly named?: (name: string, t: tf.Tensor) => void
}

export interface RunResult {
  /** The explained output. */
  readonly output: tf.Tensor
  /** The requested outputs by index, in request order. */
  readonly outputs: readonly tf.Tensor[]
  readonly captured: Readonly<Record<string, tf.Tensor>>
}

/** One way to run a model kind; `run` is synchronous so it can sit inside `tf.tidy` and a tape. */
export interface Runner {
  readonly kind: string
  readonly signature: ModelSignature
  /** How many outputs `run` can return by index, or undefined when the model returns one tensor. */
  readonly outputCount: number | undefined
  /** Why `capture`/`inject` (or `shift`, which needs the same support) cannot be honoured, or undefined. */
  check(capture: readonly string[], inject: readonly string[]): AttributionError | undefined
  run(inputs: readonly tf.Tensor[], req: RunRequest): RunResult
  dispose(): void
}

export const NO_EXTRAS: RunRequest = { capture: [], inject: {}, shift: {}, outputs: [] }

export const LAYER_KINDS = 'GraphModel (any node), tf.Sequential LayersModel (any layer) and tapped functions ({ layers, fn: (tap, ...inputs) => … })'

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
    : err('UnknownTensor', `${what} ${bad.map((b) => `${JSON.stringify(b)} (${closestNames(b, known)})`).join(', ')} not found`, ['layers', bad[0]!])
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

/** `t` plus its shift, when one is given. */
const shifted = (t: tf.Tensor, shift: tf.Tensor | undefined): tf.Tensor => (shift === undefined ? t : tf.add(t, shift))

/** A one-tensor model's outputs by index: the output itself for index 0 (the driver rejects any other). */
const onlyOutput = (output: tf.Tensor, req: RunRequest): tf.Tensor[] => req.outputs.map(() => output)

export const functionRunner = (fn: TfjsFunction, options: FromTfjsOptions): Runner => ({
  kind: 'function',
  signature: options.signature ?? { inputs: [], outputs: [], layers: [] },
  outputCount: undefined,
  check: (capture, inject) =>
    capture.length > 0 || inject.length > 0
      ? err('Unsupported', `${capture.length > 0 ? 'capture' : 'inject'} needs named internal tensors, which a function model does not have; it is supported for ${LAYER_KINDS}`, [capture.length > 0 ? 'capture' : 'inject'])
      : undefined,
  run: (inputs, req) => {
    const output = oneOutput(fn(...inputs))
    return { output, outputs: onlyOutput(output, req), captured: {} }
  },
  dispose: () => undefined,
})

export const tappedRunner = (m: TappedFunction, options: FromTfjsOptions): Runner => ({
  kind: 'tapped function',
  signature: options.signature ?? { inputs: [], outputs: [], layers: [...m.layers], layerInfo: tappedInfo(m.layers) },
  outputCount: undefined,
  check: (capture, inject) => unknownNames([...capture, ...inject], m.layers, 'layer(s)'),
  run: (inputs, { capture, inject, shift, ...req }) => {
    const captured: Record<string, tf.Tensor> = {}
    const seen = new Set<string>()
    const tap: Tap = (name, t) => {
      seen.add(name)
      req.named?.(name, t)
      const v = shifted(inject[name] ?? t, shift[name])
      if (capture.includes(name)) captured[name] = v
      return v
    }
    const output = oneOutput(m.fn(tap, ...inputs))
    const missing = [...capture, ...Object.keys(inject), ...Object.keys(shift)].filter((n) => !seen.has(n))
    if (missing.length > 0) {
      throw new ClarusError(err('UnknownTensor', `the model function never tapped ${missing.map((n) => JSON.stringify(n)).join(', ')}`, ['layers', missing[0]!]))
    }
    return { output, outputs: onlyOutput(output, { capture, inject, shift, ...req }), captured }
  },
  dispose: () => undefined,
})

export const isTapped = (m: object): m is TappedFunction =>
  typeof (m as { fn?: unknown }).fn === 'function' && Array.isArray((m as { layers?: unknown }).layers)

const isSequential = (m: LayersModel): boolean => typeof (m as { add?: unknown }).add === 'function' && typeof (m as { pop?: unknown }).pop === 'function'

export const layersRunner = (m: LayersModel, options: FromTfjsOptions): Runner => {
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
      layerInfo: layersModelInfo(m),
    },
    outputCount: m.outputs.length,
    check: (capture, inject) => {
      if (outIndex < 0) return err('UnknownTensor', `output ${JSON.stringify(options.outputName)} not found; ${closestNames(options.outputName ?? '', m.outputs.map((t, i) => m.outputNames[i] ?? t.name))}`, ['outputName'])
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
    run: (inputs, req) => {
      const { capture, inject, shift } = req
      if (sequential && (Object.keys(inject).length > 0 || Object.keys(shift).length > 0 || capture.length > 0)) {
        const captured: Record<string, tf.Tensor> = {}
        const layers = m.layers.filter((l) => l.getClassName() !== 'InputLayer')
        let x = inputs[0]!
        for (const l of layers) {
          const fed = inject[l.name]
          let computed = fed
          if (computed === undefined) {
            computed = l.apply(x, { training: false }) as tf.Tensor
            req.named?.(l.name, computed)
          }
          x = shifted(computed, shift[l.name])
          if (capture.includes(l.name)) captured[l.name] = x
        }
        // a Sequential model has one output
        return { output: x, outputs: onlyOutput(x, req), captured }
      }
      const xs = inputs.length === 1 ? inputs[0]! : [...inputs]
      const ys = asList((capture.length === 0 ? m : subModel(capture)).apply(xs, { training: false }))
      const nOut = m.outputs.length
      capture.forEach((n, i) => req.named?.(n, ys[nOut + i]!))
      return { output: ys[outIndex]!, outputs: req.outputs.map((i) => ys[i]!), captured: Object.fromEntries(capture.map((n, i) => [n, ys[nOut + i]!])) }
    },
    dispose: () => subModels.clear(),
  }
}

type GraphNode = GraphNodeInfo

/** The nodes of a GraphModel's topology (a private field; empty when a tfjs version hides it). */
const graphNodes = (g: GraphModelLike): GraphNode[] => {
  const artifacts = (g as unknown as { artifacts?: { modelTopology?: { node?: unknown } } }).artifacts
  const nodes = artifacts?.modelTopology?.node
  if (!Array.isArray(nodes)) return []
  return nodes.filter((n): n is GraphNode => typeof n === 'object' && n !== null && typeof (n as { name?: unknown }).name === 'string')
}

/** The node a graph input reference names (`^ctrl`, `name:1` → `ctrl`, `name`). */
const nodeOf = (ref: string): string => ref.replace(/^\^/, '').replace(/:\d+$/, '')

/**
 * `names` ordered so that a node comes after every other one it depends on (its ancestors), as
 * chained shifts need: each shifted tensor is computed with the earlier ones already shifted.
 */
const upstreamFirst = (names: readonly string[], nodes: readonly GraphNode[]): string[] => {
  const reads = new Map(nodes.map((n) => [n.name, (n.input ?? []).map(nodeOf)]))
  const ancestors = (name: string): Set<string> => {
    const seen = new Set<string>()
    const stack = [...(reads.get(name) ?? [])]
    while (stack.length > 0) {
      const n = stack.pop()!
      if (seen.has(n)) continue
      seen.add(n)
      stack.push(...(reads.get(n) ?? []))
    }
    return seen
  }
  const before = new Map(names.map((n) => [n, ancestors(n)]))
  const out: string[] = []
  const left = [...new Set(names)]
  while (left.length > 0) {
    const i = Math.max(0, left.findIndex((n) => !left.some((o) => o !== n && before.get(n)!.has(o))))
    out.push(...left.splice(i, 1))
  }
  return out
}

export const graphRunner = (model: GraphModelLike, options: FromTfjsOptions): Runner => {
  const g = model
  // Every run goes through the twin with bias-only fused nodes split (same tensors, same names): its
  // backward pass skips the weight gradients the fused ops would compute. Built on the first run.
  let twin: ReturnType<typeof gradientTwin> | undefined
  const exec = (): GraphModelLike => (twin ??= gradientTwin(model)).model
  const inputNames = options.inputNames ?? g.inputNodes
  const outputName = options.outputName ?? g.outputNodes[0] ?? ''
  const topology = graphNodes(g)
  const nodes = topology.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.name)
  return {
    kind: 'GraphModel',
    signature: options.signature ?? {
      inputs: g.inputs.map((t, i) => infoOf(inputNames[i] ?? t.name, t.dtype, t.shape)),
      outputs: g.outputs.map((t) => infoOf(t.name, t.dtype, t.shape)),
      layers: nodes,
      layerInfo: graphModelInfo(topology),
    },
    outputCount: g.outputNodes.length,
    // Names are checked against the topology when it is readable; otherwise `execute` reports them.
    check: (capture, inject) => {
      if (options.outputName !== undefined && topology.length > 0 && !topology.some((n) => n.name === options.outputName)) {
        return err('UnknownTensor', `output ${JSON.stringify(options.outputName)} is not a node of this GraphModel; ${closestNames(options.outputName, topology.map((n) => n.name))}`, ['outputName'])
      }
      return nodes.length > 0 ? unknownNames([...capture, ...inject], nodes, 'node(s)') : undefined
    },
    run: (inputs, { capture, inject, shift, outputs, named }) => {
      const feeds: tf.NamedTensorMap = { ...inject }
      inputNames.forEach((n, i) => {
        const x = inputs[i]
        if (x !== undefined) feeds[n] = x
      })
      const shiftedNames = Object.keys(shift)
      if (shiftedNames.length > 1 && topology.length === 0) {
        throw new ClarusError(err('Unsupported', 'gradients w.r.t. several nodes of a GraphModel need its topology to order them, which this GraphModel does not expose; differentiate one node per call', ['wrt']))
      }
      // Each shifted node: its value computed with the upstream ones already shifted, then fed.
      for (const n of upstreamFirst(shiftedNames, topology)) {
        const base = feeds[n] ?? (exec().execute(feeds, n) as tf.Tensor)
        if (inject[n] === undefined) named?.(n, base)
        feeds[n] = tf.add(base, shift[n]!)
      }
      const fed = (n: string): boolean => shift[n] !== undefined
      const names = [...new Set([outputName, ...outputs.map((i) => g.outputNodes[i]!), ...capture.filter((n) => !fed(n))])]
      const ys = exec().execute(feeds, names)
      const list = Array.isArray(ys) ? ys : [ys]
      const byName = (n: string): tf.Tensor => (fed(n) ? feeds[n]! : list[names.indexOf(n)]!)
      capture.filter((n) => !fed(n) && inject[n] === undefined).forEach((n) => named?.(n, byName(n)))
      return {
        output: byName(outputName),
        outputs: outputs.map((i) => byName(g.outputNodes[i]!)),
        captured: Object.fromEntries(capture.map((n) => [n, byName(n)])),
      }
    },
    dispose: () => {
      if (twin?.owned === true) (twin.model as unknown as { dispose(): void }).dispose()
      twin = undefined
    },
  }
}

export const isGraphModel = (m: object): m is GraphModelLike =>
  typeof (m as { execute?: unknown }).execute === 'function' && Array.isArray((m as { inputNodes?: unknown }).inputNodes)
export const isLayersModel = (m: object): m is LayersModel =>
  typeof (m as { apply?: unknown }).apply === 'function' &&
  typeof (m as { getLayer?: unknown }).getLayer === 'function' &&
  Array.isArray((m as { layers?: unknown }).layers)
