/**
 * Preflight of the gradient builder: which tensors and nodes lie on a differentiable path from the
 * wrt tensors to the seeds, and which of those nodes have no usable rule. All unsupported nodes are
 * reported at once, before anything is built.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { unsupportedOps, type UnsupportedNode, type UnsupportedOps } from '../../../core/errors.js'
import { ElemType, opsetOf, type Graph } from '../graph/ir.js'
import type { TypeInfo } from '../graph/shapeInference.js'
import { isDiffInput } from './rule.js'
import { lookupRule, type GradRegistry } from './rules/index.js'

const FLOATS: ReadonlySet<number> = new Set([ElemType.FLOAT, ElemType.DOUBLE, ElemType.FLOAT16, 16])

/** True when a tensor can carry gradient (float element type, or unknown). */
export const isFloatTensor = (types: ReadonlyMap<string, TypeInfo>, name: string): boolean => {
  const t = types.get(name)?.elemType ?? null
  return t === null || FLOATS.has(t)
}

export interface GradPath {
  /** Tensors on a differentiable path from some wrt tensor to some seed. */
  readonly active: ReadonlySet<string>
  /** Indices (in graph order) of the nodes on such a path. */
  readonly nodes: readonly number[]
}

/** The tensors and nodes through which gradient flows from `seeds` back to `wrt`. */
export const gradPath = (
  g: Graph,
  types: ReadonlyMap<string, TypeInfo>,
  reg: GradRegistry,
  seeds: readonly string[],
  wrt: readonly string[],
): GradPath => {
  const diff = (ni: number, i: number): boolean => {
    const n = g.nodes[ni]
    const x = n?.inputs[i]
    return n !== undefined && x !== undefined && x !== '' && isDiffInput(lookupRule(reg, n.domain, n.opType), i) && isFloatTensor(types, x)
  }
  const fwd = new Set(wrt)
  g.nodes.forEach((n, ni) => {
    if (n.inputs.some((x, i) => fwd.has(x) && diff(ni, i))) for (const o of n.outputs) if (o !== '' && isFloatTensor(types, o)) fwd.add(o)
  })
  const back = new Set(seeds)
  for (let ni = g.nodes.length - 1; ni >= 0; ni--) {
    const n = g.nodes[ni]
    if (n === undefined || !n.outputs.some((o) => back.has(o))) continue
    n.inputs.forEach((x, i) => { if (diff(ni, i)) back.add(x) })
  }
  const active = new Set([...fwd].filter((t) => back.has(t)))
  const nodes: number[] = []
  g.nodes.forEach((n, ni) => {
    if (n.outputs.some((o) => active.has(o)) && n.inputs.some((x, i) => active.has(x) && diff(ni, i))) nodes.push(ni)
  })
  return { active, nodes }
}

/** Every node on the path without a rule valid for the model's opset, in one UnsupportedOps error. */
export const checkCoverage = (g: Graph, path: GradPath, reg: GradRegistry): E.Either<UnsupportedOps, void> => {
  const bad: UnsupportedNode[] = []
  for (const ni of path.nodes) {
    const n = g.nodes[ni]
    if (n === undefined) continue
    const opset = opsetOf(g, n.domain)
    const rule = lookupRule(reg, n.domain, n.opType)
    const first = rule?.opsets?.[0]
    if (rule === undefined || rule.noGradient === true || (first !== undefined && opset < first)) {
      bad.push({ name: n.name, opType: n.opType, domain: n.domain, opset })
    }
  }
  return bad.length > 0 ? E.left(unsupportedOps(bad, ['graph', 'nodes'])) : E.right(undefined)
}
