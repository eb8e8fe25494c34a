/**
 * What the tfjs backend reports about each layer ({@link LayerInfo}), per model kind:
 * - LayersModel: the layer's class name (`Conv2D`, `Dense`, …), its output dtype and shape (batch
 *   dim left out), the inbound layers' names, and the layout: layers with a `dataFormat`
 *   (convolutions, pooling, up-sampling, padding, cropping) are `NHWC` for tfjs's default
 *   `channelsLast` and `NCHW` for `channelsFirst`; layers that keep the layout of what they read
 *   (activations, dropout, normalisation, merges) inherit it from their first inbound layer of the
 *   same rank.
 * - GraphModel: the node's op, its input nodes (constants left out) and the `data_format` attribute
 *   of convolution and pooling ops (TensorFlow's default is `NHWC`), inherited through elementwise
 *   ops; dtype and shape are read from the node attributes when present.
 * - tapped function: only the names are known (`opType: 'tap'`).
 *
 * @internal
 */
import type { LayersModel } from '@tensorflow/tfjs-layers'
import type { LayerInfo, Layout } from '../../core/backend.js'
import type { DType } from '../../core/tensor.js'

const tfDType = (d: unknown): DType | null =>
  d === 'float32' ? 'float32' : d === 'int32' ? 'int32' : d === 'bool' ? 'bool' : null

/** tfjs-layers classes whose output keeps the layout of their (first) input. */
const LAYERS_KEEPING_LAYOUT = new Set([
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU', 'Softmax', 'Dropout', 'SpatialDropout1D',
  'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'BatchNormalization', 'LayerNormalization',
  'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Masking',
])

/** The first shape of a layer's `outputShape` (a layer with several outputs reports a list). */
const firstShape = (s: unknown): readonly (number | null)[] | null => {
  if (!Array.isArray(s)) return null
  if (s.length > 0 && Array.isArray(s[0])) return firstShape(s[0])
  return s.every((d) => d === null || typeof d === 'number') ? (s as (number | null)[]) : null
}

/** A layer's output shape, or null when tfjs cannot say (e.g. a layer applied more than once). */
const outputShapeOf = (l: LayersModel['layers'][number]): readonly (number | null)[] | null => {
  try {
    return firstShape(l.outputShape)
  } catch {
    return null
  }
}

const outputDTypeOf = (l: LayersModel['layers'][number]): DType | null => {
  try {
    const o = l.output
    return tfDType(Array.isArray(o) ? o[0]?.dtype : o.dtype)
  } catch {
    return null
  }
}

/** The {@link LayerInfo} of every layer of a LayersModel except its input layers, in model order. */
export const layersModelInfo = (m: LayersModel): LayerInfo[] => {
  const layouts = new Map<string, { layout: Layout; rank: number | undefined }>()
  const out: LayerInfo[] = []
  for (const l of m.layers) {
    if (l.getClassName() === 'InputLayer') continue
    const shape = outputShapeOf(l)
    const rank = shape?.length
    const inputs = [...new Set((l.inboundNodes[0]?.inboundLayers ?? []).map((x) => x.name))]
    const format = (l as unknown as { dataFormat?: unknown }).dataFormat
    let layout: Layout = 'other'
    if (typeof format === 'string' && (rank === undefined || rank >= 3)) layout = format === 'channelsFirst' ? 'NCHW' : 'NHWC'
    else if (LAYERS_KEEPING_LAYOUT.has(l.getClassName())) {
      const from = inputs.map((i) => layouts.get(i)).find((x) => x !== undefined && x.layout !== 'other' && (rank === undefined || x.rank === rank))
      layout = from?.layout ?? 'other'
    }
    layouts.set(l.name, { layout, rank })
    out.push({
      name: l.name,
      opType: l.getClassName(),
      dtype: outputDTypeOf(l),
      shape: shape === null ? null : shape.slice(1),
      layout,
      inputs,
    })
  }
  return out
}

/** A GraphModel topology node, as `model.json` stores it. */
export interface GraphNodeInfo {
  readonly name: string
  readonly op: string
  readonly input?: readonly string[]
  readonly attr?: Readonly<Record<string, unknown>>
}

/** Graph ops that carry a `data_format` attribute (TensorFlow's default for them is NHWC). */
const GRAPH_FORMATTED = new Set([
  'Conv1D', 'Conv2D', 'Conv3D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'Conv2DBackpropInput',
  'MaxPool', 'MaxPoolV2', 'MaxPool3D', 'AvgPool', 'AvgPool3D', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3',
  'BiasAdd', 'DepthToSpace', 'SpaceToDepth',
])

/** Graph ops whose output keeps the layout of their first non-constant input. */
const GRAPH_KEEPING_LAYOUT = new Set([
  'Relu', 'Relu6', 'LeakyRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'Softplus', 'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv',
  'Maximum', 'Minimum', 'Identity', 'Pad', 'PadV2', 'MirrorPad', 'ResizeBilinear', 'ResizeNearestNeighbor', 'ClipByValue',
  'Prelu', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Neg', 'Abs', 'Cast',
])

/** An attribute's string value (`model.json` stores strings base64-encoded, as protobuf JSON does). */
const attrString = (attr: Readonly<Record<string, unknown>> | undefined, key: string): string | undefined => {
  const s = (attr?.[key] as { s?: unknown } | undefined)?.s
  if (typeof s !== 'string') return undefined
  try {
    return atob(s)
  } catch {
    return s
  }
}

const GRAPH_DTYPES: Readonly<Record<string, DType>> = { DT_FLOAT: 'float32', DT_INT32: 'int32', DT_BOOL: 'bool', DT_INT64: 'int64' }

/** The node's output dtype from its `T` (or `dtype`) attribute, when present. */
const graphDType = (attr: Readonly<Record<string, unknown>> | undefined): DType | null => {
  const t = (attr?.['T'] as { type?: unknown } | undefined)?.type ?? (attr?.['dtype'] as { type?: unknown } | undefined)?.type
  return typeof t === 'string' ? GRAPH_DTYPES[t] ?? null : null
}

/** The node's first output shape from `_output_shapes`, when the converter kept it (batch dim left out). */
const graphShape = (attr: Readonly<Record<string, unknown>> | undefined): (number | null)[] | null => {
  const list = (attr?.['_output_shapes'] as { list?: { shape?: readonly { dim?: readonly { size?: unknown }[]; unknownRank?: boolean }[] } } | undefined)?.list?.shape
  const s = list?.[0]
  if (s === undefined || s.unknownRank === true) return null
  const dims = (s.dim ?? []).map((d) => {
    const n = Number(d.size)
    return Number.isFinite(n) && n >= 0 ? n : null
  })
  return dims.slice(1)
}

/** The node a graph input reference names (`^ctrl`, `name:1` → `ctrl`, `name`). */
const nodeOf = (ref: string): string => ref.replace(/^\^/, '').replace(/:\d+$/, '')

/** The {@link LayerInfo} of every node of a GraphModel except constants and placeholders. */
export const graphModelInfo = (nodes: readonly GraphNodeInfo[]): LayerInfo[] => {
  const constants = new Set(nodes.filter((n) => n.op === 'Const').map((n) => n.name))
  const layouts = new Map<string, Layout>()
  const out: LayerInfo[] = []
  for (const n of nodes) {
    const inputs = [...new Set((n.input ?? []).filter((i) => !i.startsWith('^')).map(nodeOf).filter((i) => !constants.has(i)))]
    let layout: Layout = 'other'
    if (GRAPH_FORMATTED.has(n.op)) layout = (attrString(n.attr, 'data_format') ?? 'NHWC').startsWith('NC') ? 'NCHW' : 'NHWC'
    else if (GRAPH_KEEPING_LAYOUT.has(n.op)) layout = inputs.map((i) => layouts.get(i)).find((x) => x !== undefined && x !== 'other') ?? 'other'
    layouts.set(n.name, layout)
    if (n.op === 'Const' || n.op === 'Placeholder') continue
    out.push({ name: n.name, opType: n.op, dtype: graphDType(n.attr), shape: graphShape(n.attr), layout, inputs })
  }
  return out
}

/** Name-only entries, for tapped functions (their producers are not known). */
export const tappedInfo = (names: readonly string[]): LayerInfo[] =>
  names.map((name) => ({ name, opType: 'tap', dtype: null, shape: null, layout: 'other', inputs: [] }))
