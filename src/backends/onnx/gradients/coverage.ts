/**
 * Preflight of the gradient builder: which tensors and nodes lie on a differentiable path from the
 * wrt tensors to the seeds, and which of those nodes cannot pass gradient along it (no usable rule,
 * or a rule that drops an edge on the path: an input it does not differentiate, a tensor a subgraph
 * captures, an output whose cotangent it ignores). All such nodes are reported at once, before
 * anything is built.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { unsupportedOps, type UnsupportedNode, type UnsupportedOps } from '../../../core/errors.js'
import { PASS_THROUGH, ruleFor, type Rule, type RuleSet } from '../../../core/ruleSet.js'
import { capturedNames, ElemType, opsetOf, type Graph, type Node } from '../graph/ir.js'
import type { TypeInfo } from '../graph/shapeInference.js'
import { inputEdge, readsGradOf, type GradRule } from './rule.js'
import { lookupRule, type GradRegistry } from './rules/index.js'
import { lookupModified, type ModifiedRegistry } from './modified/index.js'
import type { ModifiedRule } from './modified/types.js'

const FLOATS: ReadonlySet<number> = new Set([ElemType.FLOAT, ElemType.DOUBLE, ElemType.FLOAT16, 16])

/** True when a tensor can carry gradient (float element type, or unknown). */
export const isFloatTensor = (types: ReadonlyMap<string, TypeInfo>, name: string): boolean => {
  const t = types.get(name)?.elemType ?? null
  return t === null || FLOATS.has(t)
}

/** True when a tensor is known to be float (an unknown element type does not count). */
const knownFloat = (types: ReadonlyMap<string, TypeInfo>, name: string): boolean => {
  const t = types.get(name)?.elemType ?? null
  return t !== null && FLOATS.has(t)
}

/** One tensor a node reads: explicit input `index`, or (index -1) a name its subgraph captures. */
interface Read {
  readonly name: string
  readonly index: number
}

const readsOf = (n: Node): readonly Read[] => [
  ...n.inputs.flatMap((name, index) => (name === '' ? [] : [{ name, index }])),
  ...capturedNames(n).map((name) => ({ name, index: -1 })),
]

export interface GradPath {
  /** Tensors on a differentiable path from some wrt tensor to some seed. */
  readonly active: ReadonlySet<string>
  /** Indices (in graph order) of the nodes on such a path. */
  readonly nodes: readonly number[]
}

/**
 * The tensors and nodes through which gradient flows from `seeds` back to `wrt`. Edges a rule does
 * not differentiate ('dropped', see `inputEdge`) count as dependencies here, so that `checkCoverage`
 * can report them; stop edges (shapes, indices, piecewise-constant ops) do not. A dropped edge counts
 * only for tensors known to be float, so an untyped index tensor is not mistaken for a float one.
 */
export const gradPath = (
  g: Graph,
  types: ReadonlyMap<string, TypeInfo>,
  reg: GradRegistry,
  seeds: readonly string[],
  wrt: readonly string[],
): GradPath => {
  const rules = g.nodes.map((n) => lookupRule(reg, n.domain, n.opType))
  const reads = g.nodes.map(readsOf)
  const carries = (ni: number, r: Read): boolean => {
    const e = inputEdge(rules[ni], r.index)
    return e === 'diff' ? isFloatTensor(types, r.name) : e === 'dropped' && knownFloat(types, r.name)
  }
  const fwd = new Set(wrt)
  g.nodes.forEach((n, ni) => {
    if ((reads[ni] ?? []).some((r) => fwd.has(r.name) && carries(ni, r))) for (const o of n.outputs) if (o !== '' && isFloatTensor(types, o)) fwd.add(o)
  })
  const back = new Set(seeds)
  for (let ni = g.nodes.length - 1; ni >= 0; ni--) {
    const n = g.nodes[ni]
    if (n === undefined || !n.outputs.some((o) => back.has(o))) continue
    for (const r of reads[ni] ?? []) if (carries(ni, r)) back.add(r.name)
  }
  const active = new Set([...fwd].filter((t) => back.has(t)))
  const nodes: number[] = []
  g.nodes.forEach((n, ni) => {
    if (n.outputs.some((o) => active.has(o)) && (reads[ni] ?? []).some((r) => active.has(r.name) && carries(ni, r))) nodes.push(ni)
  })
  return { active, nodes }
}

/** Why a node with a rule still cannot pass gradient along the path: edges its rule drops. */
const droppedEdges = (n: Node, rule: GradRule, path: GradPath, types: ReadonlyMap<string, TypeInfo>): string[] => {
  const why: string[] = []
  for (const r of readsOf(n)) {
    if (!path.active.has(r.name) || inputEdge(rule, r.index) !== 'dropped' || !knownFloat(types, r.name)) continue
    why.push(r.index < 0
      ? `its subgraph reads '${r.name}' from the enclosing graph, and gradients through subgraphs are not supported`
      : `its input ${r.index} ('${r.name}') depends on the differentiated tensor, but the ${n.opType} gradient rule does not differentiate that input`)
  }
  n.outputs.forEach((o, i) => {
    if (o !== '' && path.active.has(o) && !readsGradOf(rule, i)) why.push(`its output ${i} ('${o}') is used on the gradient path, but the ${n.opType} gradient rule only handles the gradient of output(s) ${(rule.gradOutputs ?? []).join(', ')}`)
  })
  return why.map((w) => `${n.opType} node '${n.name || '<unnamed>'}': ${w}`)
}

/**
 * Every node on the path that cannot pass gradient, in one UnsupportedOps error: nodes without a rule
 * valid for the model's opset, and nodes whose rule drops an edge that lies on the path (an input it
 * does not differentiate, a subgraph capture, an output whose cotangent it ignores).
 */
export const checkCoverage = (g: Graph, path: GradPath, reg: GradRegistry, types: ReadonlyMap<string, TypeInfo> = new Map(), skip: ReadonlySet<number> = new Set()): E.Either<UnsupportedOps, void> => {
  const bad: UnsupportedNode[] = []
  const details: string[] = []
  for (const ni of path.nodes) {
    const n = g.nodes[ni]
    if (n === undefined || skip.has(ni)) continue
    const opset = opsetOf(g, n.domain)
    const rule = lookupRule(reg, n.domain, n.opType)
    const first = rule?.opsets?.[0]
    if (rule === undefined || rule.noGradient === true || (first !== undefined && opset < first)) {
      bad.push({ name: n.name, opType: n.opType, domain: n.domain, opset })
      continue
    }
    const why = droppedEdges(n, rule, path, types)
    if (why.length > 0) {
      bad.push({ name: n.name, opType: n.opType, domain: n.domain, opset })
      details.push(...why)
    }
  }
  if (bad.length === 0) return E.right(undefined)
  const e = unsupportedOps(bad, ['graph', 'nodes'])
  return E.left(details.length === 0 ? e : { ...e, message: `${e.message} Details: ${details.join('; ')}.` })
}

/** A node a rule set gives a modified rule: the rule's parameters and its ONNX implementation. */
export interface ModifiedPlan {
  readonly rule: Rule
  readonly impl: ModifiedRule
}

/**
 * Pass-through ops whose ordinary gradient is affine only while at most one factor varies: a product
 * of two tensors on the gradient path (attention's Q·Kᵀ, a gate) or a division by one is not, so
 * under a rule set it needs an entry of its own. Value: the factor inputs, and for Div the input that
 * must not vary.
 */
const FACTORS: Readonly<Record<string, { readonly factors: readonly number[]; readonly fixed?: number }>> = {
  Mul: { factors: [0, 1] },
  MatMul: { factors: [0, 1] },
  Gemm: { factors: [0, 1] },
  Conv: { factors: [0, 1] },
  ConvTranspose: { factors: [0, 1] },
  Div: { factors: [0, 1], fixed: 1 },
}

/**
 * Under rule set `rs`: the modified rule of every node on the path that gets one (node index →
 * plan), or one UnsupportedOps error, path ['ruleSet'], listing every node the rule set leaves without
 * a usable rule: nodes no entry matches that are not pass-through ops, nodes whose rule has no ONNX
 * implementation for their op type, nodes whose rule needs the references in the batch when the call
 * gives none, and pass-through products of two varying tensors. The nodes planned for their ordinary
 * gradient are then checked by {@link checkCoverage} as usual.
 */
export const checkRuleSet = (
  g: Graph,
  path: GradPath,
  reg: GradRegistry,
  mods: ModifiedRegistry,
  rs: RuleSet,
  referenceRows: 'halves' | undefined,
  wrtTensors: readonly string[] = [],
): E.Either<UnsupportedOps, ReadonlyMap<number, ModifiedPlan>> => {
  const wrt = new Set(wrtTensors)
  const plans = new Map<number, ModifiedPlan>()
  const bad: UnsupportedNode[] = []
  const details: string[] = []
  const report = (n: Node, why: string): void => {
    bad.push({ name: n.name, opType: n.opType, domain: n.domain, opset: opsetOf(g, n.domain) })
    details.push(`${n.opType} node '${n.name || '<unnamed>'}': ${why}`)
  }
  const onPath = (n: Node, i: number): boolean => {
    const x = n.inputs[i]
    return x !== undefined && x !== '' && path.active.has(x)
  }
  for (const ni of path.nodes) {
    const n = g.nodes[ni]
    if (n === undefined) continue
    const r = ruleFor(rs, { opType: n.opType, name: n.name, outputs: n.outputs, readsInput: n.inputs.some((i) => wrt.has(i)) })
    if (r === 'unmatched') {
      report(n, `no entry matches it, and its ordinary gradient is not exact under modified backprop; add an entry for it (e.g. { match: { opType: '${n.opType}' }, rule: { rule: 'gradient' } } to keep its ordinary gradient) or set unmatched: 'gradient'`)
      continue
    }
    if (r === 'passThrough') {
      const f = FACTORS[n.opType]
      if (f === undefined || rs.unmatched === 'gradient' || !PASS_THROUGH.has(n.opType)) continue
      if (f.fixed !== undefined && onPath(n, f.fixed)) report(n, `it divides by a tensor on the gradient path ('${n.inputs[f.fixed] ?? ''}'), which is not affine; give it an entry (e.g. rule 'gradient')`)
      else if (f.factors.every((i) => onPath(n, i))) report(n, `it multiplies two tensors that both lie on the gradient path ('${n.inputs[0] ?? ''}', '${n.inputs[1] ?? ''}'), which is not affine; give it an entry (e.g. rule 'gradient', or an LRP rule such as 'uniform')`)
      continue
    }
    const impl = lookupModified(mods, r.rule, n.opType, lookupRule(reg, n.domain, n.opType) !== undefined)
    if (impl === undefined) {
      report(n, `rule '${r.rule}' has no ONNX implementation for op type ${n.opType}; match this node to another rule`)
      continue
    }
    if (impl.needsReference === true && referenceRows !== 'halves') {
      report(n, `rule '${r.rule}' compares each row with its reference, so the call must put the references in the same batch (referenceRows: 'halves')`)
      continue
    }
    plans.set(ni, { rule: r, impl })
  }
  if (bad.length === 0) return E.right(plans)
  return E.left({
    ...unsupportedOps(bad, ['ruleSet']),
    message: `rule set ${JSON.stringify(rs.name)} leaves ${bad.length} node(s) on the gradient path without a usable rule: ${details.join('; ')}.`,
  })
}
