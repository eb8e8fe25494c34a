/**
 * Weight-randomised copies of an ONNX model, for the model-parameter randomisation sanity check.
 * The parameterised layers are the Gemm, MatMul, Conv and ConvTranspose nodes with a float
 * initializer among their inputs, in graph order; a layer is named by its node's first output (as
 * in `signature.layers`) or by the node's name. Its parameters are those initializers, plus the
 * initializer of an Add that adds a bias to a MatMul's output. {@link withRandomizedInitializers}
 * returns new model bytes with chosen initializers replaced by seeded draws (see `core/reinit.ts`:
 * N(0, σ²) with each tensor's original σ); the graph is unchanged. Weights stored as `Constant` nodes
 * (paddle2onnx) count as initializers ({@link promoteConstantWeights}).
 *
 * @category backends
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../../core/backend.js'
import { err, type AttributionError } from '../../core/errors.js'
import { reinitValues } from '../../core/reinit.js'
import type { HostTensor } from '../../core/tensor.js'
import type { ModelVariants } from '../../metrics/randomisation/modelParameterRandomisation.js'
import { ElemType, fromProto, tensorValues, toProto, type Graph } from './graph/ir.js'
import { decodeModel, encodeModel, type TensorProto } from './graph/proto.js'
import { fromOnnx, type FromOnnxOptions } from './model.js'
import { modelBytes, type ModelSource } from './source.js'

const PARAMETERISED = new Set(['Gemm', 'MatMul', 'Conv', 'ConvTranspose'])

/** A parameterised layer: its name (the node's first output), node name, op and parameter initializers. */
export interface ParameterisedLayer {
  readonly name: string
  readonly node: string
  readonly opType: string
  readonly initializers: readonly string[]
}

const isFloatInit = (g: Graph, name: string): boolean => (g.initializers.get(name)?.dataType ?? 0) === ElemType.FLOAT

const layersOf = (g: Graph): readonly ParameterisedLayer[] =>
  g.nodes.flatMap((n) => {
    if (n.domain !== '' || !PARAMETERISED.has(n.opType)) return []
    const own = n.inputs.filter((x) => x !== '' && isFloatInit(g, x))
    if (own.length === 0) return []
    const out = n.outputs[0] ?? ''
    const bias = n.opType === 'MatMul'
      ? g.nodes.filter((m) => m.opType === 'Add' && m.domain === '' && m.inputs.includes(out)).flatMap((m) => m.inputs.filter((x) => x !== out && isFloatInit(g, x)))
      : []
    return [{ name: out, node: n.name, opType: n.opType, initializers: [...new Set([...own, ...bias])] }]
  })


/**
 * The graph with weights stored as `Constant` nodes (paddle2onnx writes them so) moved into
 * initializers of the same name: the same model, whose parameterised layers can then be found
 * and randomised like any other. Only float tensors of rank ≥ 1 move; scalars and integer
 * constants (shapes, axes) stay nodes.
 */
export const promoteConstantWeights = (g: Graph): Graph => {
  const moved = new Map<string, TensorProto>()
  const nodes = g.nodes.filter((n) => {
    if (n.domain !== '' || n.opType !== 'Constant' || n.outputs.length !== 1 || n.attributes.length !== 1) return true
    const a = n.attributes[0]!
    const out = n.outputs[0]!
    if (a.name !== 'value' || a.type !== 'tensor' || (a.value.dataType ?? 0) !== ElemType.FLOAT || (a.value.dims ?? []).length === 0 || g.initializers.has(out)) return true
    moved.set(out, { ...a.value, name: out })
    return false
  })
  if (moved.size === 0) return g
  return { ...g, nodes, initializers: new Map([...g.initializers, ...moved]) }
}

const graphOf = async (source: ModelSource): Promise<E.Either<AttributionError, Graph>> => {
  const bytes = await modelBytes(source)
  if (E.isLeft(bytes)) return bytes
  const m = decodeModel(bytes.right)
  if (E.isLeft(m)) return m
  const g = fromProto(m.right)
  return E.isLeft(g) ? g : E.right(promoteConstantWeights(g.right))
}

/** The model's parameterised layers in graph order (bytes or, in Node, a file path). */
export const parameterisedLayers = async (source: ModelSource): Promise<E.Either<AttributionError, readonly ParameterisedLayer[]>> => {
  const g = await graphOf(source)
  return E.isLeft(g) ? g : E.right(layersOf(g.right))
}

export interface RandomizeOptions {
  /** Layers (node first output or node name) whose parameters to re-initialise. */
  readonly layers?: readonly string[]
  /** Initializers to re-initialise (float initializers of the graph). */
  readonly initializerNames?: readonly string[]
  readonly seed: number
}

const randomized = (t: TensorProto, seed: number, layerIndex: number, paramIndex: number): E.Either<AttributionError, TensorProto> => {
  const v = tensorValues(t)
  if (v === undefined) return E.left(err('Unsupported', `initializer ${JSON.stringify(t.name)} keeps its data outside the model file; load a model with embedded weights to randomise it`, ['initializerNames']))
  const data = reinitValues(v, seed, layerIndex, paramIndex)
  const { floatData: _f, rawData: _r, externalData: _e, dataLocation: _l, ...rest } = t
  return E.right({ ...rest, dataType: ElemType.FLOAT, rawData: new Uint8Array(data.buffer) })
}

/**
 * New ONNX model bytes with the parameters of `layers` and the `initializerNames` re-initialised
 * from `seed`. An unknown layer or initializer is an `UnknownTensor` error naming the valid ones;
 * naming nothing is an error too.
 */
export const withRandomizedInitializers = async (source: ModelSource, options: RandomizeOptions): Promise<E.Either<AttributionError, Uint8Array>> => {
  const ge = await graphOf(source)
  if (E.isLeft(ge)) return ge
  const g = ge.right
  const all = layersOf(g)
  const layers = options.layers ?? []
  const names = options.initializerNames ?? []
  if (layers.length + names.length === 0) return E.left(err('MissingInput', 'name the layers or initializerNames to randomise', ['layers']))
  const badLayers = layers.filter((l) => !all.some((p) => p.name === l || (p.node !== '' && p.node === l)))
  if (badLayers.length > 0) {
    return E.left(err('UnknownTensor', all.length === 0
      ? 'this model has no parameterised layers (Gemm, MatMul, Conv or ConvTranspose with a float initializer)'
      : `not parameterised layers of this model: ${badLayers.map((l) => JSON.stringify(l)).join(', ')}; its parameterised layers: ${all.map((p) => JSON.stringify(p.name)).join(', ')}`, ['layers']))
  }
  const badInits = names.filter((x) => !isFloatInit(g, x))
  if (badInits.length > 0) return E.left(err('UnknownTensor', `not float initializers of this model: ${badInits.map((x) => JSON.stringify(x)).join(', ')}`, ['initializerNames']))
  // (layer index, param index) per initializer: stable draws whatever else is randomised
  const chosen = new Map<string, readonly [number, number]>()
  all.forEach((p, li) => {
    if (layers.includes(p.name) || layers.includes(p.node)) p.initializers.forEach((x, pi) => chosen.set(x, [li, pi]))
  })
  const initNames = [...g.initializers.keys()]
  for (const x of names) if (!chosen.has(x)) chosen.set(x, [all.length + initNames.indexOf(x), 0])
  const inits = new Map(g.initializers)
  for (const [x, [li, pi]] of chosen) {
    const r = randomized(g.initializers.get(x)!, options.seed, li, pi)
    if (E.isLeft(r)) return r
    inits.set(x, r.right)
  }
  return E.right(encodeModel(toProto({ ...g, initializers: inits })))
}

/**
 * The {@link ModelVariants} of an ONNX model for `modelParameterRandomisation`: its parameterised
 * layers, and copies loaded with `fromOnnx(…, options)` with chosen layers randomised.
 */
export const onnxModelVariants = async (source: ModelSource, options: FromOnnxOptions = {}): Promise<E.Either<AttributionError, ModelVariants<HostTensor>>> => {
  const bytes = await modelBytes(source)
  if (E.isLeft(bytes)) return bytes
  const layers = await parameterisedLayers(bytes.right)
  if (E.isLeft(layers)) return layers
  return E.right({
    layers: layers.right.map((p) => p.name),
    randomized: async (names, seed): Promise<E.Either<AttributionError, Model<HostTensor>>> => {
      const b = await withRandomizedInitializers(bytes.right, { layers: names, seed })
      return E.isLeft(b) ? b : fromOnnx(b.right, options)
    },
  })
}
