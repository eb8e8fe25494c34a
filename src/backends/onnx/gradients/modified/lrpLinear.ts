/**
 * Shared pieces of the LRP rules on ONNX. clarus propagates a *modified gradient* g, with the
 * relevance of any tensor t read as R_t = t ⊙ g_t (so the method's last step multiplies by the
 * input, and ops whose ordinary gradient is exact keep it). Starting from g = 1 at the target
 * output, R = y there, as in Captum. A rule for a linear node y = f(x; W) + b turns its cotangent
 * g_y into the relevance R_y = y ⊙ g_y, divides by the rule's (stabilised) denominator, and
 * pulls the quotient back through a linear map with (possibly modified) weights, using the op's
 * ordinary gradient rule on a view of the node with the weight replaced.
 *
 * @internal
 */
import { ALL_GRAD_RULES } from '../rules/index.js'
import type { GradContext } from '../context.js'
import type { ModifiedContext } from './types.js'

/** Captum's LRP stabiliser (`STABILITY_FACTOR`), used where a rule has no ε of its own. */
export const LRP_STABILISER = 1e-9

/** z + ε·sign(z), with sign(0) = +1 (Captum's convention), so the denominator is never 0. */
export const stabilise = (g: GradContext, z: string, eps: number): string => {
  const neg = g.node('Less', [z, g.constant(0, z)])
  return g.node('Add', [z, g.node('Where', [neg, g.constant(-eps, z), g.constant(eps, z)])])
}

/** Relevance at the output divided by a denominator: y ⊙ g_y / stabilise(z). */
export const relevanceOver = (g: GradContext, z: string, eps: number): string =>
  g.node('Div', [g.node('Mul', [g.output(0), g.gradOfOutput(0)]), stabilise(g, z, eps)])

/** Indices of the node's inputs that lie on the gradient path. */
export const onPath = (g: ModifiedContext): number[] =>
  Array.from({ length: g.inputCount }, (_, i) => i).filter((i) => g.isOnPath(i))

/**
 * The node's ordinary vector-Jacobian product for cotangent `dy`, with some inputs replaced (a
 * modified weight) and gradients only for `wanted`: the op's own gradient rule, run on a view of
 * the context. Shape queries on a replacement answer with the shape of the input it replaces.
 */
export const vjpWith = (
  g: ModifiedContext,
  dy: string,
  replace: Readonly<Record<number, string>>,
  wanted: readonly number[],
): Partial<Record<number, string>> => {
  const rule = ALL_GRAD_RULES.find((r) => r.opType === g.fwd.opType && (r.domain === '' || r.domain === 'ai.onnx'))
  if (rule === undefined) return g.fail(`no ordinary gradient rule for ${g.fwd.opType} to build the LRP rule on`)
  const alias = new Map<string, string>(Object.entries(replace).map(([i, n]) => [n, g.input(Number(i))]))
  const orig = (n: string): string => alias.get(n) ?? n
  const view = Object.create(g, {
    input: { value: (i: number): string => replace[i] ?? g.input(i) },
    gradOfOutput: { value: (i: number): string => (i === 0 ? dy : g.gradOfOutput(i)) },
    hasGradOfOutput: { value: (i: number): boolean => i === 0 || g.hasGradOfOutput(i) },
    isGradRequired: { value: (i: number): boolean => wanted.includes(i) },
    shapeOf: { value: (n: string) => g.shapeOf(orig(n)) },
    rankOf: { value: (n: string) => g.rankOf(orig(n)) },
    elemTypeOf: { value: (n: string) => g.elemTypeOf(orig(n)) },
  }) as GradContext
  const out = rule.build(view)
  const res: Partial<Record<number, string>> = {}
  for (const i of wanted) {
    const gi = out[i]
    if (gi === undefined) return g.fail(`the ${g.fwd.opType} gradient rule gave no gradient for input ${i}`)
    res[i] = gi
  }
  return res
}

/** Where a linear node's variable input, constant weight and optional bias sit. */
export interface LinearSlots {
  readonly x: number
  readonly w: number
  readonly bias?: number
}

/** Op types the weight-modifying LRP rules (gamma, alphaBeta, zPlus) handle. */
export const WEIGHTED_OPS = ['Gemm', 'MatMul', 'Conv'] as const

/**
 * The slots of a Gemm (A·B + C), MatMul (either operand constant) or Conv (X, W, B) node whose
 * weight is a constant: a weight on the gradient path (a product of two variables) is not a
 * linear layer, and the node is reported.
 */
export const linearSlots = (g: ModifiedContext): LinearSlots => {
  const op = g.fwd.opType
  const bias = g.inputCount > 2 && g.fwd.inputs[2] !== '' ? 2 : undefined
  if (op === 'MatMul') {
    if (g.isOnPath(0) && g.isOnPath(1)) return g.fail('both MatMul operands depend on the input, so it is not a linear layer; give it the \'uniform\' rule (AttnLRP)')
    return g.isOnPath(1) ? { x: 1, w: 0 } : { x: 0, w: 1 }
  }
  if (g.isOnPath(1)) return g.fail(`the weight of this ${op} depends on the input, so it is not a linear layer`)
  return bias === undefined ? { x: 0, w: 1 } : { x: 0, w: 1, bias }
}

/** The node's forward op again, with some inputs replaced and, optionally, its bias left out. */
export const forwardWith = (g: GradContext, replace: Readonly<Record<number, string>>, dropBias: boolean): string => {
  const inputs = g.fwd.inputs.map((n, i) => replace[i] ?? n)
  const kept = dropBias && g.fwd.opType !== 'MatMul' ? inputs.slice(0, 2) : inputs
  return g.node(g.fwd.opType, kept, g.fwd.attributes)
}

/** max(W, 0) and min(W, 0). */
export const positivePart = (g: GradContext, w: string): string => g.node('Relu', [w])
export const negativePart = (g: GradContext, w: string): string => g.node('Neg', [g.node('Relu', [g.node('Neg', [w])])])

/** A tensor of ones shaped like `like`. */
export const onesLike = (g: GradContext, like: string): string => g.node('Add', [g.zerosLike(like), g.constant(1, like)])

/**
 * The input-layer rules that spread each output's relevance over its receptive field in proportion
 * to modified weights W′, whatever the input values (flat: W′ = 1; w²: W′ = W²): the relevance of
 * the input is J_{W′}ᵀ(R_y / f(1; W′)), bias left out, with R_y = y ⊙ g_y.
 */
export const spreadOverField = (g: ModifiedContext, weightOf: (w: string) => string): Partial<Record<number, string>> => {
  const s = linearSlots(g)
  const w = weightOf(g.input(s.w))
  const den = forwardWith(g, { [s.x]: onesLike(g, g.input(s.x)), [s.w]: w }, true)
  return vjpWith(g, relevanceOver(g, den, LRP_STABILISER), { [s.w]: w }, [s.x])
}
