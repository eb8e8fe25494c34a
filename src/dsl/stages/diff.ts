/**
 * `diff`: closes a `perturbation` axis of ablations. Each removed element gets F(x) − F(x̃) of
 * every copy that removed it: attr[o, e] = Σ_k (y₀[o] − y_k[o])·A_k[e], divided by the number of
 * copies that removed e when `average` (Occlusion's overlapping windows; Captum's `use_weights`).
 * A chunk's partial is its copies' sums and counts, held as exact sums (`exactSum.ts`; each
 * difference is rounded to float32 first, as Captum computes it); partials add exactly, so every
 * chunking gives the same bits.
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
import { elementsOf, maskRows } from '../perturbation/layout.js'
import { exampleOfRow, f32, hostFloats } from '../perturbation/scatter.js'
import { firstProblem, wrongKind } from '../abstract.js'
import { addExact, exactSums, type ExactSums } from '../exactSum.js'
import { combineBySum, roundedSums, sumsTensor, type PartialResult } from '../partial.js'
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
  lift: <T>(p: DiffParams, chunk: Flow<T>, info: ChunkInfo<PerturbChunk, PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    if (chunk.value.length !== 1) return E.left(err('BadPipeline', 'diff closes the axis opened by perturb, after forward', ['stages']))
    const { layout, reference } = info.scope
    const { absentIdx } = info.meta
    const y0 = reference.selected
    const nOut = y0.length
    const nIn = ctx.inputs.length
    const Y = await hostFloats(ctx, chunk.value[0]!)
    const exOf = exampleOfRow(reference, ctx.nExamples)
    const sums: ExactSums[] = []
    const counts: ExactSums[] = []
    for (let j = 0; j < nIn; j++) {
      const D = elementsOf(layout, j)
      sums.push(exactSums(nOut * D))
      if (p.average) counts.push(exactSums(maskRows(layout, j) * D))
    }
    const d = new Float32Array(nOut)
    for (let k = 0; k < absentIdx.length; k++) {
      for (let o = 0; o < nOut; o++) d[o] = y0[o]! - Y[k * nOut + o]!
      for (let j = 0; j < nIn; j++) {
        // only the removed positions (mask row × element) of this copy are visited
        const idx = absentIdx[k]![j]!
        const D = elementsOf(layout, j)
        const rows = maskRows(layout, j)
        const s = sums[j]!
        for (let o = 0; o < nOut; o++) {
          const row = rows === 1 ? 0 : exOf(o)
          const v = d[o]!
          for (let q = 0; q < idx.length; q++) {
            const pos = idx[q]!
            if (pos >= row * D && pos < (row + 1) * D) addExact(s, o * D + pos - row * D, v)
          }
        }
        if (p.average) {
          const c = counts[j]!
          for (let q = 0; q < idx.length; q++) addExact(c, idx[q]!, 1)
        }
      }
    }
    return E.right({
      start: info.start,
      end: info.end,
      tensors: [
        ...sums.map((s, j) => sumsTensor([nOut, elementsOf(layout, j)], s)),
        ...counts.map((c, j) => sumsTensor([maskRows(layout, j), elementsOf(layout, j)], c)),
      ],
    })
  },
  combine: (_p, a, b) => combineBySum(a, b),
  finalize: <T>(p: DiffParams, partial: PartialResult, info: ExpansionInfo<PerturbScope>, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => async () => {
    const { layout, reference } = info.scope
    const nIn = ctx.inputs.length
    if (partial.tensors.length !== (p.average ? 2 : 1) * nIn) return E.left(err('BadPipeline', 'diff: this partial result was not made by diff with these parameters', ['stages']))
    const b = ctx.backend
    const exOf = exampleOfRow(reference, ctx.nExamples)
    const out: T[] = []
    for (let j = 0; j < nIn; j++) {
      const inner = b.shapeOf(ctx.inputs[j]!).slice(1)
      const s = roundedSums(partial.tensors[j]!)
      if (E.isLeft(s)) return s
      const nOut = s.right.shape[0]!
      const D = elementsOf(layout, j)
      const attr = Float32Array.from(s.right.values)
      if (p.average) {
        const c = roundedSums(partial.tensors[nIn + j]!)
        if (E.isLeft(c)) return c
        const rows = maskRows(layout, j)
        for (let o = 0; o < nOut; o++) {
          const base = (rows === 1 ? 0 : exOf(o)) * D
          for (let e = 0; e < D; e++) attr[o * D + e] = c.right.values[base + e]! > 0 ? s.right.values[o * D + e]! / c.right.values[base + e]! : 0
        }
      }
      out.push(ctx.track(b.fromHost(f32([nOut, ...inner], attr))))
    }
    return E.right({ value: out })
  },
}
