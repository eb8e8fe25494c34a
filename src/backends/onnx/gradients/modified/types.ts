/**
 * The shape of a modified-backprop rule on ONNX: a value that replaces the ordinary gradient of the
 * nodes a rule set gives one rule (`rescale`, `guided`, `epsilon`, …) with that rule's formulation in
 * standard ONNX ops. One file per rule in this folder, collected in `index.ts` (`ALL_MODIFIED_RULES`);
 * `buildBackward` looks a node's rule up by (rule name, op type), and a rule without an implementation
 * for that op type is reported like an unmatched node (never a silent fallback).
 *
 * @internal
 */
import type { Rule, RuleName } from '../../../../core/ruleSet.js'
import type { GradContext } from '../context.js'
import type { ReferenceHelpers } from './reference.js'

/**
 * What a modified rule sees of its node: the ordinary {@link GradContext}, plus the node's ordinary
 * gradient on demand (DeepLift falls back to it where input and reference coincide, guided backprop
 * rectifies it, `gradient` is it).
 */
export interface ModifiedContext extends GradContext {
  /**
   * Emits the node's ordinary gradient (its {@link GradRule}) and returns it per input index. Fails
   * the node (reported with the others) when the op type has no ordinary gradient rule.
   */
  ordinary(): Partial<Record<number, string>>
  /**
   * The cotangent of output `i` as Captum's module hooks record it: like {@link GradContext.gradOfOutput},
   * except that a consumer whose rule shadows its producer ({@link ModifiedRule.shadowsProducer})
   * counts with its ordinary gradient. (Captum records a module's output gradient in a hook on its
   * output tensor that runs before the hook of the next hooked module replaces that tensor's gradient.)
   */
  hookGradOfOutput(i: number): string
  /** True when input `i` lies on the gradient path (depends differentiably on a wrt tensor). */
  isOnPath(i: number): boolean
}

/** Any op type that has an ordinary gradient rule (for `gradient`, the explicit ordinary gradient). */
export const ANY_OP_WITH_GRADIENT = '*'

export interface ModifiedRule {
  /** The rule of the rule-set vocabulary this implements (core/ruleSet.ts). */
  readonly rule: RuleName
  /**
   * ONNX op types whose gradient it can replace, spelled as in the operator spec;
   * {@link ANY_OP_WITH_GRADIENT} for every op type that has an ordinary gradient rule.
   */
  readonly opTypes: readonly string[]
  /**
   * True when the rule compares each row with its reference (DeepLift's `rescale`): the call must
   * give `referenceRows: 'halves'` (rows n + i are the references of rows i), else every node that
   * needs it is reported.
   */
  readonly needsReference?: boolean
  /**
   * The op types on which this rule's node shadows its producer (DeepLift's rescale on MaxPool): in
   * Captum the hook replacing a MaxPool's input gradient runs after the hook that records its
   * producer's output gradient, so a producer reading {@link ModifiedContext.hookGradOfOutput} sees
   * the MaxPool's ordinary gradient instead of its rule's. The Captum fixtures need this for a ReLU
   * feeding a MaxPool. It is kept to MaxPool on purpose: between two elementwise activations it
   * would break DeepLift's completeness, and the tfjs backend applies it the same way.
   */
  readonly shadowsProducer?: readonly string[]
  /**
   * True for the input-layer rules (flat, wSquare, zBox): `build` returns the *relevance* of the
   * node's variable input, not a gradient, because they give relevance to inputs that are zero
   * (which R = x ⊙ g cannot carry). That input must be a differentiated (wrt) tensor; the backward
   * builder then returns relevance for every wrt tensor (see `BackwardRequest`).
   */
  readonly givesRelevance?: boolean
  /**
   * Same contract as `GradRule.build` (emit nodes through `g`, return the gradient per forward input
   * index), with the rule's parameters and, when the call gives references, the batch-layout helpers.
   */
  readonly build: (g: ModifiedContext, rule: Rule, ref: ReferenceHelpers | undefined) => Partial<Record<number, string>>
}

/** Registry key of a (rule, op type) pair. */
export const modifiedKey = (rule: RuleName, opType: string): string => `${rule}::${opType}`
