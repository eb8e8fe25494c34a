/**
 * Every modified-backprop rule the tfjs backend implements, in one explicit list (no
 * side-effect registration). `gradient` applies to every kernel and is handled by `ruleSets.ts`
 * without rewriting the node; LRP rules are not implemented on tfjs yet.
 *
 * @internal
 */
import { deconv } from './deconv.js'
import { gradient } from './gradient.js'
import { guided } from './guided.js'
import { epsilon } from './epsilon.js'
import { identity } from './identity.js'
import { rescale } from './rescale.js'
import type { TfjsModifiedRule } from './types.js'

export const ALL_TFJS_MODIFIED_RULES: readonly TfjsModifiedRule[] = [rescale, guided, deconv, identity, gradient, epsilon]
