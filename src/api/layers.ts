/**
 * Layer discovery: which internal tensors a model exposes, what computes them, their shapes and
 * channel layouts ({@link LayerInfo}, reported by each backend in `signature.layerInfo`), and the
 * helpers layer methods use to turn what a user says ("the last convolution", "the input of
 * fc2") into the tensor name a pipeline needs.
 *
 * @example
 * const conv = findLayers(model, { opType: 'Conv', last: true })[0]!.name   // '/conv2/Conv_output_0'
 * const cam = await new LayerGradCam(model, conv).attribute(x, { target: 3 })
 *
 * @category api
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { LayerInfo, Layout, ModelSignature } from '../core/backend.js'
import { ClarusError, err, invalidSpec, type AttributionError } from '../core/errors.js'
import { nearbyNames } from '../core/names.js'

/** Anything with a signature: a {@link Model} of any backend. */
export interface HasSignature {
  readonly signature: ModelSignature
}

/**
 * What {@link findLayers} filters by; every given field must match.
 * - `opType`: the producer's op type, exactly (ONNX `Conv`, tfjs `Conv2D`, …), or any of a list;
 * - `name`: a substring of the layer name, or a RegExp it must match;
 * - `layout`: `NCHW`, `NHWC` or `other`;
 * - `first` / `last`: only the first / last match in graph order (both: those two).
 */
export interface LayerQuery {
  readonly opType?: string | readonly string[]
  readonly name?: string | RegExp
  readonly layout?: Layout
  readonly first?: boolean
  readonly last?: boolean
}

/** A name-only entry, for signatures that list names without {@link LayerInfo}. */
const nameOnly = (name: string): LayerInfo => ({ name, opType: 'unknown', dtype: null, shape: null, layout: 'other', inputs: [] })

/** Every layer of the model with what its backend knows about it, in graph order. */
export const layersOf = (model: HasSignature): readonly LayerInfo[] => model.signature.layerInfo ?? model.signature.layers.map(nameOnly)

/**
 * The layers matching `query`, in graph order. `findLayers(model, { opType: 'Conv', last: true })[0]`
 * is the last convolution of an ONNX model; with an empty query every layer is listed. A query
 * field of the wrong type throws a {@link ClarusError} with an `InvalidSpec` naming it.
 */
/** What is wrong with each field of a query that came from untyped code (each issue names its field). */
const queryIssues = (q: LayerQuery): { readonly path: readonly string[]; readonly message: string }[] => {
  const o = q as Record<string, unknown>
  const isStrings = (u: unknown): boolean => typeof u === 'string' || (Array.isArray(u) && u.every((v) => typeof v === 'string'))
  return [
    o.opType === undefined || isStrings(o.opType) ? undefined : { path: ['opType'], message: `expected an op type or a list of them, got ${JSON.stringify(o.opType)}` },
    o.name === undefined || typeof o.name === 'string' || o.name instanceof RegExp ? undefined : { path: ['name'], message: `expected a substring or a RegExp, got ${JSON.stringify(o.name)}` },
    o.layout === undefined || o.layout === 'NCHW' || o.layout === 'NHWC' || o.layout === 'other' ? undefined : { path: ['layout'], message: `expected 'NCHW', 'NHWC' or 'other', got ${JSON.stringify(o.layout)}` },
    ...(['first', 'last'] as const).map((k) => (o[k] === undefined || typeof o[k] === 'boolean' ? undefined : { path: [k], message: `expected true or false, got ${JSON.stringify(o[k])}` })),
  ].filter((i): i is { path: string[]; message: string } => i !== undefined)
}

export const findLayers = (model: HasSignature, query: LayerQuery = {}): LayerInfo[] => {
  const issues = queryIssues(query)
  if (issues.length > 0) throw new ClarusError(invalidSpec(issues))
  const ops = query.opType === undefined ? undefined : typeof query.opType === 'string' ? [query.opType] : query.opType
  const byName = query.name
  const hits = layersOf(model).filter((l) =>
    (ops === undefined || ops.includes(l.opType)) &&
    (byName === undefined || (typeof byName === 'string' ? l.name.includes(byName) : new RegExp(byName.source, byName.flags.replace('g', '')).test(l.name))) &&
    (query.layout === undefined || l.layout === query.layout))
  if (query.first !== true && query.last !== true) return hits
  const picked = [...(query.first === true ? hits.slice(0, 1) : []), ...(query.last === true ? hits.slice(-1) : [])]
  return [...new Set(picked)]
}

/** @internal Up to `n` of `names` closest to `name` (see core/names.ts). */
export { nearbyNames }

const unknownLayer = (model: HasSignature, name: string, path: readonly string[]): AttributionError => {
  const names = model.signature.layers
  const near = nearbyNames(name, names)
  return err('UnknownTensor', names.length === 0
    ? `the model lists no layers, so ${JSON.stringify(name)} cannot be found; layer methods need a model with named internal tensors (an ONNX file, a tfjs LayersModel or GraphModel, or a tapped function)`
    : `no layer named ${JSON.stringify(name)}; closest names: ${near.map((x) => JSON.stringify(x)).join(', ')} (findLayers(model) lists all ${names.length})`, path)
}

/** The {@link LayerInfo} of the layer called `name`, or an `UnknownTensor` error naming the closest layers. */
export const layerInfo = (model: HasSignature, name: string, path: readonly string[] = ['layer']): E.Either<AttributionError, LayerInfo> => {
  const hit = layersOf(model).find((l) => l.name === name)
  return hit === undefined ? E.left(unknownLayer(model, name, path)) : E.right(hit)
}

/**
 * The tensor a layer reads, for Captum's `attribute_to_layer_input` / `attribute_to_neuron_input`:
 * the one float tensor among the producer's non-constant inputs ({@link LayerInfo.inputs}). Typed
 * errors: an unknown layer (`UnknownTensor`, with the closest names), a producer that reads several
 * float tensors (Captum would return a tuple; name the one you want instead) or none, a layer whose
 * producer the backend does not know (tapped functions), and a layer whose input is a model input
 * (attribute to the inputs with the primary method instead).
 */
export const layerInputOf = (model: HasSignature, layer: string): E.Either<AttributionError, string> => {
  const info = layerInfo(model, layer)
  if (E.isLeft(info)) return info
  const all = layersOf(model)
  const known = model.signature.layerInfo !== undefined && info.right.opType !== 'tap'
  if (!known) {
    return E.left(err('Unsupported', `the model does not say which tensor layer ${JSON.stringify(layer)} reads (only its name is known, as for tapped functions); name that input tensor as the layer instead`, ['layer']))
  }
  const dtypeOf = (n: string): string | null =>
    all.find((l) => l.name === n)?.dtype ?? model.signature.inputs.find((i) => i.name === n)?.dtype ?? null
  const floats = info.right.inputs.filter((n) => {
    const d = dtypeOf(n)
    return d === null || d === 'float32'
  })
  if (floats.length === 0) {
    return E.left(err('Unsupported', `layer ${JSON.stringify(layer)} (${info.right.opType}) reads no float tensor${info.right.inputs.length > 0 ? ` (its inputs: ${info.right.inputs.join(', ')})` : ''}, so it has no input to attribute to; attribute to its output instead`, ['layer']))
  }
  if (floats.length > 1) {
    return E.left(err('Unsupported', `layer ${JSON.stringify(layer)} (${info.right.opType}) reads ${floats.length} float tensors (${floats.map((f) => JSON.stringify(f)).join(', ')}); Captum would attribute to each, clarus to one: name the one you want as the layer`, ['layer']))
  }
  const input = floats[0]!
  if (!model.signature.layers.includes(input)) {
    return E.left(err('Unsupported', `the input of layer ${JSON.stringify(layer)} is the model input ${JSON.stringify(input)}, not an internal tensor: attribute to the inputs with the matching primary method (e.g. Saliency or IntegratedGradients)`, ['layer']))
  }
  return E.right(input)
}

/** The call option that moves a layer method to its layer's input (Captum's `attribute_to_layer_input`). */
export interface LayerInputOption {
  /**
   * Attribute to the tensor the layer reads instead of the one it computes (default false), as
   * Captum's `attribute_to_layer_input`; resolved with {@link layerInputOf}.
   */
  readonly attributeToLayerInput?: boolean
}

/** The call option that moves a neuron method's neuron to its layer's input (Captum's `attribute_to_neuron_input`). */
export interface NeuronInputOption {
  /**
   * Pick the neuron in the tensor the layer reads instead of the one it computes (default false),
   * as Captum's `attribute_to_neuron_input`; resolved with {@link layerInputOf}.
   */
  readonly attributeToNeuronInput?: boolean
}

/**
 * @internal
 * The layer (or layers) a class's pipeline names for these call options: `layer` itself, or, when
 * `options[key]` is true, the tensor each layer reads ({@link layerInputOf}). For the class facades:
 * a bad option or an unresolvable layer throws a {@link ClarusError}. The pipelines stay plain data
 * naming tensors.
 */
export const layerFor = <L extends string | readonly string[]>(
  model: HasSignature,
  layer: L,
  options: object,
  key: 'attributeToLayerInput' | 'attributeToNeuronInput' = 'attributeToLayerInput',
): L => {
  const flag = (options as Record<string, unknown>)[key]
  if (flag !== undefined && typeof flag !== 'boolean') throw new ClarusError(invalidSpec([{ path: [key], message: `expected true or false, got ${JSON.stringify(flag)}` }]))
  if (flag !== true) return layer
  const inputOf = (name: string): string => {
    const r = layerInputOf(model, name)
    if (E.isLeft(r)) throw new ClarusError({ ...r.left, path: [key, ...r.left.path] })
    return r.right
  }
  return (typeof layer === 'string' ? inputOf(layer) : layer.map(inputOf)) as L
}

/**
 * @internal
 * The channel layout LayerGradCam should assume for `layer` when the caller gave none: the layers'
 * {@link LayerInfo.layout} (`NHWC` for tfjs Conv2D outputs, `NCHW` for ONNX convolutions), or
 * undefined (the NCHW default) when the backend does not know. Throws a {@link ClarusError} for a
 * layer the model does not have (naming the closest ones) and for listed layers whose layouts differ.
 */
export const channelLayoutFor = (model: HasSignature, layer: string | readonly string[]): 'NCHW' | 'NHWC' | undefined => {
  const names = typeof layer === 'string' ? [layer] : layer
  const layouts = new Set<Layout>()
  for (const n of names) {
    // a model that lists no layers (a GraphModel hiding its topology) is left to the backend to check
    if (model.signature.layers.length === 0) return undefined
    const info = layerInfo(model, n)
    if (E.isLeft(info)) throw new ClarusError(info.left)
    layouts.add(info.right.layout)
  }
  const known = [...layouts].filter((l) => l !== 'other')
  if (known.length > 1) {
    throw new ClarusError(err('Unsupported', `the listed layers mix channel layouts (${known.join(', ')}); run LayerGradCam once per layout, or say which one with { layout }`, ['layout']))
  }
  return known[0] === 'NHWC' || known[0] === 'NCHW' ? known[0] : undefined
}
