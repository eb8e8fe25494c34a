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
  /**
   * Inputs the outputs do not depend on differentiably: integer or bool by the op's spec (shapes,
   * indices, axes, conditions) or inputs the op is constant in. These edges are cut silently.
   */
  readonly stopInputs?: readonly number[]
  /**
   * The inputs the rule differentiates (default: every input not in `stopInputs`). A float input that
   * is neither differentiated nor a stop input makes the node unsupported when it lies on the gradient
   * path: the builder reports it instead of dropping that part of the gradient.
   */
  readonly gradInputs?: readonly number[]
  /**
   * The outputs whose cotangents the rule reads (default: all). Another float output on the gradient
   * path (e.g. LayerNormalization's Mean used downstream) makes the node unsupported.
   */
  readonly gradOutputs?: readonly number[]
  /** True for ops that are piecewise constant in every input (ORT's NO_GRADIENT): every edge is cut. */
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

/**
 * How gradient crosses the edge into input `i` of a node handled by `rule` (`i` = -1 for a tensor a
 * subgraph of the node captures from the enclosing graph, which no rule sees):
 * 'diff' the rule differentiates it; 'stop' no gradient exists there (cut silently); 'dropped' the
 * output depends on it but the rule does not differentiate it (an error when on the gradient path).
 * A node without a rule is reported as a whole, so every edge counts as 'diff' for path finding.
 */
export type InputEdge = 'diff' | 'stop' | 'dropped'

export const inputEdge = (rule: GradRule | undefined, i: number): InputEdge => {
  if (rule === undefined) return 'diff'
  if (rule.noGradient === true) return 'stop'
  if (i < 0) return 'dropped'
  if ((rule.stopInputs ?? []).includes(i)) return 'stop'
  if (rule.gradInputs !== undefined && !rule.gradInputs.includes(i)) return 'dropped'
  return 'diff'
}

/** True when the rule reads the cotangent of output `o` (a node without a rule reads them all). */
export const readsGradOf = (rule: GradRule | undefined, o: number): boolean =>
  rule === undefined || (rule.noGradient !== true && (rule.gradOutputs === undefined || rule.gradOutputs.includes(o)))
