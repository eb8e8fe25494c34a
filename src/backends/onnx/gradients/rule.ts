/**
 * A gradient rule for one ONNX op type: a value, registered in the flat list `rules/index.ts`.
 * Modelled on ORT's `GradientBuilderBase` vocabulary (see `context.ts`).
 *
 * @internal
 */
import type { GradContext } from './context.js'

export interface GradRule {
  /** ONNX op type, spelled as in the operator spec; equals the rule's file and export name. */
  readonly opType: string
  /** Operator domain; '' (or 'ai.onnx') is the standard domain. */
  readonly domain: string
  /** Since-versions of the op this rule handles; the model's opset must be at least the first one. */
  readonly opsets?: readonly number[]
  /** Input indices that never carry gradient (shape, indices, exponent, condition, bounds, …). */
  readonly stopInputs?: readonly number[]
  /** Input indices that carry gradient only at these indices (all others cut); overrides `stopInputs`. */
  readonly gradInputs?: readonly number[]
  /** True for ops with no gradient path at all (ORT's NO_GRADIENT): every input edge is cut. */
  readonly noGradient?: boolean
  /** Emits backward nodes through `g` and returns the gradient tensor name per forward input index. */
  readonly build: (g: GradContext) => Partial<Record<number, string>>
}

/** A marker rule for an op type with no gradient path (Shape, Constant, comparisons, …). */
export const noGradient = (opType: string, domain = ''): GradRule => ({
  opType,
  domain,
  noGradient: true,
  build: () => ({}),
})

/** Registry key of an op type in a domain. */
export const ruleKey = (domain: string, opType: string): string =>
  `${domain === 'ai.onnx' ? '' : domain}::${opType}`

/** True when input `i` of a node handled by `rule` can carry gradient. */
export const isDiffInput = (rule: GradRule | undefined, i: number): boolean => {
  if (rule === undefined) return true
  if (rule.noGradient === true) return false
  if (rule.gradInputs !== undefined) return rule.gradInputs.includes(i)
  return !(rule.stopInputs ?? []).includes(i)
}
