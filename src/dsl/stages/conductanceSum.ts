/**
 * `conductanceSum`: closes the `path` axis with a Riemann–Stieltjes sum of the values against the
 * anchor, the sum that defines layer conductance (Dhamdhere et al. 2018, arXiv:1805.12233):
 *
 *   C = Σ_{k=0}^{K−2} g_k ⊙ (a_{k+1} − a_k),
 *
 * with g_k the values at path point k (∂F/∂a, the gradient at a layer, from `grad({ layer })`) and
 * a_k the anchor there (the layer's activation). The change of the activation between consecutive
 * points stands in for "∂a/∂α · step", so the quadrature weights of the path are not used, and the
 * last point contributes only its activation. Over the whole path the sum telescopes to
 * Σ_j C_j ≈ F(x_{K−1}) − F(x_0).
 *
 * Chunk-safe (a monoid, see `partial.ts`) although a term spans two steps: the partial of the
 * steps [s, e) holds the sum of its interior terms k = s … e−2 (each product and the sum over steps
 * taken in float32 on the backend, as Captum does), plus a_s, a_{e−1} and g_{e−1}. Combining it with
 * the partial of [e, f) adds the one term across the boundary, g_{e−1} ⊙ (a_e − a_{e−1}), rounded
 * to float32 like every other term, and keeps a_s, a_{f−1} and g_{f−1}. Sums add exactly on the
 * host, so every chunking gives the same terms and any grouping of the same chunks the same bits.
 * (Captum's `_batch_attribution` gets the same result by overlapping its chunks by one step.)
 *
 * @category stages
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { Flow, RunContext } from '../flow.js'
import { addTensors, narrow, narrowSums, spanOf, sumsFrom, type PartialResult, type PartialTensor } from '../partial.js'
import type { ChunkInfo, ReduceStageDef, Reduced } from '../stage.js'

export const ConductanceSumParams = t.readonly(t.type({}))
export type ConductanceSumParams = t.TypeOf<typeof ConductanceSumParams>

const bad = (message: string): AttributionError => err('BadPipeline', `conductanceSum: ${message}`, ['stages'])

/**
 * The number of value tensors `m` of a conductanceSum partial, checked against its layout:
 * m sums, then the m first activations, the m last activations and the m last gradients.
 */
const valuesOf = (p: PartialResult): E.Either<AttributionError, number> => {
  const d = p.data
  const m = typeof d === 'object' && d !== null && 'values' in d ? d.values : undefined
  return typeof m === 'number' && p.tensors.length === 4 * m ? E.right(m) : E.left(bad('this partial result was not made by conductanceSum'))
}

/** g ⊙ (a′ − a) elementwise in float32 (each difference and product rounded, as the backend would). */
const boundaryTerm = (g: PartialTensor, aLast: PartialTensor, aNext: PartialTensor): E.Either<AttributionError, HostTensor<'float32'>> => {
  const n = g.data.length
  if (g.dtype !== 'float32' || aLast.dtype !== 'float32' || aNext.dtype !== 'float32') return E.left(bad('the kept activations and gradients must be float32'))
  if (aLast.data.length !== n || aNext.data.length !== n) return E.left(bad(`activations and gradients of ${aLast.data.length}, ${aNext.data.length} and ${n} elements do not match`))
  const gd = g.data as Float32Array
  const ad = aLast.data as Float32Array
  const bd = aNext.data as Float32Array
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.fround(gd[i]! * Math.fround(bd[i]! - ad[i]!))
  return E.right({ dtype: 'float32', shape: [...g.shape], data: out })
}

/** Rows [from, from + count) of `x` (dimension 0). */
const rowsAt = <T>(ctx: RunContext<T>, x: T, from: number, count: number): T => {
  const shape = ctx.backend.shapeOf(x)
  return ctx.track(ctx.backend.slice(x, [from, ...shape.slice(1).map(() => 0)], [count, ...shape.slice(1)]))
}

export const conductanceSum: ReduceStageDef<'conductanceSum', ConductanceSumParams> = {
  tag: 'conductanceSum',
  kind: 'reduce',
  axis: 'path',
  params: ConductanceSumParams,
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'conductanceSum sums gradients times the change of the activation along the path'),
      missingSlot(f, ['anchor'], 'put grad({ layer }) before it (it keeps the layer activation at every point as the anchor)'),
    ], () => ({ ...f, slots: new Set() })),
  summary: () => 'Σ_k g_k ⊙ (a_{k+1} − a_k)',
  lift: <T>(_p: ConductanceSumParams, chunk: Flow<T>, info: ChunkInfo, ctx: RunContext<T>): TE.TaskEither<AttributionError, PartialResult> => async () => {
    const anchor = chunk.anchor?.value
    if (anchor === undefined || anchor.length !== chunk.value.length) return E.left(bad('the values need their activations as anchor: put grad({ layer }) before it'))
    const b = ctx.backend
    const R = info.rowsIn
    const K = info.end - info.start
    const sums: PartialTensor[] = []
    const ends: HostTensor[][] = [[], [], []]
    for (let j = 0; j < chunk.value.length; j++) {
      const g = chunk.value[j]!
      const a = anchor[j]!
      const shape = b.shapeOf(g)
      const inner = shape.slice(1)
      const as = b.shapeOf(a)
      if (as.length !== shape.length || as.some((d, i) => d !== shape[i]) || shape[0] !== K * R) {
        return E.left(bad(`values of shape [${shape.join(', ')}] and activations of shape [${as.join(', ')}] do not both hold ${K} steps of ${R} rows`))
      }
      if (K === 1) {
        sums.push(sumsFrom({ dtype: 'float32', shape: [R, ...inner], data: new Float32Array(R * sizeOf(inner)) }))
      } else {
        // rows (k − start)·R + r: the gradients at steps start … end−2 against the change of the activation to the next step
        const terms = ctx.track(b.mul(rowsAt(ctx, g, 0, (K - 1) * R), ctx.track(b.sub(rowsAt(ctx, a, R, (K - 1) * R), rowsAt(ctx, a, 0, (K - 1) * R)))))
        const total = ctx.track(b.sum(ctx.track(b.reshape(terms, [K - 1, R, ...inner])), [0]))
        sums.push(sumsFrom(await b.toHost(total)))
      }
      ends[0]!.push(narrow(await b.toHost(rowsAt(ctx, a, 0, R))))
      ends[1]!.push(narrow(await b.toHost(rowsAt(ctx, a, (K - 1) * R, R))))
      ends[2]!.push(narrow(await b.toHost(rowsAt(ctx, g, (K - 1) * R, R))))
    }
    return E.right({ start: info.start, end: info.end, tensors: [...sums, ...ends.flat()], data: { values: chunk.value.length } })
  },
  combine: (_p, a, b) => {
    const span = spanOf(a, b)
    if (E.isLeft(span)) return span
    const ma = valuesOf(a)
    const mb = valuesOf(b)
    if (E.isLeft(ma)) return ma
    if (E.isLeft(mb)) return mb
    const m = ma.right
    if (mb.right !== m) return E.left(bad(`partials of ${m} and ${mb.right} tensors do not combine`))
    const sums: PartialTensor[] = []
    for (let j = 0; j < m; j++) {
      // a's last gradient against the step from a's last activation to b's first
      const cross = boundaryTerm(a.tensors[3 * m + j]!, a.tensors[2 * m + j]!, b.tensors[m + j]!)
      if (E.isLeft(cross)) return cross
      const inner = addTensors(a.tensors[j]!, b.tensors[j]!)
      if (E.isLeft(inner)) return inner
      const total = addTensors(inner.right, sumsFrom(cross.right))
      if (E.isLeft(total)) return total
      sums.push(total.right)
    }
    const firsts = a.tensors.slice(m, 2 * m)
    const lasts = b.tensors.slice(2 * m, 3 * m)
    const lastGrads = b.tensors.slice(3 * m, 4 * m)
    return E.right({ ...span.right, tensors: [...sums, ...firsts, ...lasts, ...lastGrads], data: { values: m } })
  },
  finalize: <T>(_p: ConductanceSumParams, partial: PartialResult, _info: unknown, ctx: RunContext<T>): TE.TaskEither<AttributionError, Reduced<T>> => {
    const m = valuesOf(partial)
    if (E.isLeft(m)) return TE.left(m.left)
    return TE.fromEither(E.map((sums: readonly HostTensor[]): Reduced<T> => ({ value: sums.map((s) => ctx.track(ctx.backend.fromHost(s))) }))(
      E.traverseArray(narrowSums)(partial.tensors.slice(0, m.right)),
    ))
  },
}
