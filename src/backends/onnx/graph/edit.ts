/**
 * Pure Graph → Graph edits: expose intermediate tensors as outputs, cut the graph at intermediate
 * tensors (turning them into inputs so values can be injected), and prune to what the outputs need.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { err, type AttributionError } from '../../../core/errors.js'
import { closestNames } from '../../../core/names.js'
import { nodeReads, type Graph, type Node, type ValueInfo } from './ir.js'
import { inferTypes } from './shapeInference.js'

/** Every tensor name the graph defines (inputs, initializers, node outputs). */
export const tensorNames = (g: Graph): ReadonlySet<string> => {
  const s = new Set<string>()
  for (const v of g.inputs) s.add(v.name)
  for (const k of g.initializers.keys()) s.add(k)
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') s.add(o)
  return s
}

const unknown = (g: Graph, names: readonly string[], path: string): AttributionError | undefined => {
  const all = tensorNames(g)
  const missing = names.filter((n) => !all.has(n))
  return missing.length === 0
    ? undefined
    : err('UnknownTensor', `no tensor named ${missing.map((m) => `'${m}' (${closestNames(m, [...all])})`).join(', ')} in the graph; use a node output name from the ONNX file`, [path, ...missing])
}

/** Replaces the graph outputs by `names` (in that order). */
export const setOutputs = (g: Graph, names: readonly string[]): E.Either<AttributionError, Graph> => {
  const bad = unknown(g, names, 'outputs')
  if (bad !== undefined) return E.left(bad)
  const byName = new Map(g.outputs.map((o) => [o.name, o]))
  const types = inferTypes(g)
  const outputs = [...new Set(names)].map((name) => byName.get(name) ?? { name, elemType: types.get(name)?.elemType ?? null, shape: null })
  return E.right({ ...g, outputs })
}

/**
 * Keeps only the nodes, inputs, initializers and value infos that the graph outputs need. A tensor
 * that only a subgraph (If branch, Loop/Scan body) reads from the enclosing scope counts as needed.
 */
export const prune = (g: Graph): Graph => {
  const needed = new Set(g.outputs.map((o) => o.name))
  const keep: Node[] = []
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i] as Node
    if (n.outputs.some((o) => needed.has(o))) {
      keep.push(n)
      for (const x of nodeReads(n)) needed.add(x)
    }
  }
  keep.reverse()
  const initializers = new Map([...g.initializers].filter(([k]) => needed.has(k)))
  return {
    ...g,
    nodes: keep,
    inputs: g.inputs.filter((v) => needed.has(v.name)),
    initializers,
    valueInfo: g.valueInfo.filter((v) => needed.has(v.name)),
  }
}

/**
 * Turns intermediate tensors into graph inputs (same name, inferred elem type and shape), so that a
 * value can be injected there, and prunes the nodes that only computed them. Names that already are
 * graph inputs are left alone.
 */
export const cutAt = (g: Graph, names: readonly string[]): E.Either<AttributionError, Graph> => {
  const bad = unknown(g, names, 'inject')
  if (bad !== undefined) return E.left(bad)
  const inputs = new Set(g.inputs.map((v) => v.name))
  const cut = new Set(names.filter((n) => !inputs.has(n)))
  if (cut.size === 0) return E.right(g)
  const types = inferTypes(g)
  const nodes = g.nodes.map((n) =>
    n.outputs.some((o) => cut.has(o)) ? { ...n, outputs: n.outputs.map((o) => (cut.has(o) ? `clarus_cut/${o}` : o)) } : n,
  )
  const newInputs: ValueInfo[] = [...cut].map((name) => ({ name, elemType: types.get(name)?.elemType ?? null, shape: types.get(name)?.shape ?? null }))
  const initializers = new Map([...g.initializers].filter(([k]) => !cut.has(k)))
  return E.right(prune({ ...g, nodes, inputs: [...g.inputs, ...newInputs], initializers, valueInfo: g.valueInfo.filter((v) => !cut.has(v.name)) }))
}
