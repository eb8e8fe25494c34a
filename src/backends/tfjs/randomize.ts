/**
 * Weight-randomised copies of a tfjs-layers `LayersModel` or a tfjs-converter `GraphModel`, for the
 * model-parameter randomisation sanity check. The parameterised layers are, for a LayersModel, its
 * layers that have weights, in layer order; for a GraphModel, its MatMul, Conv2D,
 * DepthwiseConv2dNative, Conv2DBackpropInput and fused (`_FusedMatMul`, `_FusedConv2D`) nodes that
 * read a weight, in graph order, with the weight of a BiasAdd/Add that adds a bias to their output
 * (named by node, as in `signature.layers`). A copy is the model rebuilt from its topology
 * (`toJSON` / `modelFromJSON`, or the GraphModel's saved artifacts) with the original weights,
 * except those of the chosen layers, which are seeded draws (see `core/reinit.ts`: N(0, σ²) with
 * each weight tensor's original σ). The user's model is never changed; a copy's `dispose` releases
 * its weights.
 *
 * @category backends
 * @since 0.4.0
 */
import * as tf from '@tensorflow/tfjs-core'
import { loadGraphModelSync, type GraphModel as ConverterGraphModel } from '@tensorflow/tfjs-converter'
import { models, type LayersModel } from '@tensorflow/tfjs-layers'
import * as E from 'fp-ts/lib/Either.js'
import type { Model } from '../../core/backend.js'
import { err, type AttributionError } from '../../core/errors.js'
import { reinitValues } from '../../core/reinit.js'
import type { ModelVariants } from '../../metrics/randomisation/modelParameterRandomisation.js'
import { fromTfjs } from './model.js'

/** A tfjs-converter GraphModel, however it was loaded. */
export type GraphModel = ConverterGraphModel<string | tf.io.IOHandler | tf.io.IOHandlerSync>
import { isGraphModel, type FromTfjsOptions } from './runners.js'

/** The names of a LayersModel's layers that have weights, in layer order. */
export const parameterisedLayerNames = (model: LayersModel): readonly string[] => model.layers.filter((l) => l.weights.length > 0).map((l) => l.name)

/**
 * A copy of `model` with the weights of `layers` re-initialised from `seed`; the caller disposes it.
 * An unknown layer (or one without weights) is an `UnknownTensor` error.
 */
export const withRandomizedWeights = async (model: LayersModel, options: { readonly layers: readonly string[]; readonly seed: number }): Promise<E.Either<AttributionError, LayersModel>> => {
  const all = parameterisedLayerNames(model)
  if (all.length === 0) return E.left(err('BadModel', 'this model has no layers with weights, so there is nothing to randomise', ['model']))
  const bad = options.layers.filter((l) => !all.includes(l))
  if (bad.length > 0) {
    return E.left(err('UnknownTensor', `not layers with weights in this model: ${bad.map((l) => JSON.stringify(l)).join(', ')}; layers with weights: ${all.map((l) => JSON.stringify(l)).join(', ')}`, ['layers']))
  }
  let clone: LayersModel
  try {
    clone = await models.modelFromJSON(model.toJSON(null, false) as Parameters<typeof models.modelFromJSON>[0])
  } catch (e) {
    return E.left(err('BadModel', `cannot rebuild this model from its topology to randomise a copy (${e instanceof Error ? e.message : String(e)}); custom layers must be registered with tf.serialization`, ['model']))
  }
  const created: tf.Tensor[] = []
  try {
    for (const layer of model.layers) {
      const target = clone.getLayer(layer.name)
      const weights = layer.getWeights()
      const li = all.indexOf(layer.name)
      if (!options.layers.includes(layer.name)) {
        if (weights.length > 0) target.setWeights(weights)
        continue
      }
      const fresh = await Promise.all(weights.map(async (w, pi) => {
        const values = await w.data()
        const r = tf.tensor(reinitValues(values as Float32Array, options.seed, li, pi), w.shape, 'float32')
        created.push(r)
        return r
      }))
      target.setWeights(fresh)
    }
  } catch (e) {
    clone.dispose()
    return E.left(err('BadModel', `cannot set the randomised weights: ${e instanceof Error ? e.message : String(e)}`, ['model']))
  } finally {
    created.forEach((t) => t.dispose())
  }
  return E.right(clone)
}

// ---- GraphModel ------------------------------------------------------------------------------------

const GRAPH_PARAMETERISED = new Set(['MatMul', 'BatchMatMul', 'BatchMatMulV2', 'Conv2D', 'DepthwiseConv2dNative', 'Conv2DBackpropInput', '_FusedMatMul', '_FusedConv2D', 'FusedDepthwiseConv2dNative'])

interface GraphNode { readonly name: string; readonly op: string; readonly input?: readonly string[] }

/** A graph input reference ("w", "w:0", "^w") as the node name it reads. */
const nodeOf = (ref: string): string => ref.replace(/^\^/, '').replace(/:\d+$/, '')

/** The artifacts a GraphModel was loaded from (its topology and weights), through its public `save`. */
const artifactsOf = async (g: GraphModel): Promise<tf.io.ModelArtifacts> => {
  let saved: tf.io.ModelArtifacts | undefined
  await g.save(tf.io.withSaveHandler((a) => {
    saved = a
    return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })
  }))
  if (saved === undefined) throw new Error('the GraphModel saved no artifacts')
  return saved
}

/** A GraphModel's parameterised nodes and the weights each reads (and the bias added to its output). */
const graphLayers = (artifacts: tf.io.ModelArtifacts): readonly { readonly name: string; readonly weights: readonly string[] }[] => {
  const nodes = ((artifacts.modelTopology as { node?: readonly GraphNode[] } | undefined)?.node ?? [])
  const weights = new Set((artifacts.weightSpecs ?? []).map((w) => w.name))
  return nodes.flatMap((n) => {
    if (!GRAPH_PARAMETERISED.has(n.op)) return []
    const own = (n.input ?? []).map(nodeOf).filter((x) => weights.has(x))
    if (own.length === 0) return []
    const bias = n.op === 'MatMul' || n.op === 'Conv2D'
      ? nodes.filter((m) => (m.op === 'BiasAdd' || m.op === 'Add' || m.op === 'AddV2') && (m.input ?? []).map(nodeOf).includes(n.name)).flatMap((m) => (m.input ?? []).map(nodeOf).filter((x) => x !== n.name && weights.has(x)))
      : []
    return [{ name: n.name, weights: [...new Set([...own, ...bias])] }]
  })
}

/** The names of a GraphModel's parameterised nodes, in graph order. */
export const parameterisedNodeNames = async (model: GraphModel): Promise<readonly string[]> => graphLayers(await artifactsOf(model)).map((l) => l.name)

/**
 * A copy of a GraphModel with the weights read by the nodes `layers` re-initialised from `seed`;
 * the caller disposes it. An unknown node (or one that is not parameterised) is an `UnknownTensor` error.
 */
export const withRandomizedGraphWeights = async (model: GraphModel, options: { readonly layers: readonly string[]; readonly seed: number }): Promise<E.Either<AttributionError, GraphModel>> => {
  let artifacts: tf.io.ModelArtifacts
  try {
    artifacts = await artifactsOf(model)
  } catch (e) {
    return E.left(err('BadModel', `cannot read this GraphModel's weights to randomise a copy: ${e instanceof Error ? e.message : String(e)}`, ['model']))
  }
  const all = graphLayers(artifacts)
  if (all.length === 0) return E.left(err('BadModel', 'this GraphModel has no parameterised nodes (MatMul or convolutions reading a weight), so there is nothing to randomise', ['model']))
  const bad = options.layers.filter((l) => !all.some((p) => p.name === l))
  if (bad.length > 0) {
    return E.left(err('UnknownTensor', `not parameterised nodes of this GraphModel: ${bad.map((l) => JSON.stringify(l)).join(', ')}; its parameterised nodes: ${all.map((p) => JSON.stringify(p.name)).join(', ')}`, ['layers']))
  }
  const chosen = new Map<string, readonly [number, number]>()
  all.forEach((p, li) => {
    if (options.layers.includes(p.name)) p.weights.forEach((w, pi) => chosen.set(w, [li, pi]))
  })
  const specs = artifacts.weightSpecs ?? []
  const decoded = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs)
  const created: tf.Tensor[] = []
  try {
    const named: tf.NamedTensorMap = {}
    for (const spec of specs) {
      const w = decoded[spec.name]!
      const at = chosen.get(spec.name)
      if (at === undefined || w.dtype !== 'float32') {
        named[spec.name] = w
        continue
      }
      const r = tf.tensor(reinitValues(await w.data() as Float32Array, options.seed, at[0], at[1]), w.shape, 'float32')
      created.push(r)
      named[spec.name] = r
    }
    const encoded = await tf.io.encodeWeights(named)
    return E.right(loadGraphModelSync({ ...artifacts, weightSpecs: encoded.specs, weightData: encoded.data }))
  } catch (e) {
    return E.left(err('BadModel', `cannot build the randomised copy of this GraphModel: ${e instanceof Error ? e.message : String(e)}`, ['model']))
  } finally {
    created.forEach((t) => t.dispose())
    Object.values(decoded).forEach((t) => t.dispose())
  }
}

/**
 * The {@link ModelVariants} of a LayersModel or GraphModel for `modelParameterRandomisation`: its
 * parameterised layers (nodes), and randomised copies wrapped with `fromTfjs(copy, options)`
 * (disposing one disposes the copy).
 */
export const tfjsModelVariants = async (model: LayersModel | GraphModel, options: FromTfjsOptions = {}): Promise<E.Either<AttributionError, ModelVariants<tf.Tensor>>> => {
  const graph = isGraphModel(model) ? (model as GraphModel) : undefined
  let layers: readonly string[]
  try {
    layers = graph !== undefined ? await parameterisedNodeNames(graph) : parameterisedLayerNames(model as LayersModel)
  } catch (e) {
    return E.left(err('BadModel', `cannot list this model's weights: ${e instanceof Error ? e.message : String(e)}`, ['model']))
  }
  return E.right({
    layers,
    randomized: async (names, seed): Promise<E.Either<AttributionError, Model<tf.Tensor>>> => {
      const copy: E.Either<AttributionError, LayersModel | GraphModel> = graph !== undefined
        ? await withRandomizedGraphWeights(graph, { layers: names, seed })
        : await withRandomizedWeights(model as LayersModel, { layers: names, seed })
      if (E.isLeft(copy)) return copy
      const m = fromTfjs(copy.right, options)
      return E.right({
        ...m,
        dispose: async () => {
          await m.dispose()
          copy.right.dispose()
        },
      })
    },
  })
}
