/**
 * The trainable parameters of an ONNX graph: its float32 initializers that some node differentiates
 * (by the built-in gradient rules: BatchNormalization's running statistics, Clip's bounds and the
 * like are left out), in file order, each with the
 * per-example gradient factorisation its one consumer allows (see `PerExampleGrad` in
 * core/backend.ts). Recognised consumers, all on rank-2 [rows, features] activations:
 *
 * | consumer | parameter | per-example gradient of row i |
 * |---|---|---|
 * | `Gemm` (transA 0), input B | W | alpha · gᵢ ⊗ aᵢ (transB 1, W [out, in]) or alpha · aᵢ ⊗ gᵢ (transB 0) |
 * | `Gemm`, input C of shape [N] or [1, N] | b | beta · gᵢ |
 * | `MatMul`, input B of rank 2 | W [in, out] | aᵢ ⊗ gᵢ |
 * | `Add`, a [N] or [1, N] operand | b | gᵢ |
 *
 * gᵢ is row i of the gradient at the consumer's output, aᵢ row i of its data input. A parameter
 * read by several nodes, or by any other op (Conv, normalisations, …), has no factorisation: its
 * per-example gradients take one backward pass per example.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ParameterInfo, PerExampleGrad } from '../../../core/backend.js'
import { ElemType, getAttr, tensorDims, type Graph, type Node } from './ir.js'
import { inferTypes, type TypeInfo } from './shapeInference.js'
import { inputEdge } from '../gradients/rule.js'
import { ALL_GRAD_RULES, lookupRule, makeGradRegistry } from '../gradients/rules/index.js'

const rankOf = (types: ReadonlyMap<string, TypeInfo>, name: string): number | undefined => types.get(name)?.shape?.length

/** A bias shape: [N] or [1, N]. */
const isBiasShape = (shape: readonly number[]): boolean => shape.length === 1 || (shape.length === 2 && shape[0] === 1)

const factorOf = (n: Node, at: number, shape: readonly number[], types: ReadonlyMap<string, TypeInfo>, isParam: (s: string) => boolean): PerExampleGrad | undefined => {
  const output = n.outputs[0]
  if (output === undefined || output === '' || rankOf(types, output) !== 2) return undefined
  if (n.opType === 'Gemm' && n.domain === '') {
    const a = n.inputs[0] ?? ''
    if (getAttr.int(n, 'transA', 0) !== 0 || isParam(a)) return undefined
    if (at === 1 && shape.length === 2) {
      return { kind: 'outer', output, input: a, outputFirst: getAttr.int(n, 'transB', 0) === 1, scale: getAttr.float(n, 'alpha', 1) }
    }
    if (at === 2 && isBiasShape(shape)) return { kind: 'rows', output, scale: getAttr.float(n, 'beta', 1) }
    return undefined
  }
  if (n.opType === 'MatMul' && n.domain === '' && at === 1 && shape.length === 2) {
    const a = n.inputs[0] ?? ''
    return rankOf(types, a) === 2 && !isParam(a) ? { kind: 'outer', output, input: a, outputFirst: false, scale: 1 } : undefined
  }
  if (n.opType === 'Add' && n.domain === '' && isBiasShape(shape) && !isParam(n.inputs[1 - at] ?? '')) return { kind: 'rows', output, scale: 1 }
  return undefined
}

/** The float32 initializers of `g`, with their per-example factorisation where one applies. */
export const parametersOf = (g: Graph): readonly ParameterInfo[] => {
  const floats = [...g.initializers.entries()].filter(([, t]) => (t.dataType ?? 0) === ElemType.FLOAT)
  if (floats.length === 0) return []
  const names = new Set(floats.map(([n]) => n))
  const types = inferTypes(g)
  const readers = new Map<string, { node: Node; at: number }[]>()
  for (const n of g.nodes) {
    n.inputs.forEach((x, at) => {
      if (!names.has(x)) return
      const l = readers.get(x)
      if (l === undefined) readers.set(x, [{ node: n, at }])
      else l.push({ node: n, at })
    })
  }
  const reg = makeGradRegistry(ALL_GRAD_RULES)
  const differentiated = (r: { node: Node; at: number }): boolean => E.isLeft(reg) || inputEdge(lookupRule(reg.right, r.node.domain, r.node.opType), r.at) === 'diff'
  return floats.filter(([name]) => (readers.get(name) ?? []).some(differentiated)).map(([name, t]): ParameterInfo => {
    const shape = tensorDims(t)
    const r = readers.get(name) ?? []
    const only = r.length === 1 ? r[0] : undefined
    const perExample = only === undefined ? undefined : factorOf(only.node, only.at, shape, types, (s) => names.has(s))
    return { name, dtype: 'float32', shape, ...(perExample !== undefined ? { perExample } : {}) }
  })
}
