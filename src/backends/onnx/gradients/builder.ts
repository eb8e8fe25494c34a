/**
 * buildBackward: appends to a forward ONNX graph the standard-op nodes that compute
 * d(Σ_seeds ⟨seed, cotangent⟩)/d(wrt), in the manner of ORT's GradientGraphBuilder: a reverse
 * topological walk over the nodes on a wrt→seed path, one rule per op type, fan-out contributions
 * summed, stop edges (shapes, indices, piecewise-constant ops) cut. An edge on the path that a rule
 * does not differentiate is never cut silently: it makes the node an UnsupportedOps error (see
 * `inputEdge` and `checkCoverage`). The forward outputs are kept; one graph input per seed carries
 * its cotangent and one graph output per wrt tensor holds its gradient.
 *
 * With a rule set (modified backprop: DeepLift, guided backprop, LRP, …) each node on the path gets
 * the rule `ruleFor` gives it: a rule → its implementation for the node's op type (`modified/`); a
 * pass-through → the ordinary gradient; every node left without a usable rule is reported, all at
 * once, before anything is built (`checkRuleSet`).
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { closestNames } from '../../../core/names.js'
import { err, unsupportedOps, type AttributionError, type UnsupportedNode } from '../../../core/errors.js'
import { opsetOf, type Graph, type Node, type ValueInfo } from '../graph/ir.js'
import { tensorNames } from '../graph/edit.js'
import { inferTypes, producers } from '../graph/shapeInference.js'
import { GradBuildError, makeGradContext, type GradContext, type GradEnv } from './context.js'
import { givesRelevanceAtInputs, type RuleSet } from '../../../core/ruleSet.js'
import { checkCoverage, checkRuleSet, gradPath, isFloatTensor, type ModifiedPlan } from './coverage.js'
import { ALL_MODIFIED_RULES, makeModifiedRegistry } from './modified/index.js'
import { referenceHelpers } from './modified/reference.js'
import type { ModifiedContext, ModifiedRule } from './modified/types.js'
import { inputEdge, type GradRule } from './rule.js'
import type { OnnxDevice } from '../device.js'
import { ALL_GRAD_RULES, lookupRule, makeGradRegistry } from './rules/index.js'

export interface BackwardRequest {
  /** Tensors whose cotangent the caller supplies (graph outputs or intermediate tensors). */
  readonly seeds: readonly string[]
  /** Tensors to differentiate with respect to (graph inputs or intermediate tensors). */
  readonly wrt: readonly string[]
  /** Modified-backprop rules replacing the ordinary gradients (default: none). */
  readonly ruleSet?: RuleSet
  /** `'halves'`: the batch has 2n rows and row n + i is the reference of row i (DeepLift's rescale needs it). */
  readonly referenceRows?: 'halves'
  /** The device the graph will run on (default 'cpu'): rules pick the formulation it runs (see `GradContext.device`). */
  readonly device?: OnnxDevice
}

/*
 * Input-layer LRP rules (flat, wSquare, zBox; `givesRelevanceAtInputs`) give relevance, not a
 * gradient: they must read a wrt tensor directly, and when the rule set has any, each wrt tensor's
 * output is its relevance, x ⊙ (the gradient reaching it through gradient-form rules) + (the
 * relevance the input-layer rules give it), so the caller must not multiply by the input again.
 */

export interface BackwardGraph {
  /** The forward graph with the backward nodes appended (forward outputs kept). */
  readonly graph: Graph
  /** Seed tensor → name of the new graph input carrying its cotangent (same shape and dtype). */
  readonly seedInputs: Readonly<Record<string, string>>
  /** wrt tensor → name of the new graph output holding its gradient. */
  readonly gradOutputs: Readonly<Record<string, string>>
}

/** Op types whose semantics change between opsets 13 and 16, which block an opset bump. */
const BUMP_BLOCKERS: ReadonlySet<string> = new Set(['RoiAlign'])

const PREFIX = 'clarus_grad/'

const ELEM_NAMES: Readonly<Record<number, string>> = { 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 12: 'uint32', 13: 'uint64' }
const elemTypeName = (t: number | null): string => (t === null ? 'unknown type' : ELEM_NAMES[t] ?? `element type ${t}`)

export const buildBackward = (
  graph: Graph,
  req: BackwardRequest,
  rules: readonly GradRule[] = ALL_GRAD_RULES,
  modifiedRules: readonly ModifiedRule[] = ALL_MODIFIED_RULES,
): E.Either<AttributionError, BackwardGraph> => {
  const regE = makeGradRegistry(rules)
  if (E.isLeft(regE)) return regE
  const reg = regE.right
  const modE = makeModifiedRegistry(modifiedRules)
  if (E.isLeft(modE)) return modE
  const known = tensorNames(graph)
  const unknownWrt = req.wrt.filter((w) => !known.has(w))
  const unknownSeeds = req.seeds.filter((s) => !known.has(s))
  if (unknownWrt.length + unknownSeeds.length > 0) {
    const all = [...unknownWrt, ...unknownSeeds]
    const names = [...known]
    return E.left(err('UnknownTensor', `no tensor named ${all.map((n) => `'${n}' (${closestNames(n, names)})`).join(', ')} in the graph; name a graph input, output or node output of the ONNX file`, [unknownWrt.length > 0 ? 'wrt' : 'seeds', ...all]))
  }
  const types = inferTypes(graph)
  const intSeeds = [...new Set(req.seeds)].filter((s) => !isFloatTensor(types, s))
  if (intSeeds.length > 0) {
    const outs = new Set(graph.outputs.map((o) => o.name))
    const what = intSeeds.map((s) => `${outs.has(s) ? 'model output' : 'tensor'} '${s}' (${elemTypeName(types.get(s)?.elemType ?? null)})`).join(', ')
    return E.left(err('DTypeMismatch', `the ${what} is not differentiable: it has an integer/bool element type (e.g. it comes from ArgMax, a comparison or a Cast to int), so gradient methods cannot explain it. Explain a float tensor instead (the logits or probabilities before the ArgMax/Cast), or use a perturbation method (FeatureAblation, Occlusion, ShapleyValueSampling, …), which needs only forward passes`, ['outputs', ...intSeeds]))
  }
  const intWrt = req.wrt.filter((w) => !isFloatTensor(types, w))
  if (intWrt.length > 0) {
    return E.left(err('DTypeMismatch', `cannot differentiate integer/bool tensor(s) ${intWrt.map((n) => `'${n}'`).join(', ')}; differentiate w.r.t. a float tensor computed from them (e.g. the embedding output)`, ['wrt', ...intWrt]))
  }
  const path = gradPath(graph, types, reg, req.seeds, req.wrt)
  const plansE = req.ruleSet === undefined ? E.right(new Map<number, ModifiedPlan>()) : checkRuleSet(graph, path, reg, modE.right, req.ruleSet, req.referenceRows, req.wrt)
  const plans: ReadonlyMap<number, ModifiedPlan> = E.isRight(plansE) ? plansE.right : new Map()
  const cov = checkCoverage(graph, path, reg, types, new Set(plans.keys()))
  if (E.isLeft(plansE) && E.isLeft(cov)) {
    // one error listing every node: those the rule set leaves without a rule and those without any gradient rule
    const nodes = [...plansE.left.nodes, ...cov.left.nodes.filter((c) => !plansE.left.nodes.some((p) => p.name === c.name && p.opType === c.opType))]
    return E.left({ ...plansE.left, nodes, message: `${plansE.left.message} Besides: ${cov.left.message}` })
  }
  if (E.isLeft(plansE)) return plansE
  if (E.isLeft(cov)) return cov
  const unreachable = req.wrt.filter((w) => !path.active.has(w))
  if (unreachable.length > 0) {
    return E.left(err('NotReachable', `no differentiable path from ${unreachable.map((n) => `'${n}'`).join(', ')} to the seeded tensor(s) ${req.seeds.map((s) => `'${s}'`).join(', ')}; pick a tensor the output depends on through float ops`, ['wrt', ...unreachable]))
  }

  const opset = opsetOf(graph, '')
  const env: GradEnv = { graph, types, producers: producers(graph), opset, requiredOpset: 0, ...(req.device !== undefined ? { device: req.device } : {}) }
  const contributions = new Map<string, string[]>()
  // the same contributions as Captum's output hooks record them: a consumer whose rule shadows its
  // producer (DeepLift's rescale) contributes its ordinary gradient here (see ModifiedRule.shadowsProducer)
  const hookContributions = new Map<string, string[]>()
  const push = (m: Map<string, string[]>, t: string, g: string): void => {
    const l = m.get(t)
    if (l === undefined) m.set(t, [g])
    else l.push(g)
  }
  const contribute = (t: string, g: string, hookView: string = g): void => {
    push(contributions, t, g)
    push(hookContributions, t, hookView)
  }
  // relevance given directly by input-layer rules, per wrt tensor (see the note above BackwardRequest)
  const relevanceOut = req.ruleSet !== undefined && givesRelevanceAtInputs(req.ruleSet)
  const relevance = new Map<string, string[]>()
  const wrtSet = new Set(req.wrt)
  const backward: Node[] = []
  const accumulated = new Map<string, string | undefined>()
  const accumulate = (t: string): string | undefined => {
    if (accumulated.has(t)) return accumulated.get(t)
    const l = contributions.get(t)
    let out: string | undefined
    if (l === undefined || l.length === 0) out = undefined
    else if (l.length === 1) out = l[0]
    else {
      out = `${PREFIX}acc/${t}`
      pushSum(backward, l, out, `${PREFIX}acc_node/${t}`, req.device)
    }
    accumulated.set(t, out)
    return out
  }

  const seedInputs: Record<string, string> = {}
  const newInputs: ValueInfo[] = []
  for (const s of [...new Set(req.seeds)]) {
    const name = `${PREFIX}seed/${s}`
    seedInputs[s] = name
    newInputs.push({ name, elemType: types.get(s)?.elemType ?? null, shape: types.get(s)?.shape ?? null })
    contribute(s, name)
  }

  const forward = [...graph.nodes]
  // nodes whose rule gave up on this node (rule.fail) or left a required input without a gradient
  const failed: UnsupportedNode[] = []
  const failures: string[] = []
  const fail = (n: Node, why: string): void => {
    if (!failed.some((f) => f.name === n.name && f.opType === n.opType)) failed.push({ name: n.name, opType: n.opType, domain: n.domain, opset: opsetOf(graph, n.domain) })
    failures.push(why)
  }
  for (let k = path.nodes.length - 1; k >= 0; k--) {
    const ni = path.nodes[k] as number
    const n = graph.nodes[ni] as Node
    const rule = lookupRule(reg, n.domain, n.opType)
    const plan = plans.get(ni)
    const grads = n.outputs.map((o) => (path.active.has(o) ? accumulate(o) : undefined))
    if (grads.every((x) => x === undefined)) continue
    const required = n.inputs.map((x, i) => path.active.has(x) && inputEdge(rule, i) === 'diff' && isFloatTensor(types, x))
    const { ctx, result } = makeGradContext(env, n, ni, grads, required)
    try {
      const mctx = plan === undefined ? undefined : modifiedContext(ctx, rule, path.active, (i) => {
        const o = n.outputs[i]
        const actual = o === undefined ? undefined : contributions.get(o)
        const seen = o === undefined ? undefined : hookContributions.get(o)
        if (seen === undefined || actual === undefined || seen.every((v, j) => v === actual[j])) return ctx.gradOfOutput(i)
        return seen.length === 1 ? (seen[0] as string) : req.device === 'webgpu' ? seen.reduce((a, b) => ctx.node('Add', [a, b])) : ctx.node('Sum', seen)
      })
      const res = plan === undefined || mctx === undefined ? (rule as GradRule).build(ctx) : plan.impl.build(mctx, plan.rule, req.referenceRows === 'halves' ? referenceHelpers(ctx) : undefined)
      const hookView = plan?.impl.shadowsProducer?.includes(n.opType) === true && mctx !== undefined ? mctx.ordinary() : res
      const r = result()
      forward[ni] = r.forward
      backward.push(...r.nodes)
      required.forEach((need, i) => {
        if (!need) return
        const gi = res[i]
        const xi = n.inputs[i] as string
        if (gi === undefined) fail(n, `${n.opType} node '${n.name}': its gradient rule returned no gradient for input ${i} ('${xi}')`)
        else if (plan?.impl.givesRelevance !== true) contribute(xi, gi, hookView[i] ?? gi)
        else if (!wrtSet.has(xi)) fail(n, `${n.opType} node '${n.name}': rule ${plan.rule.rule} is an input-layer rule (it gives relevance, not a gradient), so it must read a differentiated tensor directly, and '${xi}' is computed from it; give this node a gradient-form rule (epsilon, gamma, …) or attribute at '${xi}' (LayerLRP)`)
        else push(relevance, xi, gi)
      })
    } catch (e) {
      if (e instanceof GradBuildError) fail(n, e.message)
      else throw e
    }
  }
  if (failed.length > 0) {
    const e = unsupportedOps(failed, ['graph', 'nodes'])
    return E.left({ ...e, message: `${e.message} Details: ${failures.join('; ')}.` })
  }

  const gradOutputs: Record<string, string> = {}
  const newOutputs: ValueInfo[] = []
  for (const w of [...new Set(req.wrt)]) {
    const acc = accumulate(w)
    const direct = relevance.get(w) ?? []
    const g = !relevanceOut ? acc : outputRelevance(backward, w, acc, direct, req.device)
    if (g === undefined) return E.left(err('NotReachable', `no gradient reaches '${w}'`, ['wrt', w]))
    const name = `${PREFIX}d/${w}`
    backward.push({ name: `${PREFIX}out_node/${w}`, opType: 'Identity', domain: '', inputs: [g], outputs: [name], attributes: [] })
    gradOutputs[w] = name
    newOutputs.push({ name, elemType: types.get(w)?.elemType ?? null, shape: types.get(w)?.shape ?? null })
  }

  let opsetImports = graph.opsetImports
  let irVersion = graph.irVersion
  if (env.requiredOpset > opset) {
    const blockers = graph.nodes.filter((n) => n.domain === '' && BUMP_BLOCKERS.has(n.opType))
    if (opset < 13 || blockers.length > 0) {
      return E.left(err('Unsupported', `the backward graph needs opset ${env.requiredOpset} (overlapping MaxPool windows need ScatterElements with reduction='add'), and this opset-${opset} model cannot be upgraded safely; re-export it with opset >= ${env.requiredOpset}`, ['graph', 'opset']))
    }
    opsetImports = graph.opsetImports.map((o) => (o.domain === '' ? { ...o, version: env.requiredOpset } : o))
    irVersion = Math.max(irVersion, 8)
  }

  return E.right({
    graph: {
      ...graph,
      nodes: [...forward, ...backward],
      inputs: [...graph.inputs, ...newInputs],
      outputs: [...graph.outputs, ...newOutputs],
      opsetImports,
      irVersion,
    },
    seedInputs,
    gradOutputs,
  })
}

/** A wrt tensor's relevance: w ⊙ (its gradient), plus what input-layer rules gave it directly. */
const outputRelevance = (backward: Node[], w: string, grad: string | undefined, direct: readonly string[], device: OnnxDevice | undefined): string | undefined => {
  const parts = [...direct]
  if (grad !== undefined) {
    const times = `${PREFIX}rel_mul/${w}`
    backward.push({ name: `${PREFIX}rel_mul_node/${w}`, opType: 'Mul', domain: '', inputs: [w, grad], outputs: [times], attributes: [] })
    parts.push(times)
  }
  if (parts.length <= 1) return parts[0]
  const sum = `${PREFIX}rel_sum/${w}`
  pushSum(backward, parts, sum, `${PREFIX}rel_sum_node/${w}`, device)
  return sum
}

/**
 * Appends the nodes adding `parts` (same shape) into `out`: one Sum, or on WebGPU a chain of Adds
 * (ONNX Runtime's WebGPU provider has no Sum kernel: a Sum would run on the CPU, with copies both ways).
 */
const pushSum = (backward: Node[], parts: readonly string[], out: string, name: string, device: OnnxDevice | undefined): void => {
  if (device !== 'webgpu' || parts.length < 2) {
    backward.push({ name, opType: 'Sum', domain: '', inputs: [...parts], outputs: [out], attributes: [] })
    return
  }
  let acc = parts[0] as string
  for (let i = 1; i < parts.length; i++) {
    const o = i === parts.length - 1 ? out : `${out}/add${i}`
    backward.push({ name: `${name}/add${i}`, opType: 'Add', domain: '', inputs: [acc, parts[i] as string], outputs: [o], attributes: [] })
    acc = o
  }
}

/** The context of a node under a modified rule: its GradContext plus its ordinary gradient on demand. */
const modifiedContext = (ctx: GradContext, rule: GradRule | undefined, active: ReadonlySet<string>, hookGradOfOutput: (i: number) => string): ModifiedContext => {
  let ordinary: Partial<Record<number, string>> | undefined
  const extra = {
    ordinary: (): Partial<Record<number, string>> => {
      if (ordinary !== undefined) return ordinary
      if (rule === undefined || rule.noGradient === true) return ctx.fail(`this rule needs the ordinary gradient of ${ctx.fwd.opType}, and clarus has no gradient rule for that op type`)
      ordinary = rule.build(ctx)
      return ordinary
    },
    hookGradOfOutput,
    isOnPath: (i: number): boolean => {
      const x = ctx.fwd.inputs[i]
      return x !== undefined && x !== '' && active.has(x)
    },
  }
  // the context's `fwd` is a getter (a rule may add outputs to the node), so extend it by prototype
  return Object.assign(Object.create(ctx) as ModifiedContext, extra)
}
