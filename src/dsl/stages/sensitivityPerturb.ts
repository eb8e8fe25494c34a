/**
 * `sensitivityPerturb`: sensitivityMax's expansion (Yeh et al. 2019, arXiv:1901.09392;
 * captum-semantics.md §8.2). For each of `nSamples` samples and each example it perturbs the
 * explained point x (the `anchor` slot) to x̃, and passes the explanation e(x) in the flow to the
 * reducer; the flow inside holds the points x̃ and their baselines (each example's baseline
 * repeated, as Captum expands `baselines`), ready for `apply(method)` to explain them.
 *
 * Perturbations (Captum's `perturb_func`):
 * - `uniform` (Captum's `default_perturb_func`): x̃ = x + δ, δ ~ U(−r, r) element-wise, r = `radius`;
 * - `{ _tag: 'custom', name }`: the call's plug-in `options.plugins.perturbations[name]`, given the
 *   rows and the radius, returning `perturbed`.
 *
 * Draws are keyed per row (example and sample), so results do not depend on chunking.
 * `maxExamplesPerBatch` is Captum's: at most max(1, ⌊it / N⌋) samples per chunk.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveInt } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, uniforms } from '../../core/random.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import { rowKey, type Flow, type RunContext } from '../flow.js'
import { callPerturbation, hostRows, sampleRows } from '../perturbation/metricRows.js'
import { CustomRef } from '../perturbation/plugins.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

export const SensitivityPerturbation = t.union([t.literal('uniform'), CustomRef], 'SensitivityPerturbation')
export type SensitivityPerturbation = t.TypeOf<typeof SensitivityPerturbation>

export const SensitivityPerturbParams = t.readonly(
  t.intersection([
    t.type({ nSamples: PositiveInt, radius: NonNegativeNumber }),
    t.partial({ perturbation: SensitivityPerturbation, maxExamplesPerBatch: PositiveInt }),
  ]),
)
export type SensitivityPerturbParams = t.TypeOf<typeof SensitivityPerturbParams>

/** What each chunk tells the reducer: e(x) of every incoming row, flattened over all inputs (`width` values a row). */
export interface SensitivityChunk {
  readonly explanation: Float64Array
  readonly width: number
  /** x̃ − x of every new row (q = k·R + r), all inputs flattened and concatenated (for the local Lipschitz estimate). */
  readonly displacement?: Float64Array
}

export const isSensitivityChunk = (u: unknown): u is SensitivityChunk =>
  typeof u === 'object' && u !== null && (u as { explanation?: unknown }).explanation instanceof Float64Array && typeof (u as { width?: unknown }).width === 'number'

const UNIFORM = 0x73656e73

/** The flow's explanation, one row per incoming row, all inputs concatenated (Captum's `torch.cat(…view(N, −1))`). */
const flatRows = (hs: readonly HostTensor[], R: number): SensitivityChunk => {
  const pers = hs.map((h) => sizeOf(h.shape.slice(1)))
  const width = pers.reduce((a, b) => a + b, 0)
  const out = new Float64Array(R * width)
  for (let r = 0; r < R; r++) {
    let at = r * width
    hs.forEach((h, j) => {
      const per = pers[j]!
      for (let e = 0; e < per; e++) out[at++] = Number(h.data[r * per + e]!)
    })
  }
  return { explanation: out, width }
}

export const sensitivityPerturb: ExpandStageDef<'sensitivityPerturb', SensitivityPerturbParams> = {
  tag: 'sensitivityPerturb',
  kind: 'expand',
  axis: 'sample',
  params: SensitivityPerturbParams,
  needs: (p) => (p.perturbation !== undefined && p.perturbation !== 'uniform' ? ['plugins'] : []),
  abstract: (_p, f) =>
    firstProblem([
      wrongKind(f, ['values'], 'sensitivityPerturb perturbs the inputs an explanation was computed at'),
      f.space.kind === 'input' ? undefined : 'sensitivityPerturb compares attributions over the inputs: the explanation must attribute to the inputs',
      missingSlot(f, ['anchor'], 'put explain(method) before it'),
    ], () => ({ kind: 'points', space: f.space, depth: f.depth + 1, slots: new Set(f.slots.has('baseline') ? (['baseline'] as const) : []) })),
  summary: (p) =>
    `${p.nSamples} samples, ${p.perturbation === undefined || p.perturbation === 'uniform' ? `x̃ = x + U(−${p.radius}, ${p.radius})` : `plug-in ${JSON.stringify(p.perturbation.name)} (radius ${p.radius})`}` +
    (p.maxExamplesPerBatch !== undefined ? `, ≤ ${p.maxExamplesPerBatch} rows per call` : ''),
  count: (p) => p.nSamples,
  maxPerChunk: (p, ctx) => (p.maxExamplesPerBatch === undefined ? undefined : Math.max(1, Math.floor(p.maxExamplesPerBatch / ctx.nExamples))),
  expand: <T>(p: SensitivityPerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const b = ctx.backend
    const anchor = flow.anchor
    if (anchor === undefined) throw err('BadPipeline', 'sensitivityPerturb needs the explained points: put explain(method) before it', ['stages'])
    const R = flow.rowExample.length
    const rows = sampleRows(flow, start, end)
    const M = rows.src.length
    const xs = await hostRows(ctx, anchor.value, rows.src)
    xs.forEach((x, j) => {
      if (x.dtype !== 'float32') throw err('DTypeMismatch', `input ${j} is ${x.dtype}: sensitivityMax perturbs float32 inputs only`, ['inputs', String(j)])
    })
    let perturbed: readonly HostTensor[]
    const pert = p.perturbation ?? 'uniform'
    if (pert === 'uniform') {
      const key = foldIn(ctx.key, UNIFORM)
      perturbed = xs.map((x, j) => {
        const per = sizeOf(x.shape.slice(1))
        const xd = x.data as Float32Array
        const data = new Float32Array(M * per)
        for (let q = 0; q < M; q++) {
          const u = uniforms(foldIn(rowKey(key, rows.rowKeys, q), j), per)
          for (let e = 0; e < per; e++) data[q * per + e] = xd[q * per + e]! + Math.fround((2 * u[e]! - 1) * p.radius)
        }
        return { dtype: 'float32', shape: [...x.shape], data }
      })
    } else {
      const bs = anchor.baseline !== undefined ? await hostRows(ctx, anchor.baseline, rows.src) : undefined
      perturbed = callPerturbation(ctx, pert.name, { inputs: xs, ...(bs !== undefined ? { baselines: bs } : {}), examples: rows.rowExample, samples: rows.samples, radius: p.radius }, false).perturbed
    }
    const explanation = flatRows(await Promise.all(flow.value.map((v) => b.toHost(v))), R)
    const moved = flatRows(perturbed, M).explanation
    const from = flatRows(xs, M).explanation
    const displacement = moved.map((v, i) => v - from[i]!)
    return E.right({
      flow: {
        value: perturbed.map((h) => ctx.track(b.fromHost(h))),
        ...(flow.baseline !== undefined ? { baseline: flow.baseline.map((x0) => ctx.track(b.gatherRows(x0, rows.src))) } : {}),
        rowExample: rows.rowExample,
        rowKeys: rows.rowKeys,
        space: flow.space,
      },
      meta: { ...explanation, displacement },
    })
  },
}

/** Exported for the reducer: the same flattening of the perturbed explanations. */
export const flattenRows = flatRows
