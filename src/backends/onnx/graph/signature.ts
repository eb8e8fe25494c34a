/**
 * The model signature: the graph's real inputs (initializers excluded) and outputs with their dtypes
 * and shapes (symbolic dims kept as strings), plus the standard-domain opset.
 *
 * @internal
 */
import type { DType } from '../../../core/tensor.js'
import { ElemType, opsetOf, type Dim, type Graph, type ValueInfo } from './ir.js'

export interface TensorSignature {
  readonly name: string
  /** clarus dtype, or null when the element type is one clarus does not handle. */
  readonly dtype: DType | null
  readonly elemType: number | null
  readonly shape: readonly Dim[] | null
}

export interface ModelSignature {
  readonly inputs: readonly TensorSignature[]
  readonly outputs: readonly TensorSignature[]
  readonly opset: number
}

/** clarus dtype of an ONNX elem type code, or null. */
export const dtypeOfElem = (t: number | null): DType | null =>
  t === ElemType.FLOAT ? 'float32' : t === ElemType.INT32 ? 'int32' : t === ElemType.INT64 ? 'int64' : t === ElemType.BOOL ? 'bool' : null

const sig = (v: ValueInfo): TensorSignature => ({ name: v.name, dtype: dtypeOfElem(v.elemType), elemType: v.elemType, shape: v.shape })

/** The signature of a graph; inputs that are also initializers (overridable defaults) are left out. */
export const signatureOf = (g: Graph): ModelSignature => ({
  inputs: g.inputs.filter((v) => !g.initializers.has(v.name)).map(sig),
  outputs: g.outputs.map(sig),
  opset: opsetOf(g, ''),
})
