/**
 * `diff`: closes a `perturbation` axis of ablations. Each removed element gets F(x) − F(x̃) of
 * every copy that removed it: attr[o, e] = Σ_k (y₀[o] − y_k[o])·A_k[e], divided by the number of
 * copies that removed e when `average` (Occlusion's overlapping windows; Captum's `use_weights`).
 *
 * A chunk's partial is the table of its copies, not their sum spread over the input: per copy, the
 * features it removed and its differences y₀ − y_k, rounded to float32 as Captum computes them
 * (int32 `[T]`: the removed feature ids, copy after copy; int32 `[K]`: how many per copy; float32
 * `[K, nOut]`: the differences). Partials concatenate, in order, as `linearFit`'s sample tables do,
 * so lifting and combining cost a few numbers per copy instead of input-sized arrays per chunk
 * (Occlusion on a 3×224×224 image: one window id and one difference per copy, where dense
 * partials held 150528 sums and as many counts per chunk). `finalize` spreads every difference over
 * the elements its copy removed (`absentPositions`) as exact sums (`exactSum.ts`): the result is
 * the correctly rounded exact sum, so it has the same bits for every chunking and
 * `perturbationsPerEval`, and for any bracketing of the partials. The counts are small integers,
 * exact in plain float64.
 * Attributions have shape `(nOut, …input.shape[1:])` (captum-semantics.md §3.10).
 *
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { Flow, RunContext } from '../flow.js'
import { absentPositions, elementsOf, maskRows } from '../perturbation/layout.js'
import { exampleOfRow, f32, hostFloats } from '../perturbation/scatter.js'
import { firstProblem, wrongKind } from '../abstract.js'
import { addExact, exactSums, roundSums } from '../exactSum.js'
import { combineByConcat, type PartialResult } from '../partial.js'
import type { ChunkInfo, ExpansionInfo, ReduceStageDef, Reduced } from '../stage.js'
import { isPerturbChunk, isPerturbScope, type PerturbChunk, type PerturbScope } from './perturb.js'

export const DiffParams = t.readonly(t.type({ average: t.boolean }))
export type DiffParams = t.TypeOf<typeof DiffParams>

export const diff: ReduceStageDef<'diff', DiffParams, PerturbChunk, PerturbScope> = {
  tag: 'diff',
  kind: 'reduce',
  axis: 'perturbation',
  params: DiffParams,
  meta: isPerturbChunk,
  scope: isPerturbScope,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'diff compares model outputs with F(x): put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => (p.average ? 'mean over copies of F(x) − F(x̃)' : 'F(x) − F(x̃) per group'),
  lift: <T>(_p: DiffParams, chunk: Flow<T>, info: ChunkInfo<PerturbChunk, PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    if (chunk.value.length !== 1) return E.left(err('BadPipeline', 'diff closes the axis opened by perturb, after forward', ['stages']))
    const { absent } = info.meta
    const y0 = info.scope.reference.selected
    const nOut = y0.length
    const K = absent.length
    const Y = await hostFloats(ctx, chunk.value[0]!)
    // one float32 difference per copy and output, as Captum computes it
    const d = new Float32Array(K * nOut)
    for (let k = 0; k < K; k++) for (let o = 0; o < nOut; o++) d[k * nOut + o] = y0[o]! - Y[k * nOut + o]!
    const perCopy = Int32Array.from(absent, (a) => a.length)
    const removed = new Int32Array(perCopy.reduce((u, v) => u + v, 0))
    for (let k = 0, at = 0; k < K; at += absent[k]!.length, k++) removed.set(absent[k]!, at)
    return E.right({
      start: info.start,
      end: info.end,
      tensors: [{ dtype: 'int32', shape: [removed.length], data: removed }, { dtype: 'int32', shape: [K], data: perCopy }, f32([K, nOut], d)],
    })
  },
  combine: (_p, a, b) => combineByConcat(a, b),
  finalize: <T>(p: DiffParams, partial: PartialResult, info: ExpansionInfo<PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => async () => {
    const { layout, reference } = info.scope
    const copies = copiesOf(partial, layout.nFeatures, reference.selected.length)
    if (copies === undefined) return E.left(err('BadPipeline', 'diff: this partial result was not made by diff for these features and outputs', ['stages']))
    const { removed, perCopy, d } = copies
    const nOut = reference.selected.length
    // the perturbed tensors: the model inputs, or the layer's value (layer perturbation methods)
    const nIn = info.scope.shapes.length
    const b = ctx.backend
    const exOf = exampleOfRow(reference, ctx.nExamples)
    const out: T[] = []
    for (let j = 0; j < nIn; j++) {
      const D = elementsOf(layout, j)
      const rows = maskRows(layout, j)
      const sums = exactSums(nOut * D)
      // copies per (mask row × element): small integers, exact in float64
      const counts = p.average ? new Float64Array(rows * D) : undefined
      for (let k = 0, at = 0; k < perCopy.length; at += perCopy[k]!, k++) {
        // only the removed positions (mask row × element) of this copy are visited
        const idx = absentPositions(layout, j, removed.subarray(at, at + perCopy[k]!))
        for (let o = 0; o < nOut; o++) {
          const row = rows === 1 ? 0 : exOf(o)
          const v = d[k * nOut + o]!
          for (let q = 0; q < idx.length; q++) {
            const pos = idx[q]!
            if (pos >= row * D && pos < (row + 1) * D) addExact(sums, o * D + pos - row * D, v)
          }
        }
        if (counts !== undefined) for (let q = 0; q < idx.length; q++) counts[idx[q]!]!++
      }
      const s = roundSums(sums)
      const attr = Float32Array.from(s)
      if (counts !== undefined) {
        for (let o = 0; o < nOut; o++) {
          const base = (rows === 1 ? 0 : exOf(o)) * D
          for (let e = 0; e < D; e++) attr[o * D + e] = counts[base + e]! > 0 ? s[o * D + e]! / counts[base + e]! : 0
        }
      }
      const inner = info.scope.shapes[j]!.slice(1)
      out.push(ctx.track(b.fromHost(f32([nOut, ...inner], attr))))
    }
    return E.right({ value: out })
  },
}

/** The copies table of a partial, checked: every copy's removed features in range, one difference per output. */
const copiesOf = (partial: PartialResult, nFeatures: number, nOut: number): { readonly removed: Int32Array; readonly perCopy: Int32Array; readonly d: Float32Array } | undefined => {
  const [removed, perCopy, d] = partial.tensors
  if (partial.tensors.length !== 3 || !(removed?.data instanceof Int32Array) || !(perCopy?.data instanceof Int32Array) || !(d?.data instanceof Float32Array)) return undefined
  const K = perCopy.data.length
  if (d.shape.length !== 2 || d.shape[0] !== K || d.shape[1] !== nOut || perCopy.data.reduce((u, v) => u + v, 0) !== removed.data.length) return undefined
  if (perCopy.data.some((n) => n < 0) || removed.data.some((f) => f < 0 || f >= nFeatures)) return undefined
  return { removed: removed.data, perCopy: perCopy.data, d: d.data }
}
