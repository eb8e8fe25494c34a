/**
 * Is a concept's TCAV score more than chance? The check of Kim et al. (2018), as Captum's TCAV
 * tutorial runs it: train the concept against each of R random concepts ([C, R₀], …, [C, R_{R−1}])
 * and, as the null, a random concept against the others ([R₀, R₁], …, [R₀, R_{R−1}]); the first
 * concept's score of each set gives two samples (R and R − 1 values), compared per layer with a
 * two-sided two-sample t-test (Student's by default, as `scipy.stats.ttest_ind`; Welch's with
 * `equalVariance: false`). The concept is significant at a layer when p < `alpha`.
 *
 * Captum has no such function (its tutorial calls scipy); the random draws behind it are the
 * seeded classifier fits of the underlying {@link tcav} call, so the result is reproducible.
 *
 * @category concept
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { TensorLike } from '../api/callData.js'
import type { Model } from '../core/backend.js'
import { decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import { setKey, type Concept } from './concept.js'
import { tcav, type TcavCall, type TcavResult } from './tcav.js'
import { tTest } from './tTest.js'

const OpenUnit = t.refinement(t.number, (x) => Number.isFinite(x) && x > 0 && x < 1, 'a number in (0, 1)')

/** The test's own options. */
export const SignificanceOptions = t.readonly(
  t.partial({
    /** Which score is tested (default `signCount`, as in the paper). */
    scoreType: t.keyof({ signCount: null, magnitude: null }),
    /** Significance level (default 0.05). */
    alpha: OpenUnit,
    /** Student's pooled-variance test (default true) or Welch's (false). */
    equalVariance: t.boolean,
  }),
  'SignificanceOptions',
)
export type SignificanceOptions = t.TypeOf<typeof SignificanceOptions>

export const significanceDefaults = { scoreType: 'signCount', alpha: 0.05, equalVariance: true } as const

/** A significance call: a concept, at least three random concepts, and a TCAV call's other fields. */
export interface SignificanceCall extends Omit<TcavCall, 'experimentalSets'>, SignificanceOptions {
  readonly concept: Concept
  readonly randomConcepts: readonly Concept[]
}

/** The test at one layer. */
export interface LayerSignificance {
  /** The concept's score against each random concept (R values). */
  readonly conceptScores: readonly number[]
  /** A random concept's score against each other random concept (R − 1 values). */
  readonly randomScores: readonly number[]
  readonly statistic: number
  readonly df: number
  readonly pValue: number
  /** p < alpha (false when the test is undefined: both samples constant and equal). */
  readonly significant: boolean
}

export interface SignificanceResult {
  /** Per layer (as named in the call). */
  readonly layers: Readonly<Record<string, LayerSignificance>>
  /** The TCAV run behind the test (all 2R − 1 sets). */
  readonly tcav: TcavResult
}

/** Runs the random-concept significance test (see the module doc). Never throws: errors are in the Left. */
export const tcavSignificance = <T>(model: Model<T>, inputs: TensorLike<T>, call: SignificanceCall): TE.TaskEither<AttributionError, SignificanceResult> => async () => {
  const { concept, randomConcepts, scoreType, alpha, equalVariance, ...rest } = call
  const o = decodeWith(SignificanceOptions, { scoreType, alpha, equalVariance })
  if (E.isLeft(o)) return o
  const s = { ...significanceDefaults, ...Object.fromEntries(Object.entries(o.right).filter(([, v]) => v !== undefined)) }
  if (!Array.isArray(randomConcepts) || randomConcepts.length < 3) {
    return E.left(err('EmptyInput', `the significance test needs at least 3 random concepts (the null sample has one value per random concept after the first); got ${Array.isArray(randomConcepts) ? randomConcepts.length : 0}`, ['randomConcepts']))
  }
  const r0 = randomConcepts[0]!
  const conceptSets = randomConcepts.map((r) => [concept, r])
  const nullSets = randomConcepts.slice(1).map((r) => [r0, r])
  const run = await tcav(model, inputs, { ...rest, experimentalSets: [...conceptSets, ...nullSets] })()
  if (E.isLeft(run)) return run
  const layers = typeof call.layers === 'string' ? [call.layers] : call.layers
  const out: Record<string, LayerSignificance> = {}
  const first = (set: readonly Concept[], layer: string): number => {
    const sc = run.right.scores[setKey(set)]![layer]!
    return (s.scoreType === 'signCount' ? sc.signCount : sc.magnitude).data[0]!
  }
  for (const layer of layers) {
    const conceptScores = conceptSets.map((set) => first(set, layer))
    const randomScores = nullSets.map((set) => first(set, layer))
    const test = tTest(conceptScores, randomScores, s.equalVariance)
    out[layer] = { conceptScores, randomScores, ...test, significant: test.pValue < s.alpha }
  }
  return E.right({ layers: out, tcav: run.right })
}
