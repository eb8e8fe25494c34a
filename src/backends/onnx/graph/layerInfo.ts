/**
 * What the ONNX backend reports about each layer (node output): its producing node's op type, its
 * element type and per-example shape (from the graph's `value_info` and clarus's own shape
 * inference, `shapeInference.ts`), its channel layout and the non-constant tensors the node reads.
 *
 * Layout: ONNX defines its convolution and pooling family channels-first, so their outputs are
 * `NCHW`; ops that keep the layout of what they read (activations, elementwise arithmetic, padding,
 * resizing, concatenation, …) inherit it from their first non-constant input of the same rank, so
 * the ReLU after a Conv is `NCHW` too. Everything else is `other`.
 *
 * @internal
 */
import type { LayerInfo, Layout } from '../../../core/backend.js'
import type { Graph } from './ir.js'
import { inferTypes, isConstant, producers } from './shapeInference.js'
import { dtypeOfElem } from './signature.js'

/** Ops whose output is channels-first by the ONNX spec (for rank ≥ 3). */
const CHANNELS_FIRST = new Set([
  'Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool',
  'GlobalMaxPool', 'GlobalLpPool', 'MaxUnpool', 'MaxRoiPool', 'BatchNormalization', 'InstanceNormalization', 'LRN',
  'SpaceToDepth', 'DepthToSpace', 'DeformConv',
])

/** Ops whose output keeps the layout of their first non-constant input of the same rank. */
const KEEPS_LAYOUT = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh',
  'Softplus', 'Softsign', 'Gelu', 'Mish', 'Clip', 'Erf', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Exp', 'Log', 'Abs',
  'Neg', 'Reciprocal', 'Identity', 'Dropout', 'Max', 'Min', 'Sum', 'Mean', 'Cast', 'Pad', 'Resize', 'Upsample', 'Concat',
  'Slice', 'Split', 'Softmax', 'LogSoftmax', 'Where', 'Floor', 'Ceil', 'Round', 'Sign',
])

/** One {@link LayerInfo} per node output of `g` (empty names skipped), in graph (topological) order. */
export const layerInfoOf = (g: Graph): LayerInfo[] => {
  const types = inferTypes(g)
  const prod = producers(g)
  const layouts = new Map<string, Layout>()
  const rankOf = (name: string): number | undefined => types.get(name)?.shape?.length
  const out: LayerInfo[] = []
  for (const n of g.nodes) {
    const inputs = n.inputs.filter((i) => i !== '' && !g.initializers.has(i) && !isConstant(g, i, prod))
    n.outputs.forEach((o) => {
      if (o === '') return
      const ty = types.get(o)
      const rank = ty?.shape?.length
      let layout: Layout = 'other'
      if (n.domain === '' && CHANNELS_FIRST.has(n.opType) && (rank === undefined || rank >= 3)) {
        // BatchNormalization and friends also run on (N, C): channels-first only with spatial dims
        layout = rank !== undefined || !['BatchNormalization', 'InstanceNormalization', 'LRN'].includes(n.opType) ? 'NCHW' : 'other'
      } else if (n.domain === '' && KEEPS_LAYOUT.has(n.opType)) {
        const from = inputs.find((i) => (layouts.get(i) ?? 'other') !== 'other' && (rank === undefined || rankOf(i) === rank))
        layout = from === undefined ? 'other' : layouts.get(from)!
      }
      layouts.set(o, layout)
      out.push({
        name: o,
        opType: n.opType,
        dtype: dtypeOfElem(ty?.elemType ?? null),
        shape: ty?.shape == null ? null : ty.shape.slice(1),
        layout,
        inputs,
      })
    })
  }
  return out
}
