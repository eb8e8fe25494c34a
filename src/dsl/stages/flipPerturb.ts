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
import { err, type AttributionError } from '../../core/errors.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { hostRows, sampleRows } from '../perturbation/metricRows.js'
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
    firstProblem([
      wrongKind(f, ['values'], 'flipPerturb changes the inputs an explanation was computed at, in the order of the explanation'),
      f.space.kind === 'input' ? undefined : 'flipPerturb orders input features: the explanation must attribute to the inputs',
      missingSlot(f, ['anchor', 'reference'], 'put reference first and then explain(method) or givenAttributions'),
      missingSlot(f, ['baseline'], 'removing features sets them to the call\'s baselines'),
    ], () => ({ kind: 'points', space: f.space, depth: f.depth + 1, slots: new Set(['reference'] as const) })),
  summary: (p) => `${p.mode === 'deletion' ? 'x with' : 'x′ with'} the ${p.order === 'morf' ? 'most' : 'least'} relevant features ${p.mode === 'deletion' ? 'set to x′' : 'set to x'}, ${p.stepSize} more per step`,
  count: (p, flow, ctx) => Math.ceil(featureCount(flow, ctx) / p.stepSize) + 1,
  expand: <T>(p: FlipPerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const b = ctx.backend
    const anchor = flow.anchor
    if (anchor === undefined || flow.reference === undefined || anchor.baseline === undefined) {
      return E.left(err('BadPipeline', 'flipPerturb needs the explained points, their baselines and F(x): put reference first and then explain(method) or givenAttributions', ['stages']))
    }
    const R = flow.rowExample.length
    const rows = sampleRows(flow, start, end)
    const M = rows.src.length
    const all = Int32Array.from({ length: R }, (_, r) => r)
    const xs = await hostRows(ctx, anchor.value, all)
    const bs = await hostRows(ctx, anchor.baseline, all)
    const as = await hostRows(ctx, flow.value, all)
    for (let j = 0; j < xs.length; j++) {
      if (xs[j]!.dtype !== 'float32') return E.left(err('DTypeMismatch', `input ${j} is ${xs[j]!.dtype}: deletion and insertion change float32 inputs only`, ['inputs', String(j)]))
    }
    const pers = xs.map((x) => sizeOf(x.shape.slice(1)))
    const n = pers.reduce((a, c) => a + c, 0)
    // where feature f lives: input and offset within the example
    const inputOf = new Int32Array(n)
    const offsetOf = new Int32Array(n)
    let f0 = 0
    pers.forEach((per, j) => {
      for (let e = 0; e < per; e++) {
        inputOf[f0] = j
        offsetOf[f0++] = e
      }
    })
    const orders = Array.from({ length: R }, (_, r) => {
      const a = new Float64Array(n)
      for (let f = 0; f < n; f++) a[f] = Number(as[inputOf[f]!]!.data[r * pers[inputOf[f]!]! + offsetOf[f]!]!)
      return flipOrder(a, p.order)
    })
    const [from, to] = p.mode === 'deletion' ? [xs, bs] : [bs, xs]
    const out: HostTensor[] = pers.map((per, j) => ({ dtype: 'float32', shape: [M, ...xs[j]!.shape.slice(1)], data: new Float32Array(M * per) }))
    for (let q = 0; q < M; q++) {
      const r = rows.src[q]!
      pers.forEach((per, j) => (out[j]!.data as Float32Array).set((from[j]!.data as Float32Array).subarray(r * per, (r + 1) * per), q * per))
      const changed = Math.min(n, rows.samples[q]! * p.stepSize)
      const order = orders[r]!
      for (let k = 0; k < changed; k++) {
        const f = order[k]!
        const j = inputOf[f]!
        const per = pers[j]!
        ;(out[j]!.data as Float32Array)[q * per + offsetOf[f]!] = (to[j]!.data as Float32Array)[r * per + offsetOf[f]!]!
      }
    }
    return E.right({
      flow: {
        value: out.map((h) => ctx.track(b.fromHost(h))),
        rowExample: rows.rowExample,
        rowKeys: rows.rowKeys,
        space: flow.space,
        reference: flow.reference,
      },
    })
  },
}
