/**
 * The shape of one modified-backprop rule on the tfjs backend: a value that, for the kernels it
 * knows, computes the gradient a matched tape node hands to its main input in place of the ordinary
 * one. Rules are collected in an explicit list (`index.ts`); `ruleSets.ts` picks one per node.
 *
 * @internal
 */
import * as tf from '@tensorflow/tfjs-core'
import type { Rule, RuleName } from '../../../core/ruleSet.js'

/** What a gradient closure of a tape node returns: one thunk per input name. */
export type GradMap = Record<string, () => tf.Tensor>

/**
 * One matched node as a rule sees it: the kernel, its main input `x` and output `y` (kept copies,
 * released with the tape), and the node's ordinary gradient for any upstream gradient.
 */
export interface NodeContext {
  readonly kernel: string
  readonly x: tf.Tensor
  readonly y: tf.Tensor
  /** The ordinary gradient w.r.t. the main input for upstream gradient `dy`. */
  readonly ordinary: (dy: tf.Tensor) => tf.Tensor
  /** The ordinary gradient w.r.t. every input on the gradient path, by tfjs input name. */
  readonly ordinaryAll: (dy: tf.Tensor) => Record<string, tf.Tensor>
  /** The batch layout helpers, when the call gave `referenceRows: 'halves'`. */
  readonly halves: Halves | undefined
  /**
   * Kept copies of all the kernel's inputs, by tfjs input name (filled for kernels whose rule reads
   * more than the main input: the LRP rules on matmuls and convolutions, `uniform`).
   */
  readonly inputs: Readonly<Record<string, tf.Tensor>>
  /** The kernel's attributes (transposes, strides, padding, …) as it ran; empty when not recorded. */
  readonly attrs: Readonly<Record<string, unknown>>
  /** The names of the inputs that lie on the gradient path (depend on the differentiated tensors). */
  readonly variable: readonly string[]
  /**
   * The output that carries the relevance: `y` plus the bias that a following Add (through
   * reshapes only) adds to it, reshaped to `y`'s shape; `y` itself when no such bias follows. tfjs
   * computes a biased layer as a matmul or convolution then an Add, where ONNX has one Gemm/Conv
   * node; the LRP rules that treat the bias apart (γ, αβ) read it here, so both backends agree.
   */
  readonly yOut: tf.Tensor
}

/**
 * Helpers for a batch of 2n rows where row n + i is the reference of row i (Captum's DeepLift
 * layout): the per-pair difference, and the per-pair sum of a tensor, each tiled back to 2n rows.
 */
export interface Halves {
  /** t[i] − t[n + i] for each pair, repeated for both halves (2n rows). */
  readonly delta: (t: tf.Tensor) => tf.Tensor
  /** t[i] + t[n + i] for each pair, repeated for both halves (2n rows). */
  readonly pairSum: (t: tf.Tensor) => tf.Tensor
  /** The first and second halves of a 2n-row tensor. */
  readonly split: (t: tf.Tensor) => readonly [tf.Tensor, tf.Tensor]
}

export const halvesOf = (): Halves => {
  const split = (t: tf.Tensor): readonly [tf.Tensor, tf.Tensor] => {
    const [a, b] = tf.split(t, 2, 0)
    return [a!, b!]
  }
  const twice = (t: tf.Tensor): tf.Tensor => tf.concat([t, t], 0)
  return {
    split,
    delta: (t) => {
      const [a, b] = split(t)
      return twice(tf.sub(a, b))
    },
    pairSum: (t) => {
      const [a, b] = split(t)
      return twice(tf.add(a, b))
    },
  }
}

export interface TfjsModifiedRule {
  readonly rule: RuleName
  /** tfjs kernel names whose gradient this rule can replace. */
  readonly kernels: readonly string[]
  /** True when the rule compares each row with its reference (needs `referenceRows: 'halves'`). */
  readonly needsReference?: boolean
  /** True when the rule reads every input of the kernel ({@link NodeContext.inputs}), its attributes and a following bias. */
  readonly needsInputs?: boolean
  /**
   * True for the input-layer LRP rules (flat, wSquare, zBox): `grad` returns the *relevance* of the
   * kernel's variable input, not a gradient, because they give relevance to inputs that are zero
   * (which R = x ⊙ g cannot carry). That input must be a differentiated tensor itself; under a rule
   * set with such a rule the vjp returns relevance at every differentiated tensor (see `ruleSets.ts`).
   */
  readonly givesRelevance?: boolean
  /**
   * Why the rule cannot apply to this node (e.g. a weight that depends on the input), given the
   * names of its inputs on the gradient path; reported with the other uncovered nodes before the
   * backward pass. Undefined when it applies.
   */
  readonly problem?: (kernel: string, variable: readonly string[]) => string | undefined
  /** The main input's gradient for upstream gradient `dy` (inside a tidy: temporaries are freed). */
  readonly grad?: (c: NodeContext, dy: tf.Tensor, rule: Rule) => tf.Tensor
  /**
   * For rules that rewrite the gradient of other inputs than the main one: the gradient of every
   * input on the path, by tfjs input name (used instead of `grad` when given; run inside a tidy).
   */
  readonly grads?: (c: NodeContext, dy: tf.Tensor, rule: Rule) => Record<string, tf.Tensor>
}

/** The main input of a kernel (the one a rule rewrites); other inputs keep their ordinary gradient. */
export const mainInput = (kernel: string): string => (kernel === 'Softmax' ? 'logits' : 'x')
