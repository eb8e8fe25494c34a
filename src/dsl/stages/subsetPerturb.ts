/**
 * `subsetPerturb`: faithfulness correlation's expansion (Bhatt, Weller & Moura 2020,
 * arXiv:2005.00631). For each of `nSamples` samples and each example it draws a random subset of
 * `subsetSize` features (every element of every input is a feature; drawn without replacement,
 * keyed per row so chunking does not change the draws), sets them to the baseline, and records
 * Σ a over the subset (a = the explanation in the flow) for the reducer; the flow inside holds the
 * perturbed points and F(x) from `reference`.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, uniforms } from '../../core/random.js'
import { missingSlot } from '../abstract.js'
import { rowKey, type Flow, type RunContext } from '../flow.js'
import { copyRows, explainedInputsTransfer, perturbedFlow, readExplainedRows, sampleRows } from '../perturbation/metricRows.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

export const SubsetPerturbParams = t.readonly(t.type({ nSamples: PositiveInt, subsetSize: PositiveInt }))
export type SubsetPerturbParams = t.TypeOf<typeof SubsetPerturbParams>

/** What each chunk tells the reducer: Σ a over the subset of each of its rows (row q = k·R + r). */
export interface SubsetChunk {
  readonly attrSum: Float64Array
}

export const isSubsetChunk = (u: unknown): u is SubsetChunk =>
  typeof u === 'object' && u !== null && (u as { attrSum?: unknown }).attrSum instanceof Float64Array

const SUBSET = 0x73756273

/** `k` distinct positions of 0…n−1 from `k` uniforms (a partial Fisher–Yates shuffle). */
export const drawSubset = (u: ArrayLike<number>, n: number, k: number): Int32Array => {
  const idx = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = 0; i < k; i++) {
    const j = i + Math.min(n - i - 1, Math.floor(u[i]! * (n - i)))
    const v = idx[i]!
    idx[i] = idx[j]!
    idx[j] = v
  }
  return idx.slice(0, k)
}

export const subsetPerturb: ExpandStageDef<'subsetPerturb', SubsetPerturbParams> = {
  tag: 'subsetPerturb',
  kind: 'expand',
  axis: 'sample',
  params: SubsetPerturbParams,
  needs: () => ['baselines'],
  abstract: (_p, f) =>
    explainedInputsTransfer(
      f,
      'subsetPerturb perturbs the inputs an explanation was computed at',
      'subsetPerturb compares attributions over the inputs: the explanation must attribute to the inputs',
      missingSlot(f, ['baseline'], 'the subsets are set to the call\'s baselines'),
    ),
  summary: (p) => `${p.nSamples} samples, ${p.subsetSize} random features set to x′`,
  count: (p) => p.nSamples,
  expand: <T>(p: SubsetPerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const read = await readExplainedRows(ctx, flow, 'subsetPerturb', 'faithfulness correlation perturbs')
    if (E.isLeft(read)) return read
    const { xs, bs, as, pers, n, inputOf, offsetOf } = read.right
    if (p.subsetSize > n) {
      return E.left(err('ShapeMismatch', `subsetSize is ${p.subsetSize} but an example has only ${n} features: give a subsetSize of at most ${n}`, ['subsetSize']))
    }
    const rows = sampleRows(flow, start, end)
    const M = rows.src.length
    const key = foldIn(ctx.key, SUBSET)
    const out = copyRows(xs, pers, rows.src)
    const attrSum = new Float64Array(M)
    for (let q = 0; q < M; q++) {
      const r = rows.src[q]!
      const subset = drawSubset(uniforms(rowKey(key, rows.rowKeys, q), p.subsetSize), n, p.subsetSize)
      let s = 0
      for (const f of subset) {
        const j = inputOf[f]!
        const at = r * pers[j]! + offsetOf[f]!
        ;(out[j]!.data as Float32Array)[q * pers[j]! + offsetOf[f]!] = (bs[j]!.data as Float32Array)[at]!
        s += Number(as[j]!.data[at]!)
      }
      attrSum[q] = s
    }
    return E.right({
      flow: perturbedFlow(ctx, flow, rows, out),
      meta: { attrSum } satisfies SubsetChunk,
    })
  },
}
