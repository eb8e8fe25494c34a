/**
 * `flipPerturb`: the expansion of the deletion and insertion curves (region / pixel flipping;
 * Samek, Binder, Montavon, Lapuschkin & Müller 2017, arXiv:1509.06321; Petsiuk, Das & Saenko 2018,
 * RISE, arXiv:1806.07421). The features of an example are all elements of all its inputs; they are
 * ordered by their attribution (the explanation in the flow), largest first (`morf`, most relevant
 * first) or smallest first (`lerf`, least relevant first), ties by position. Entry s of the axis
 * (s = 0 … ⌈n / stepSize⌉) changes the first min(n, s · stepSize) features of that order:
 *
 * - `deletion`: x with those features set to the baseline (s = 0 is x, the last entry x′);
 * - `insertion`: x′ with those features set to x (s = 0 is x′, the last entry x).
 *
 * The flow inside holds the changed points and F(x) from `reference`, for `forward` and the
 * `curveScore` reducer. Nothing is random; entries are computed per row, so chunking does not
 * change them.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import type { AttributionError } from '../../core/errors.js'
import { sizeOf } from '../../core/tensor.js'
import { missingSlot } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { copyRows, explainedInputsTransfer, perturbedFlow, readExplainedRows, sampleRows } from '../perturbation/metricRows.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

export const FlipMode = t.keyof({ deletion: null, insertion: null }, 'FlipMode')
export type FlipMode = t.TypeOf<typeof FlipMode>
export const FlipOrder = t.keyof({ morf: null, lerf: null }, 'FlipOrder')
export type FlipOrder = t.TypeOf<typeof FlipOrder>

export const FlipPerturbParams = t.readonly(t.type({ mode: FlipMode, order: FlipOrder, stepSize: PositiveInt }))
export type FlipPerturbParams = t.TypeOf<typeof FlipPerturbParams>

/** The number of features of an example: every element of every input. */
const featureCount = <T>(flow: Flow<T>, ctx: RunContext<T>): number =>
  flow.value.reduce((a, v) => a + sizeOf(ctx.backend.shapeOf(v).slice(1)), 0)

/** The positions 0…n−1 ordered by `a`, largest first for `morf`, smallest first for `lerf`, ties by position. */
export const flipOrder = (a: ArrayLike<number>, order: FlipOrder): Int32Array => {
  const idx = Int32Array.from({ length: a.length }, (_, i) => i)
  const sign = order === 'morf' ? -1 : 1
  return idx.sort((i, j) => sign * (a[i]! - a[j]!) || i - j)
}

export const flipPerturb: ExpandStageDef<'flipPerturb', FlipPerturbParams> = {
  tag: 'flipPerturb',
  kind: 'expand',
  axis: 'sample',
  params: FlipPerturbParams,
  needs: () => ['baselines'],
  abstract: (_p, f) =>
    explainedInputsTransfer(
      f,
      'flipPerturb changes the inputs an explanation was computed at, in the order of the explanation',
      'flipPerturb orders input features: the explanation must attribute to the inputs',
      missingSlot(f, ['baseline'], 'removing features sets them to the call\'s baselines'),
    ),
  summary: (p) => `${p.mode === 'deletion' ? 'x with' : 'x′ with'} the ${p.order === 'morf' ? 'most' : 'least'} relevant features ${p.mode === 'deletion' ? 'set to x′' : 'set to x'}, ${p.stepSize} more per step`,
  count: (p, flow, ctx) => Math.ceil(featureCount(flow, ctx) / p.stepSize) + 1,
  expand: <T>(p: FlipPerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const read = await readExplainedRows(ctx, flow, 'flipPerturb', 'deletion and insertion change')
    if (E.isLeft(read)) return read
    const { xs, bs, as, pers, n, inputOf, offsetOf } = read.right
    const R = flow.rowExample.length
    const rows = sampleRows(flow, start, end)
    const M = rows.src.length
    const orders = Array.from({ length: R }, (_, r) => {
      const a = new Float64Array(n)
      for (let f = 0; f < n; f++) a[f] = Number(as[inputOf[f]!]!.data[r * pers[inputOf[f]!]! + offsetOf[f]!]!)
      return flipOrder(a, p.order)
    })
    const [from, to] = p.mode === 'deletion' ? [xs, bs] : [bs, xs]
    const out = copyRows(from, pers, rows.src)
    for (let q = 0; q < M; q++) {
      const r = rows.src[q]!
      const changed = Math.min(n, rows.samples[q]! * p.stepSize)
      const order = orders[r]!
      for (let k = 0; k < changed; k++) {
        const f = order[k]!
        const j = inputOf[f]!
        const per = pers[j]!
        ;(out[j]!.data as Float32Array)[q * per + offsetOf[f]!] = (to[j]!.data as Float32Array)[r * per + offsetOf[f]!]!
      }
    }
    return E.right({ flow: perturbedFlow(ctx, flow, rows, out) })
  },
}
