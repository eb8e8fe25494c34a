/**
 * `explanationScore`: closes an explanation to one number per example, for the metrics that are
 * functions of the attributions alone (or of their completeness delta). Every input's attributions
 * of an example are flattened and concatenated into one vector a of n values.
 *
 * - `gini` (Quantus's Sparseness; Chalasani, Chen, Chowdhury, Wu & Jha 2020): the Gini index of
 *   |a| sorted ascending, G = Σ_i (2i − n − 1) |a|_(i) / (n Σ |a|): 0 for a constant vector,
 *   (n − 1)/n for a one-hot one; higher is sparser. All-zero attributions score 0 (a constant
 *   vector; Quantus gets the same by adding 1e-7 to every value).
 * - `entropy` (Quantus's Complexity; Bhatt, Weller & Moura 2020): the Shannon entropy (natural
 *   log) of p = |a| / Σ |a|, with 0·log 0 = 0: log n for uniform attributions, 0 for a one-hot
 *   one; lower is simpler. All-zero attributions have no distribution and score NaN (as scipy's
 *   `entropy`, which Quantus calls, does).
 * - `absDelta` (completeness; Sundararajan et al. 2017): |δ| with δ = Σ a − (F(x) − F(x′)), read
 *   from the `delta` slot a `completenessDelta` stage filled; lower is better.
 *
 * A map stage: no sample axis, so nothing to chunk or combine.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { sizeOf } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import type { MapStageDef } from '../stage.js'

export const ExplanationScoreKind = t.keyof({ gini: null, entropy: null, absDelta: null }, 'ExplanationScoreKind')
export type ExplanationScoreKind = t.TypeOf<typeof ExplanationScoreKind>

export const ExplanationScoreParams = t.readonly(t.type({ score: ExplanationScoreKind }))
export type ExplanationScoreParams = t.TypeOf<typeof ExplanationScoreParams>

/** The Gini index of |v| (Chalasani et al. 2020's form); 0 for an all-zero vector. */
export const giniIndex = (v: ArrayLike<number>): number => {
  const n = v.length
  const s = Float64Array.from({ length: n }, (_, i) => Math.abs(v[i]!)).sort()
  let total = 0
  let weighted = 0
  for (let i = 0; i < n; i++) {
    total += s[i]!
    weighted += (2 * (i + 1) - n - 1) * s[i]!
  }
  return total === 0 ? 0 : weighted / (n * total)
}

/** The natural-log entropy of |v| / Σ |v|; NaN for an all-zero (or non-finite) vector. */
export const attributionEntropy = (v: ArrayLike<number>): number => {
  let total = 0
  for (let i = 0; i < v.length; i++) total += Math.abs(v[i]!)
  if (!(total > 0) || !Number.isFinite(total)) return NaN
  let h = 0
  for (let i = 0; i < v.length; i++) {
    const p = Math.abs(v[i]!) / total
    if (p > 0) h -= p * Math.log(p)
  }
  return h
}

const SUMMARY: Readonly<Record<ExplanationScoreKind, string>> = {
  gini: 'Gini index of |a|',
  entropy: 'entropy of |a| / Σ |a|',
  absDelta: '|Σ a − (F(x) − F(x′))|',
}

export const explanationScore: MapStageDef<'explanationScore', ExplanationScoreParams> = {
  tag: 'explanationScore',
  kind: 'map',
  params: ExplanationScoreParams,
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'explanationScore scores an explanation'),
      f.space.kind === 'input' && f.depth === 0 ? undefined : 'explanationScore scores one explanation per example over the inputs: put it after explain(method) or givenAttributions, outside any expansion',
      p.score === 'absDelta' ? missingSlot(f, ['delta'], 'put completenessDelta before it') : undefined,
    ], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => SUMMARY[p.score],
  run: <T>(p: ExplanationScoreParams, flow: Flow<T>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Flow<T>> => async () => {
    const b = ctx.backend
    const R = flow.rowExample.length
    const scores = new Float32Array(R)
    if (p.score === 'absDelta') {
      if (flow.delta === undefined) return E.left(err('BadPipeline', 'explanationScore(absDelta) needs a completeness delta: put completenessDelta before it', ['stages']))
      const d = await b.toHost(flow.delta)
      if (d.data.length !== R) return E.left(err('ShapeMismatch', `the completeness delta has ${d.data.length} values for ${R} example(s): pick one model output per example with the target`, ['target']))
      for (let r = 0; r < R; r++) scores[r] = Math.abs(Number(d.data[r]!))
    } else {
      const hs = await Promise.all(flow.value.map((v) => b.toHost(v)))
      const pers = hs.map((h) => sizeOf(h.shape.slice(1)))
      const width = pers.reduce((a, c) => a + c, 0)
      const row = new Float64Array(width)
      for (let r = 0; r < R; r++) {
        let at = 0
        hs.forEach((h, j) => {
          const per = pers[j]!
          for (let e = 0; e < per; e++) row[at++] = Number(h.data[r * per + e]!)
        })
        scores[r] = p.score === 'gini' ? giniIndex(row) : attributionEntropy(row)
      }
    }
    const { delta: _delta, anchor: _anchor, reference: _reference, ...kept } = flow
    void _delta
    void _anchor
    void _reference
    return E.right({ ...kept, value: [ctx.track(b.fromHost({ dtype: 'float32', shape: [R], data: scores }))] })
  },
}
