/**
 * The graph's activations: node outputs computed from a graph input, i.e. what layer methods can
 * capture, differentiate and replace (`signature.layers`). Whatever is computed from constants
 * alone is left out however the exporter wrote it: `Constant` nodes (paddle2onnx puts every weight
 * in one), `Identity` copies and folded shape arithmetic on them. Weights are listed separately,
 * as `signature.parameters`.
 *
 * @internal
 */
import type { LayerInfo, ParameterInfo } from '../../../core/backend.js'
import { ElemType, nodeReads, type Graph } from './ir.js'
import { layerInfoOf } from './layerInfo.js'
import { inferTypes } from './shapeInference.js'

/** Names of the node outputs of `g` that depend on a graph input (initializer defaults do not count). */
export const activationNames = (g: Graph): ReadonlySet<string> => {
  const live = new Set(g.inputs.filter((v) => !g.initializers.has(v.name)).map((v) => v.name))
  const out = new Set<string>()
  for (const n of g.nodes) {
    if (!nodeReads(n).some((x) => live.has(x))) continue
    for (const o of n.outputs) {
      if (o === '') continue
      live.add(o)
      out.add(o)
    }
  }
  return out
}

/** {@link LayerInfo} of every activation of `g`, in graph order. */
export const activationsOf = (g: Graph): readonly LayerInfo[] => {
  const names = activationNames(g)
  return layerInfoOf(g).filter((l) => names.has(l.name))
}

/**
 * The float weights `Constant` nodes hold (exporters such as paddle2onnx write every weight as one
 * instead of an initializer), with their shapes: parameters next to the initializers.
 */
export const constantWeightsOf = (g: Graph): readonly ParameterInfo[] => {
  const types = inferTypes(g)
  return g.nodes
    .filter((n) => n.domain === '' && n.opType === 'Constant')
    .flatMap((n) => n.outputs.filter((o) => o !== '' && !g.initializers.has(o)))
    .flatMap((name): ParameterInfo[] => {
      const t = types.get(name)
      const shape = t?.shape
      if (t?.elemType !== ElemType.FLOAT || shape == null || shape.length === 0 || !shape.every((d): d is number => typeof d === 'number')) return []
      return [{ name, dtype: 'float32', shape }]
    })
}
