/**
 * GradContext: what a gradient rule sees of one forward node, in ORT's accessor vocabulary
 * (`I(i)`, `O(i)`, `GO(i)`, `IsGradientRequiredForSrcNodeInput(i)`, `IA(name)`), plus opset-aware
 * emitters for the ops whose form changed across opsets (ReduceSum/ReduceMean axes, Squeeze/Unsqueeze
 * axes) and `reduceBroadcast`. All names it generates are unique and deterministic.
 *
 * @internal
 */
import { attr, ElemType, getAttr, type Attribute, type Dim, type Graph, type Node } from '../graph/ir.js'
import { constValue, type TypeInfo } from '../graph/shapeInference.js'
import type { TensorProto } from '../graph/proto.js'
import type { OnnxDevice } from '../device.js'

/** Thrown inside a rule when it cannot handle a node; the builder turns it into an `Unsupported` error. */
export class GradBuildError extends Error {
  override readonly name = 'GradBuildError'
}

/** State shared by the contexts of one `buildBackward` call (never global). */
export interface GradEnv {
  readonly graph: Graph
  readonly types: ReadonlyMap<string, TypeInfo>
  readonly producers: ReadonlyMap<string, Node>
  /** Standard-domain opset the emitted ops must be valid for. */
  readonly opset: number
  /** Highest opset some rule asked for (see `requireOpset`). */
  requiredOpset: number
  /** Where the graph will run (default 'cpu'); see {@link GradContext.device}. */
  readonly device?: OnnxDevice
}

export interface GradContext {
  /** The forward node. */
  readonly fwd: Node
  /** Standard-domain opset of the graph. */
  readonly opset: number
  /**
   * The device the backward graph will run on. A rule may choose between equivalent formulations by
   * it, where one uses something that device's runtime lacks (ONNX Runtime's WebGPU MaxPool has no
   * Indices output); the result must be the same on every device.
   */
  readonly device: OnnxDevice
  readonly inputCount: number
  input(i: number): string
  /** Forward output `i`; an absent optional output (e.g. MaxPool Indices) is added to the forward node. */
  output(i: number): string
  /** Cotangent of forward output `i` (a zero tensor when nothing flows into it). */
  gradOfOutput(i: number): string
  hasGradOfOutput(i: number): boolean
  isGradRequired(i: number): boolean
  /** A fresh unique tensor name. */
  tmp(name: string): string
  /** A scalar or 1-D float constant with the element type of `like` (float32 when omitted). */
  constant(value: number | readonly number[], like?: string, shape?: readonly number[]): string
  /** An int64 constant (1-D unless `shape` is given). */
  int64(values: readonly number[], shape?: readonly number[]): string
  /** Emits one node and returns its first output. */
  node(opType: string, inputs: readonly string[], attrs?: readonly Attribute[]): string
  /** Emits one node with `nOutputs` outputs and returns their names. */
  nodeN(opType: string, inputs: readonly string[], attrs: readonly Attribute[], nOutputs: number): string[]
  /** Sums `grad` (shaped like `fromShape`, default: forward output 0) down to the shape of `toShapeOf`. */
  reduceBroadcast(grad: string, toShapeOf: string, fromShape?: readonly Dim[] | null): string
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string
  unsqueeze(x: string, axes: readonly number[]): string
  squeeze(x: string, axes: readonly number[]): string
  /** ConstantOfShape(Shape(like)) with value 0 of like's element type (on WebGPU: a float zero Expanded to Shape(like)). */
  zerosLike(like: string): string
  /** Static shape of a forward tensor (null = unknown rank). */
  shapeOf(name: string): readonly Dim[] | null
  /** Static rank of a forward tensor; fails the rule when unknown. */
  rankOf(name: string): number
  elemTypeOf(name: string): number
  /** Constant value of a forward tensor, when it is one. */
  constValue(name: string): readonly number[] | undefined
  attrInt(name: string, dflt: number): number
  attrFloat(name: string, dflt: number): number
  attrInts(name: string): readonly number[] | undefined
  attrString(name: string, dflt: string): string
  /** Records that the emitted ops need at least this standard opset. */
  requireOpset(v: number): void
  fail(message: string): never
}

/**
 * The element count of `x` as an int64 scalar: Size(x), or on WebGPU the product of Shape(x). The
 * WebGPU provider has no Size kernel, and ONNX Runtime would copy all of `x` to the host to count it
 * there; Shape runs on the GPU (it reads only the dims), and the product of the dims is host work.
 */
export const elementCount = (g: GradContext, x: string): string =>
  g.device === 'webgpu' ? g.node('ReduceProd', [g.node('Shape', [x])], [attr.int('keepdims', 0)]) : g.node('Size', [x])

export interface GradContextResult {
  readonly nodes: readonly Node[]
  /** The forward node with any outputs the rule materialised (same object when unchanged). */
  readonly forward: Node
}

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_.\-]/g, '_')

const floatTensor = (values: readonly number[], shape: readonly number[] | undefined, elemType: number): TensorProto =>
  elemType === ElemType.DOUBLE
    ? { dims: shape ?? [], dataType: ElemType.DOUBLE, doubleData: values }
    : { dims: shape ?? [], dataType: ElemType.FLOAT, floatData: values }

/**
 * Builds the context for forward node `fwd` (the `index`-th node of the graph). `grads[i]` is the
 * accumulated cotangent of output i (undefined when none), `required[i]` whether input i needs one.
 */
export const makeGradContext = (
  env: GradEnv,
  fwd0: Node,
  index: number,
  grads: readonly (string | undefined)[],
  required: readonly boolean[],
): { readonly ctx: GradContext; readonly result: () => GradContextResult } => {
  const prefix = `clarus_grad/n${index}_${sanitize(fwd0.name || fwd0.opType)}/`
  const nodes: Node[] = []
  let fwd = fwd0
  let counter = 0
  const zeros = new Map<number, string>()
  const tmp = (name: string): string => `${prefix}${sanitize(name)}_${counter++}`
  const fail = (message: string): never => {
    throw new GradBuildError(`${fwd0.opType} node '${fwd0.name}': ${message}`)
  }
  const nodeN = (opType: string, inputs: readonly string[], attrs: readonly Attribute[], n: number): string[] => {
    const outs = Array.from({ length: n }, () => tmp(opType))
    nodes.push({ name: tmp(`node_${opType}`), opType, domain: '', inputs: [...inputs], outputs: outs, attributes: [...attrs] })
    return outs
  }
  const node = (opType: string, inputs: readonly string[], attrs: readonly Attribute[] = []): string =>
    nodeN(opType, inputs, attrs, 1)[0] as string
  const elemTypeOf = (name: string): number => env.types.get(name)?.elemType ?? ElemType.FLOAT
  const int64 = (values: readonly number[], shape?: readonly number[]): string =>
    node('Constant', [], [attr.tensor('value', { dims: shape ?? [values.length], dataType: ElemType.INT64, int64Data: values.map((v) => String(v)) })])
  const constant = (value: number | readonly number[], like?: string, shape?: readonly number[]): string => {
    const et = like === undefined ? ElemType.FLOAT : elemTypeOf(like)
    const values = typeof value === 'number' ? [value] : value
    const sh = shape ?? (typeof value === 'number' ? [] : [values.length])
    if (et === ElemType.FLOAT || et === ElemType.DOUBLE) return node('Constant', [], [attr.tensor('value', floatTensor(values, sh, et))])
    const f = node('Constant', [], [attr.tensor('value', floatTensor(values, sh, ElemType.FLOAT))])
    return node('Cast', [f], [attr.int('to', et)])
  }
  const shapeOf = (name: string): readonly Dim[] | null => env.types.get(name)?.shape ?? null
  const rankOf = (name: string): number => {
    const s = shapeOf(name)
    return s === null ? fail(`the rank of tensor '${name}' is unknown; add shape information (value_info) to the model`) : s.length
  }
  const reduceSum = (x: string, axes: readonly number[], keepdims: boolean): string =>
    env.opset >= 13
      ? node('ReduceSum', [x, int64(axes)], [attr.int('keepdims', keepdims ? 1 : 0)])
      : node('ReduceSum', [x], [attr.ints('axes', axes), attr.int('keepdims', keepdims ? 1 : 0)])
  const reduceMean = (x: string, axes: readonly number[], keepdims: boolean): string =>
    env.opset >= 18
      ? node('ReduceMean', [x, int64(axes)], [attr.int('keepdims', keepdims ? 1 : 0)])
      : node('ReduceMean', [x], [attr.ints('axes', axes), attr.int('keepdims', keepdims ? 1 : 0)])
  const unsqueeze = (x: string, axes: readonly number[]): string =>
    env.opset >= 13 ? node('Unsqueeze', [x, int64(axes)]) : node('Unsqueeze', [x], [attr.ints('axes', axes)])
  const squeeze = (x: string, axes: readonly number[]): string =>
    env.opset >= 13 ? node('Squeeze', [x, int64(axes)]) : node('Squeeze', [x], [attr.ints('axes', axes)])
  const zerosLike = (like: string): string => {
    const et = elemTypeOf(like)
    // the WebGPU provider has no ConstantOfShape: ORT would fill the zeros on the host and upload them
    if (env.device === 'webgpu' && et === ElemType.FLOAT) return node('Expand', [constant(0, like), node('Shape', [like])])
    const value = et === ElemType.DOUBLE ? floatTensor([0], [1], et) : et === ElemType.FLOAT ? floatTensor([0], [1], et) : { dims: [1], dataType: et, rawData: new Uint8Array(et === ElemType.FLOAT16 ? 2 : 8) }
    return node('ConstantOfShape', [node('Shape', [like])], [attr.tensor('value', value)])
  }
  const sameDim = (a: Dim, b: Dim): boolean => a !== null && a === b

  const reduceBroadcast = (grad: string, toShapeOf: string, fromShape?: readonly Dim[] | null): string => {
    const ys = fromShape === undefined ? shapeOf(fwd0.outputs[0] ?? '') : fromShape
    const xs = shapeOf(toShapeOf)
    if (ys === null || xs === null) return fail(`cannot undo broadcasting to '${toShapeOf}': unknown rank`)
    const lead = ys.length - xs.length
    if (lead < 0) return fail(`cannot undo broadcasting to '${toShapeOf}': it has a higher rank than the result`)
    if (lead === 0 && xs.every((d, i) => sameDim(d, ys[i] ?? null))) return grad
    const axes: number[] = Array.from({ length: lead }, (_, i) => i)
    let dynamic = false
    xs.forEach((d, i) => {
      const y = ys[i + lead] ?? null
      if (sameDim(d, y)) return
      if (d === 1) axes.push(i + lead)
      else if (typeof d !== 'number') dynamic = true
    })
    if (!dynamic) {
      const summed = axes.length === 0 ? grad : reduceSum(grad, axes, true)
      return node('Reshape', [summed, node('Shape', [toShapeOf])])
    }
    if (env.opset < 13) return fail(`undoing broadcasting to '${toShapeOf}' with unknown dims needs opset >= 13`)
    // Dynamic: sum the leading axes, then every axis where the target's runtime size is 1.
    const g1 = lead > 0 ? reduceSum(grad, axes.slice(0, lead), false) : grad
    const ones = node('Equal', [node('Shape', [toShapeOf]), int64([1], [])])
    const dynAxes = node('Reshape', [node('NonZero', [ones]), int64([-1])])
    const g2 = node('ReduceSum', [g1, dynAxes], [attr.int('keepdims', 1), attr.int('noop_with_empty_axes', 1)])
    return node('Reshape', [g2, node('Shape', [toShapeOf])])
  }

  const ctx: GradContext = {
    get fwd() {
      return fwd
    },
    opset: env.opset,
    device: env.device ?? 'cpu',
    inputCount: fwd0.inputs.length,
    input: (i) => {
      const n = fwd0.inputs[i]
      return n === undefined || n === '' ? fail(`input ${i} is absent`) : n
    },
    output: (i) => {
      const n = fwd.outputs[i]
      if (n !== undefined && n !== '') return n
      const name = `${prefix}out${i}`
      const outs = [...fwd.outputs]
      while (outs.length <= i) outs.push('')
      outs[i] = name
      fwd = { ...fwd, outputs: outs }
      return name
    },
    gradOfOutput: (i) => {
      const g = grads[i]
      if (g !== undefined) return g
      const z = zeros.get(i)
      if (z !== undefined) return z
      const made = zerosLike(ctx.output(i))
      zeros.set(i, made)
      return made
    },
    hasGradOfOutput: (i) => grads[i] !== undefined,
    isGradRequired: (i) => required[i] === true,
    tmp,
    constant,
    int64,
    node,
    nodeN,
    reduceBroadcast,
    reduceSum,
    reduceMean,
    unsqueeze,
    squeeze,
    zerosLike,
    shapeOf,
    rankOf,
    elemTypeOf,
    constValue: (name) => constValue(env.graph, name, env.producers)?.values,
    attrInt: (name, d) => getAttr.int(fwd0, name, d),
    attrFloat: (name, d) => getAttr.float(fwd0, name, d),
    attrInts: (name) => getAttr.ints(fwd0, name),
    attrString: (name, d) => getAttr.string(fwd0, name, d),
    requireOpset: (v) => {
      env.requiredOpset = Math.max(env.requiredOpset, v)
    },
    fail,
  }
  return { ctx, result: () => ({ nodes, forward: fwd }) }
}
