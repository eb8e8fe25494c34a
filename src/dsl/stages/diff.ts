/**
 * `diff`: closes a `perturbation` axis of ablations. Each removed element gets F(x) − F(x̃) of
 * every copy that removed it: attr[o, e] = Σ_k (y₀[o] − y_k[o])·A_k[e], divided by the number of
 * copies that removed e when `average` (Occlusion's overlapping windows; Captum's `use_weights`).
 * The partial sums and counts are a monoid under elementwise addition; they are added copy by copy
 * in float32, in copy order, exactly as Captum accumulates, so every chunking gives the same bits.
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
import type { ChunkInfo, ReduceStageDef } from '../stage.js'
import type { PerturbMeta } from './perturb.js'

export const DiffParams = t.readonly(t.type({ average: t.boolean }))
export type DiffParams = t.TypeOf<typeof DiffParams>

export const diff: ReduceStageDef<'diff', DiffParams> = {
  tag: 'diff',
  kind: 'reduce',
  axis: 'perturbation',
  params: DiffParams,
  abstract: (_p, f) => firstProblem([wrongKind(f, ['outputs'], 'diff compares model outputs with F(x): put forward before it')], () => ({ ...f, kind: 'values', slots: new Set() })),
  summary: (p) => (p.average ? 'mean over copies of F(x) − F(x̃)' : 'F(x) − F(x̃) per group'),
  fold: <T>(p: DiffParams, acc: readonly T[] | undefined, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => async () => {
    const meta = info.meta as PerturbMeta | undefined
    if (meta === undefined || chunk.value.length !== 1) return E.left(err('BadPipeline', 'diff closes the axis opened by perturb, after forward', ['stages']))
    const { layout, reference, absentIdx } = meta
    const y0 = reference.selected
    const nOut = y0.length
    const nIn = ctx.inputs.length
    const Y = await hostFloats(ctx, chunk.value[0]!)
    const exOf = exampleOfRow(reference, ctx.nExamples)
    const sums: Float32Array[] = []
    const counts: Float32Array[] = []
    for (let j = 0; j < nIn; j++) {
      const D = elementsOf(layout, j)
      sums.push(acc ? Float32Array.from(await hostFloats(ctx, acc[j]!)) : new Float32Array(nOut * D))
      if (p.average) counts.push(acc ? Float32Array.from(await hostFloats(ctx, acc[nIn + j]!)) : new Float32Array(maskRows(layout, j) * D))
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
            if (pos >= row * D && pos < (row + 1) * D) s[o * D + pos - row * D]! += v
          }
        }
        if (p.average) {
          const c = counts[j]!
          for (let q = 0; q < idx.length; q++) c[idx[q]!]! += 1
        }
      }
    }
    const b = ctx.backend
    return E.right([
      ...sums.map((s, j) => ctx.track(b.fromHost(f32([nOut, elementsOf(layout, j)], s)))),
      ...counts.map((c, j) => ctx.track(b.fromHost(f32([maskRows(layout, j), elementsOf(layout, j)], c)))),
    ])
  },
  finalize: <T>(p: DiffParams, acc: readonly T[], info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, readonly T[]> => async () => {
    const meta = info.meta as PerturbMeta
    const nIn = ctx.inputs.length
    const b = ctx.backend
    const exOf = exampleOfRow(meta.reference, ctx.nExamples)
    const out: T[] = []
    for (let j = 0; j < nIn; j++) {
      const inner = b.shapeOf(ctx.inputs[j]!).slice(1)
      const s = await hostFloats(ctx, acc[j]!)
      const nOut = b.shapeOf(acc[j]!)[0]!
      const D = elementsOf(meta.layout, j)
      const attr = Float32Array.from(s)
      if (p.average) {
        const c = await hostFloats(ctx, acc[nIn + j]!)
        const rows = maskRows(meta.layout, j)
        for (let o = 0; o < nOut; o++) {
          const base = (rows === 1 ? 0 : exOf(o)) * D
          for (let e = 0; e < D; e++) attr[o * D + e] = c[base + e]! > 0 ? s[o * D + e]! / c[base + e]! : 0
        }
      }
      out.push(ctx.track(b.fromHost(f32([nOut, ...inner], attr))))
    }
    return E.right(out)
  },
}
