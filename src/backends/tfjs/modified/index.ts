/**
 * Every modified-backprop rule the tfjs backend implements, in one explicit list (no
 * side-effect registration). `gradient` applies to every kernel and is handled by `ruleSets.ts`
 * without rewriting the node. A rule name may appear twice for disjoint kernels (the ε-rule on
 * single-input kernels and on two-operand ones).
 *
 * @internal
 */
import { alphaBeta } from './alphaBeta.js'
import { deconv } from './deconv.js'
import { gamma } from './gamma.js'
import { gradient } from './gradient.js'
import { guided } from './guided.js'
import { epsilon, epsilonOperands } from './epsilon.js'
import { flat } from './flat.js'
import { identity } from './identity.js'
import { rescale } from './rescale.js'
import { uniform } from './uniform.js'
import { wSquare } from './wSquare.js'
import { zBox } from './zBox.js'
import { zPlus } from './zPlus.js'
import type { TfjsModifiedRule } from './types.js'

export const ALL_TFJS_MODIFIED_RULES: readonly TfjsModifiedRule[] = [rescale, guided, deconv, identity, gradient, epsilon, epsilonOperands, gamma, alphaBeta, zPlus, uniform, flat, wSquare, zBox]
