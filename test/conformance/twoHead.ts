/**
 * The model the vjp conformance cases run on, as plain numbers plus one builder per backend:
 *
 *   hm = x·W1,  h = tanh(hm),  y0 = h·W2 (output 0, explained),  p = h·W3,  q = x·W4,  y1 = p + q (output 1)
 *
 * x is [rows, 3]; hm and h are [rows, 4]; y0 and y1 are [rows, 2]. The internal tensors `hm` and
 * `h` carry the same names on every backend. y1 depends on x both through h and directly, so a
 * gradient w.r.t. x that forgot either path is caught.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as tf from '@tensorflow/tfjs'
import { loadGraphModelSync } from '@tensorflow/tfjs-converter'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { ElemType, toProto, type Graph, type Node } from '../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../src/backends/onnx/graph/proto.js'
import { fromTfjs } from '../../src/backends/tfjs/index.js'
import type { Model } from '../../src/core/backend.js'
import type { HostTensor } from '../../src/core/tensor.js'

/** A row-major matrix. */
export type Mat = readonly (readonly number[])[]

const f32 = (m: Mat): Mat => m.map((r) => r.map((v) => Math.fround(v)))

export const TWO_HEAD = {
  W1: f32([[0.5, -0.25, 0.75, 0.1], [-0.5, 0.3, 0.2, -0.6], [0.25, 0.4, -0.35, 0.45]]),
  W2: f32([[1, -0.5], [0.25, 0.75], [-1, 0.5], [0.6, -0.2]]),
  W3: f32([[-0.3, 0.8], [0.5, -0.4], [0.9, 0.1], [-0.7, 0.6]]),
  W4: f32([[0.2, -0.1], [0.4, 0.3], [-0.5, 0.7]]),
} as const

const WEIGHTS = ['W1', 'W2', 'W3', 'W4'] as const

/** A tfjs-converter GraphModel of {@link TWO_HEAD}, outputs [y0, y1]; the caller disposes it. */
export const twoHeadGraphModel = (): ReturnType<typeof loadGraphModelSync> => {
  const dt = { type: 'DT_FLOAT' }
  const constNode = (name: (typeof WEIGHTS)[number]) => ({
    name,
    op: 'Const',
    attr: { dtype: dt, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: String(TWO_HEAD[name].length) }, { size: String(TWO_HEAD[name][0]!.length) }] } } } },
  })
  const matMul = (name: string, a: string, b: string) => ({ name, op: 'MatMul', input: [a, b], attr: { T: dt, transpose_a: { b: false }, transpose_b: { b: false } } })
  const g = loadGraphModelSync({
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: dt, shape: { shape: { dim: [{ size: '-1' }, { size: '3' }] } } } },
        ...WEIGHTS.map(constNode),
        matMul('hm', 'x', 'W1'),
        { name: 'h', op: 'Tanh', input: ['hm'], attr: { T: dt } },
        matMul('y0', 'h', 'W2'),
        matMul('p', 'h', 'W3'),
        matMul('q', 'x', 'W4'),
        { name: 'y1', op: 'AddV2', input: ['p', 'q'], attr: { T: dt } },
      ],
      versions: { producer: 1 },
    },
    weightSpecs: WEIGHTS.map((n) => ({ name: n, shape: [TWO_HEAD[n].length, TWO_HEAD[n][0]!.length], dtype: 'float32' as const })),
    weightData: new Float32Array(WEIGHTS.flatMap((n) => TWO_HEAD[n].flat())).buffer,
  })
  if (g.outputNodes.join() !== 'y0,y1') throw new Error(`twoHeadGraphModel: expected outputs y0,y1, got ${g.outputNodes.join()}`)
  return g
}

/** {@link TWO_HEAD} on the tfjs backend, as a GraphModel (the one tfjs kind with several outputs and named nodes). */
export const twoHeadTfjs = (): { model: Model<tf.Tensor>; dispose: () => void } => {
  const g = twoHeadGraphModel()
  return { model: fromTfjs(g), dispose: () => g.dispose() }
}

/** {@link TWO_HEAD} as ONNX bytes (opset 17), graph outputs [y0, y1]. */
export const twoHeadOnnxBytes = (): Uint8Array => {
  const node = (name: string, opType: string, inputs: string[]): Node => ({ name: `${name}_node`, opType, domain: '', inputs, outputs: [name], attributes: [] })
  const graph: Graph = {
    name: 'two_head',
    nodes: [
      node('hm', 'MatMul', ['x', 'W1']),
      node('h', 'Tanh', ['hm']),
      node('y0', 'MatMul', ['h', 'W2']),
      node('p', 'MatMul', ['h', 'W3']),
      node('q', 'MatMul', ['x', 'W4']),
      node('y1', 'Add', ['p', 'q']),
    ],
    inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: ['batch', 3] }],
    outputs: ['y0', 'y1'].map((name) => ({ name, elemType: ElemType.FLOAT, shape: ['batch', 2] })),
    initializers: new Map(WEIGHTS.map((n) => [n, { name: n, dims: [TWO_HEAD[n].length, TWO_HEAD[n][0]!.length], dataType: ElemType.FLOAT, floatData: TWO_HEAD[n].flat() }])),
    valueInfo: [],
    opsetImports: [{ domain: '', version: 17 }],
    irVersion: 8,
    modelExtras: {},
  }
  return encodeModel(toProto(graph))
}

/** {@link TWO_HEAD} on the ONNX backend. */
export const twoHeadOnnx = async (): Promise<{ model: Model<HostTensor>; dispose: () => Promise<void> }> => {
  const m = await fromOnnx(twoHeadOnnxBytes())
  if (E.isLeft(m)) throw new Error(`twoHeadOnnx: ${m.left.message}`)
  return { model: m.right, dispose: () => m.right.dispose() }
}
