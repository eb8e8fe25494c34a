/**
 * upgradeOpset: a canonizer (pure Graph → Graph, forward pass preserved) that rewrites a graph of
 * default-domain opset 7…12 into the same computation at opset 13 (or 14…16, whose changes are
 * compatible), so that the gradient rules, which emit opset-13 forms (ReduceSum / Squeeze / Unsqueeze
 * axes as inputs), can run on models exported at old opsets. Like the ONNX version converter it
 * rewrites only the ops whose signature or semantics changed: attributes that became inputs (Clip,
 * Slice, Pad, Squeeze, Unsqueeze, ReduceSum, Split, TopK, Dropout, Upsample → Resize), the 2-D
 * coercion of Softmax / LogSoftmax / Hardmax before 13, removed attributes (BatchNormalization's
 * `spatial`) and renamed ops (Scatter → ScatterElements). Ops that are identical across these
 * versions pass through unchanged; any other op is reported, all such nodes at once, as Unsupported.
 *
 * Node names are kept; nodes and tensors the rewrite adds are named `clarus_upgrade/…`.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../../core/errors.js'
import { attr, ElemType, getAttr, nodeReads, opsetOf, type Attribute, type Graph, type Node } from './ir.js'
import type { TensorProto } from './proto.js'
import { constValue, inferTypes, producers, type TypeInfo } from './shapeInference.js'

const PREFIX = 'clarus_upgrade/'

/** Ops whose behaviour (with the attributes a valid opset 7…12 model can carry) is the same at 13…16. */
const PASS_THROUGH: ReadonlySet<string> = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool', 'BitShift',
  'Cast', 'Ceil', 'Celu', 'Compress', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'ConvInteger', 'ConvTranspose', 'Cos',
  'Cosh', 'CumSum', 'DepthToSpace', 'DequantizeLinear', 'Det', 'Div', 'DynamicQuantizeLinear', 'Einsum', 'Elu', 'Equal', 'Erf',
  'Exp', 'Expand', 'EyeLike', 'Flatten', 'Floor', 'GRU', 'Gather', 'GatherElements', 'GatherND', 'Gemm', 'GlobalAveragePool',
  'GlobalLpPool', 'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'HardSigmoid', 'Identity', 'InstanceNormalization', 'IsInf',
  'IsNaN', 'LRN', 'LSTM', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log', 'LpNormalization', 'LpPool', 'MatMul', 'MatMulInteger',
  'Max', 'MaxPool', 'MaxRoiPool', 'MaxUnpool', 'Mean', 'MeanVarianceNormalization', 'Min', 'Mod', 'Mul', 'Multinomial', 'Neg',
  'NonMaxSuppression', 'NonZero', 'Not', 'OneHot', 'Or', 'PRelu', 'Pow', 'QLinearConv', 'QLinearMatMul', 'QuantizeLinear', 'RNN',
  'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Range', 'Reciprocal', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'Relu', 'Reshape',
  'ReverseSequence', 'RoiAlign', 'Round', 'ScatterElements', 'ScatterND', 'Selu', 'Shape', 'Shrink', 'Sigmoid', 'Sign', 'Sin',
  'Sinh', 'Size', 'Softplus', 'Softsign', 'SpaceToDepth', 'Sqrt', 'StringNormalizer', 'Sub', 'Sum', 'Tan', 'Tanh',
  'TfIdfVectorizer', 'ThresholdedRelu', 'Tile', 'Transpose', 'Unique', 'Where', 'Xor',
])

/** Ops whose form changed at opset 7 or earlier (broadcast attrs, consumed_inputs, …): only 7+ sources are handled. */
const CHANGED_BEFORE_7: ReadonlySet<string> = new Set([
  'Abs', 'Add', 'And', 'AveragePool', 'BatchNormalization', 'Cast', 'Ceil', 'Clip', 'Concat', 'Div', 'Dropout', 'Elu', 'Equal',
  'Exp', 'Floor', 'GRU', 'Gemm', 'Greater', 'HardSigmoid', 'InstanceNormalization', 'LSTM', 'LeakyRelu', 'Less', 'Log', 'Max',
  'Mean', 'Min', 'Mul', 'Neg', 'Or', 'PRelu', 'Pad', 'Pow', 'RNN', 'Reciprocal', 'Relu', 'Reshape', 'Selu', 'Sigmoid', 'Split',
  'Sqrt', 'Sub', 'Sum', 'Tanh', 'Tile', 'Upsample', 'Xor',
])

/** What a rewrite of one node sees. */
interface Cx {
  readonly source: number
  readonly target: number
  readonly types: ReadonlyMap<string, TypeInfo>
  /** A fresh tensor / node name derived from the node being rewritten. */
  fresh(what: string): string
  /** True when a tensor is read by some node or is a graph output. */
  used(name: string): boolean
  /** Constant value of a tensor of the original graph, when it is one. */
  constant(name: string): readonly number[] | undefined
}

/** A rewrite: the replacement nodes, or the reason the node cannot be upgraded. */
type Rewrite = (n: Node, cx: Cx) => readonly Node[] | string

const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)

/** Attribute ints are JS numbers (±2^63 sentinels round up); clamp them back into int64 as exact strings. */
const int64String = (v: number): string => {
  if (!Number.isFinite(v)) return (v > 0 ? INT64_MAX : INT64_MIN).toString()
  const b = BigInt(Math.trunc(v))
  return (b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b).toString()
}

const constNode = (name: string, t: TensorProto): Node => ({
  name: `${name}/node`, opType: 'Constant', domain: '', inputs: [], outputs: [name], attributes: [attr.tensor('value', t)],
})

const int64Const = (name: string, values: readonly number[], dims: readonly number[] = [values.length]): Node =>
  constNode(name, { dims: [...dims], dataType: ElemType.INT64, int64Data: values.map(int64String) })

/** A scalar constant of a tensor's element type; undefined for types this module does not write. */
const scalarConst = (name: string, value: number, elemType: number | null): Node | undefined => {
  switch (elemType ?? ElemType.FLOAT) {
    case ElemType.FLOAT: return constNode(name, { dims: [], dataType: ElemType.FLOAT, floatData: [value] })
    case ElemType.DOUBLE: return constNode(name, { dims: [], dataType: ElemType.DOUBLE, doubleData: [value] })
    case ElemType.INT32: case ElemType.INT8: case ElemType.UINT8: return constNode(name, { dims: [], dataType: elemType ?? ElemType.INT32, int32Data: [value] })
    case ElemType.INT64: return constNode(name, { dims: [], dataType: ElemType.INT64, int64Data: [int64String(value)] })
    default: return undefined
  }
}

const without = (n: Node, names: readonly string[]): readonly Attribute[] => n.attributes.filter((a) => !names.includes(a.name))
const elemOf = (cx: Cx, t: string | undefined): number | null => (t === undefined ? null : cx.types.get(t)?.elemType ?? null)

/** `attrName` (ints) becomes input `index` (int64); an absent attribute leaves the input absent. */
const intsToInput = (attrName: string, index: number, since: number): Rewrite => (n, cx) => {
  if (cx.target < since || cx.source >= since) return [n]
  const v = getAttr.ints(n, attrName)
  if (v === undefined) return [{ ...n, attributes: without(n, [attrName]) }]
  const c = int64Const(cx.fresh(attrName), v)
  const inputs = [...n.inputs]
  while (inputs.length < index) inputs.push('')
  inputs[index] = c.outputs[0] as string
  return [c, { ...n, inputs, attributes: without(n, [attrName]) }]
}

/** Clip-6 `min`/`max` attributes → optional inputs 1 and 2 (opset 11). */
const clip: Rewrite = (n, cx) => {
  const et = elemOf(cx, n.inputs[0])
  const out: Node[] = []
  const inputs = [n.inputs[0] ?? '', '', '']
  for (const [i, name] of [[1, 'min'], [2, 'max']] as const) {
    if (!getAttr.has(n, name)) continue
    const c = scalarConst(cx.fresh(name), getAttr.float(n, name, 0), et)
    if (c === undefined) return `Clip of element type ${et ?? '?'}`
    out.push(c)
    inputs[i] = c.outputs[0] as string
  }
  while (inputs.length > 1 && inputs[inputs.length - 1] === '') inputs.pop()
  return [...out, { ...n, inputs, attributes: without(n, ['min', 'max']) }]
}

/** Slice-1 `starts`/`ends`/`axes` attributes → inputs 1…3 (opset 10). */
const slice: Rewrite = (n, cx) => {
  if (cx.source >= 10) return [n]
  const starts = getAttr.ints(n, 'starts')
  const ends = getAttr.ints(n, 'ends')
  if (starts === undefined || ends === undefined) return 'Slice without starts/ends'
  const axes = getAttr.ints(n, 'axes')
  const cs = [int64Const(cx.fresh('starts'), starts), int64Const(cx.fresh('ends'), ends), ...(axes === undefined ? [] : [int64Const(cx.fresh('axes'), axes)])]
  return [...cs, { ...n, inputs: [n.inputs[0] ?? '', ...cs.map((c) => c.outputs[0] as string)], attributes: [] }]
}

/**
 * Softmax / LogSoftmax / Hardmax before 13 coerce x to 2-D at `axis` (default 1). When `axis` is the
 * last axis that is the opset-13 op on that axis; otherwise Flatten(axis) → op(axis=-1) → Reshape(Shape(x)).
 */
const coerced2d: Rewrite = (n, cx) => {
  if (cx.source >= 13) return [n]
  const x = n.inputs[0] ?? ''
  const y = n.outputs[0] ?? ''
  const axis = getAttr.int(n, 'axis', 1)
  const rank = cx.types.get(x)?.shape?.length
  const last = axis === -1 || (rank !== undefined && (axis < 0 ? axis + rank : axis) === rank - 1)
  if (last) return [{ ...n, attributes: [...without(n, ['axis']), attr.int('axis', -1)] }]
  const flat = cx.fresh('flat')
  const inner = cx.fresh('out2d')
  const shape = cx.fresh('shape')
  return [
    { name: `${flat}/node`, opType: 'Flatten', domain: '', inputs: [x], outputs: [flat], attributes: [attr.int('axis', axis)] },
    { ...n, inputs: [flat], outputs: [inner], attributes: [...without(n, ['axis']), attr.int('axis', -1)] },
    { name: `${shape}/node`, opType: 'Shape', domain: '', inputs: [x], outputs: [shape], attributes: [] },
    { name: cx.fresh('reshape'), opType: 'Reshape', domain: '', inputs: [inner, shape], outputs: [y], attributes: [] },
  ]
}

/** Pad-2 `pads`/`value` attributes → inputs 1 and 2 (opset 11); `mode` stays an attribute. */
const pad: Rewrite = (n, cx) => {
  if (cx.source >= 11) return [n]
  const pads = getAttr.ints(n, 'pads') ?? getAttr.ints(n, 'paddings')
  if (pads === undefined) return 'Pad without pads'
  const p = int64Const(cx.fresh('pads'), pads)
  const value = getAttr.float(n, 'value', 0)
  const rest = without(n, ['pads', 'paddings', 'value'])
  if (value === 0) return [p, { ...n, inputs: [n.inputs[0] ?? '', p.outputs[0] as string], attributes: rest }]
  const et = elemOf(cx, n.inputs[0])
  const v = scalarConst(cx.fresh('value'), value, et)
  if (v === undefined) return `Pad of element type ${et ?? '?'}`
  return [p, v, { ...n, inputs: [n.inputs[0] ?? '', p.outputs[0] as string, v.outputs[0] as string], attributes: rest }]
}

/**
 * Dropout-7/10 `ratio` attribute → input 1 (opset 12); inference mode (training_mode absent) is the
 * identity. The inference-mode mask was unspecified before 12 (onnxruntime returns all false at 10,
 * opset 12 says all true), so a Dropout whose mask is read is not rewritten.
 */
const dropout: Rewrite = (n, cx) => {
  if (cx.source >= 12) return [n]
  const mask = n.outputs[1]
  if (mask !== undefined && mask !== '' && cx.used(mask)) return 'Dropout whose mask output is read (its inference value changed at opset 12)'
  const r = scalarConst(cx.fresh('ratio'), getAttr.float(n, 'ratio', 0.5), ElemType.FLOAT)
  if (r === undefined) return 'Dropout'
  return [r, { ...n, inputs: [n.inputs[0] ?? '', r.outputs[0] as string], attributes: without(n, ['ratio', 'is_test']) }]
}

/** BatchNormalization-7 `spatial` (removed at 9): 1 is the only behaviour left. */
const batchNorm: Rewrite = (n) => {
  if (getAttr.int(n, 'spatial', 1) !== 1) return 'BatchNormalization with spatial=0'
  return [{ ...n, attributes: without(n, ['spatial']) }]
}

/** TopK-1 `k` attribute → input 1 (opset 10, int64 [1]). */
const topK: Rewrite = (n, cx) => {
  if (cx.source >= 10) return [n]
  const k = int64Const(cx.fresh('k'), [getAttr.int(n, 'k', 1)])
  return [k, { ...n, inputs: [n.inputs[0] ?? '', k.outputs[0] as string], attributes: without(n, ['k']) }]
}

/**
 * Upsample-7/9 and Resize-10 → Resize-13 with the coordinate mapping they used ('asymmetric', and
 * floor for 'nearest'). Only constant scales ≥ 1 are handled (that is where the old ops agree).
 */
const upsample: Rewrite = (n, cx) => {
  if (n.opType === 'Resize' && cx.source >= 11) return [n]
  const attrScales = getAttr.floats(n, 'scales')
  const scales = attrScales ?? (n.inputs[1] === undefined || n.inputs[1] === '' ? undefined : cx.constant(n.inputs[1]))
  if (scales === undefined) return `${n.opType} with non-constant scales`
  if (scales.some((s) => s < 1)) return `${n.opType} with a scale below 1`
  const mode = getAttr.string(n, 'mode', 'nearest')
  if (mode !== 'nearest' && mode !== 'linear') return `${n.opType} with mode '${mode}'`
  const out: Node[] = []
  let scalesName = n.inputs[1] ?? ''
  if (attrScales !== undefined) {
    const s = constNode(cx.fresh('scales'), { dims: [attrScales.length], dataType: ElemType.FLOAT, floatData: attrScales })
    out.push(s)
    scalesName = s.outputs[0] as string
  }
  const attrs = [
    attr.string('mode', mode),
    attr.string('coordinate_transformation_mode', 'asymmetric'),
    ...(mode === 'nearest' ? [attr.string('nearest_mode', 'floor')] : []),
  ]
  return [...out, { ...n, opType: 'Resize', inputs: [n.inputs[0] ?? '', '', scalesName], attributes: attrs }]
}

/** Scatter-9 was renamed ScatterElements at 11 (same semantics). */
const scatter: Rewrite = (n) => [{ ...n, opType: 'ScatterElements' }]

const REWRITES: Readonly<Record<string, Rewrite>> = {
  Clip: (n, cx) => (cx.source >= 11 ? [n] : clip(n, cx)),
  Slice: slice,
  Softmax: coerced2d,
  LogSoftmax: coerced2d,
  Hardmax: coerced2d,
  Squeeze: intsToInput('axes', 1, 13),
  Unsqueeze: intsToInput('axes', 1, 13),
  ReduceSum: intsToInput('axes', 1, 13),
  Split: intsToInput('split', 1, 13),
  Pad: pad,
  Dropout: dropout,
  BatchNormalization: batchNorm,
  TopK: topK,
  Upsample: upsample,
  Resize: upsample,
  Scatter: scatter,
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_.\-/]/g, '_')

/**
 * Rewrites a graph of default-domain opset < `target` into an equivalent graph at opset `target`
 * (13…16). Graphs already at `target` or above come back unchanged.
 */
export const upgradeOpset = (graph: Graph, target = 13): E.Either<AttributionError, Graph> => {
  const source = opsetOf(graph, '')
  if (source >= target || source === 0) return E.right(graph)
  if (target < 13 || target > 16) {
    return E.left(err('Unsupported', `upgradeOpset targets opsets 13…16, not ${target}`, ['graph', 'opset']))
  }
  const types = inferTypes(graph)
  const prod = producers(graph)
  const read = new Set([...graph.nodes.flatMap(nodeReads), ...graph.outputs.map((o) => o.name)])
  const bad: string[] = []
  const nodes: Node[] = []
  graph.nodes.forEach((n, i) => {
    if (n.domain !== '') {
      nodes.push(n)
      return
    }
    let counter = 0
    const base = `${PREFIX}${sanitize(n.name || `n${i}_${n.opType}`)}`
    const cx: Cx = {
      source,
      target,
      types,
      fresh: (what) => `${base}/${what}_${counter++}`,
      used: (name) => read.has(name),
      constant: (name) => constValue(graph, name, prod)?.values,
    }
    const rewrite = REWRITES[n.opType]
    let reason: string | undefined
    if (source < 7 && CHANGED_BEFORE_7.has(n.opType)) reason = `${n.opType} changed before opset 7 (opset ${source} model)`
    else if (n.opType === 'RoiAlign' && target >= 16) reason = 'RoiAlign changed its coordinate mapping at opset 16'
    else if (rewrite !== undefined) {
      const r = rewrite(n, cx)
      if (typeof r === 'string') reason = r
      else nodes.push(...r)
    } else if (PASS_THROUGH.has(n.opType)) nodes.push(n)
    else reason = `no opset ${source} → ${target} upgrade for ${n.opType}`
    if (reason !== undefined) bad.push(`'${n.name || `#${i}`}' (${n.opType}): ${reason}`)
  })
  if (bad.length > 0) {
    return E.left(err('Unsupported', `cannot upgrade this opset-${source} model to opset ${target}: ${bad.length} node(s) have no upgrade: ${bad.join('; ')}; re-export the model with opset >= ${target}`, ['graph', 'nodes']))
  }
  return E.right({
    ...graph,
    nodes,
    opsetImports: graph.opsetImports.map((o) => (o.domain === '' ? { ...o, version: target } : o)),
    irVersion: Math.max(graph.irVersion, 7),
  })
}
