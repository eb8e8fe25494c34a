/**
 * The flat, reviewed list of ONNX modified-backprop rules. Adding a rule = one file in this folder
 * (a {@link ModifiedRule}), one line here, tests in test/unit/backends/onnx/ruleSets.test.ts. The
 * lookup table is built per call from an array (never a global): `makeModifiedRegistry(rules)`.
 *
 * @internal
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidSpec, type AttributionError } from '../../../../core/errors.js'
import type { RuleName } from '../../../../core/ruleSet.js'
import { alphaBeta } from './alphaBeta.js'
import { deconv } from './deconv.js'
import { epsilon } from './epsilon.js'
import { flat } from './flat.js'
import { gamma } from './gamma.js'
import { gradient } from './gradient.js'
import { guided } from './guided.js'
import { identity } from './identity.js'
import { rescale } from './rescale.js'
import { uniform } from './uniform.js'
import { wSquare } from './wSquare.js'
import { zBox } from './zBox.js'
import { zPlus } from './zPlus.js'
import { ANY_OP_WITH_GRADIENT, modifiedKey, type ModifiedRule } from './types.js'

export const ALL_MODIFIED_RULES: readonly ModifiedRule[] = [
  alphaBeta,
  deconv,
  epsilon,
  flat,
  gamma,
  gradient,
  guided,
  identity,
  rescale,
  uniform,
  wSquare,
  zBox,
  zPlus,
]

/** A lookup table from (rule, op type) to its implementation. */
export type ModifiedRegistry = ReadonlyMap<string, ModifiedRule>

/** Builds the lookup table; two implementations of one (rule, op type) are an error. */
export const makeModifiedRegistry = (rules: readonly ModifiedRule[]): E.Either<AttributionError, ModifiedRegistry> => {
  const m = new Map<string, ModifiedRule>()
  const dups: string[] = []
  for (const r of rules) {
    for (const op of r.opTypes) {
      const k = modifiedKey(r.rule, op)
      if (m.has(k)) dups.push(`${r.rule} on ${op}`)
      else m.set(k, r)
    }
  }
  return dups.length > 0
    ? E.left(invalidSpec(dups.map((d) => ({ path: ['modifiedRules', d], message: `two implementations of rule ${d}; give one per (rule, op type)` }))))
    : E.right(m)
}

/**
 * The implementation of `rule` for `opType`: the one listing that op type, else one for
 * {@link ANY_OP_WITH_GRADIENT} when the op has an ordinary gradient rule.
 */
export const lookupModified = (reg: ModifiedRegistry, rule: RuleName, opType: string, hasOrdinary: boolean): ModifiedRule | undefined =>
  reg.get(modifiedKey(rule, opType)) ?? (hasOrdinary ? reg.get(modifiedKey(rule, ANY_OP_WITH_GRADIENT)) : undefined)

export type { ModifiedRule, ModifiedContext } from './types.js'
export type { ReferenceHelpers } from './reference.js'
