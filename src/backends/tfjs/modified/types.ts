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
  /** The batch layout helpers, when the call gave `referenceRows: 'halves'`. */
  readonly halves: Halves | undefined
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
  /** The main input's gradient for upstream gradient `dy` (inside a tidy: temporaries are freed). */
  readonly grad: (c: NodeContext, dy: tf.Tensor, rule: Rule) => tf.Tensor
}

/** The main input of a kernel (the one a rule rewrites); other inputs keep their ordinary gradient. */
export const mainInput = (kernel: string): string => (kernel === 'Softmax' ? 'logits' : 'x')
