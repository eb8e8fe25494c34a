// Small ONNX graphs built in tests (x → … → y), loaded as clarus models on the ONNX backend.
import * as E from 'fp-ts/lib/Either.js'
import { fromOnnx } from '../../src/backends/onnx/index.js'
import { ElemType, toProto, type Attribute, type Graph, type Node } from '../../src/backends/onnx/graph/ir.js'
import { encodeModel } from '../../src/backends/onnx/graph/proto.js'
import type { Model } from '../../src/core/backend.js'
import type { HostTensor } from '../../src/core/tensor.js'

export const onnxNode = (name: string, opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = []): Node =>
  ({ name, opType, domain: '', inputs, outputs, attributes })

/** A float initializer. */
export const floatInit = (name: string, dims: number[], values: readonly number[]): [string, { name: string; dims: number[]; dataType: number; floatData: number[] }] =>
  [name, { name, dims, dataType: ElemType.FLOAT, floatData: values.map(Math.fround) }]

export const graphOf = (
  nodes: Node[],
  inputShape: (string | number)[],
  outputShape: (string | number)[],
  inits: ReturnType<typeof floatInit>[],
  opset = 17,
): Graph => ({
  name: 'g',
  nodes,
  inputs: [{ name: 'x', elemType: ElemType.FLOAT, shape: inputShape }],
  outputs: [{ name: 'y', elemType: ElemType.FLOAT, shape: outputShape }],
  initializers: new Map(inits),
  valueInfo: [],
  opsetImports: [{ domain: '', version: opset }],
  irVersion: 8,
  modelExtras: {},
})

export const onnxModelOf = async (g: Graph): Promise<Model<HostTensor>> => {
  const m = await fromOnnx(encodeModel(toProto(g)))
  if (E.isLeft(m)) throw new Error(m.left.message)
  return m.right
}
