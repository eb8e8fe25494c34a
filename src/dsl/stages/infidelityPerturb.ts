/**
 * `infidelityPerturb`: infidelity's expansion (Yeh et al. 2019, arXiv:1901.09392). For each of
 * `nSamples` samples and each example it draws a perturbation I and the perturbed point x̃, and
 * records Σ I ⊙ a (over every element of every input, a = the explanation in the flow) for the
 * reducer; the flow inside holds the points x̃, and F(x) from the `reference` stage.
 *
 * Perturbations (Captum's `perturb_func`):
 * - `noise`: I ~ N(0, σ²) element-wise (σ per input allowed), x̃ = x − I (the form of Captum's
 *   tutorials);
 * - `baseline`: each element is replaced by its baseline with probability `probability` (default
 *   1: the whole input), x̃ = x + m ⊙ (x′ − x); I = (x − x̃)/(x − x′) with zero denominators
 *   read as 1 (Captum's `infidelity_perturb_func_decorator(multiply_by_inputs=True)`, for
 *   attributions multiplied by inputs), or I = x − x̃ with `multiplyByInputs: false`;
 * - `{ _tag: 'custom', name }`: the call's plug-in `options.plugins.perturbations[name]`, which
 *   returns `perturbation` and `perturbed` for the rows it is given (Captum's pair).
 *
 * Draws are keyed per row (example and sample), so results do not depend on chunking.
 * `maxExamplesPerBatch` is Captum's: at most max(1, ⌊it / N⌋) samples per model call.
 *
 * @category stages
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { NonNegativeNumber, PositiveInt, Stdevs } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, normals, uniforms } from '../../core/random.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'
import { missingSlot } from '../abstract.js'
import { rowKey, type Flow, type RunContext } from '../flow.js'
import { callPerturbation, explainedInputsTransfer, hostRows, perturbedFlow, sampleRows } from '../perturbation/metricRows.js'
import { CustomRef } from '../perturbation/plugins.js'
import type { Expanded, ExpandStageDef } from '../stage.js'

const Probability = t.refinement(NonNegativeNumber, (p) => p <= 1, 'Probability')

export const InfidelityPerturbation = t.union([
  t.readonly(t.type({ _tag: t.literal('noise'), stdevs: Stdevs })),
  t.readonly(t.intersection([t.type({ _tag: t.literal('baseline') }), t.partial({ probability: Probability, multiplyByInputs: t.boolean })])),
  CustomRef,
], 'InfidelityPerturbation')
export type InfidelityPerturbation = t.TypeOf<typeof InfidelityPerturbation>

export const InfidelityPerturbParams = t.readonly(
  t.intersection([t.type({ nSamples: PositiveInt, perturbation: InfidelityPerturbation }), t.partial({ maxExamplesPerBatch: PositiveInt })]),
)
export type InfidelityPerturbParams = t.TypeOf<typeof InfidelityPerturbParams>

/** What each chunk tells the reducer: Σ I ⊙ a for each of its rows (row q = k·R + r). */
export interface InfidelityChunk {
  readonly attrTimesPerturbation: Float64Array
}

export const isInfidelityChunk = (u: unknown): u is InfidelityChunk =>
  typeof u === 'object' && u !== null && (u as { attrTimesPerturbation?: unknown }).attrTimesPerturbation instanceof Float64Array

const NOISE = 0x696e6664
const MASK = 0x6d61736b

const describePerturbation = (p: InfidelityPerturbation): string =>
  p._tag === 'noise'
    ? `I ~ N(0, ${typeof p.stdevs === 'number' ? p.stdevs : `[${p.stdevs.join(', ')}]`}²), x̃ = x − I`
    : p._tag === 'baseline'
      ? `x̃ = baseline on each element with p = ${p.probability ?? 1}${p.multiplyByInputs === false ? ', I = x − x̃' : ', I = (x − x̃)/(x − x′)'}`
      : `plug-in ${JSON.stringify(p.name)}`

export const infidelityPerturb: ExpandStageDef<'infidelityPerturb', InfidelityPerturbParams> = {
  tag: 'infidelityPerturb',
  kind: 'expand',
  axis: 'sample',
  params: InfidelityPerturbParams,
  needs: (p) => (p.perturbation._tag === 'baseline' ? ['baselines'] : p.perturbation._tag === 'custom' ? ['plugins'] : []),
  abstract: (p, f) =>
    explainedInputsTransfer(
      f,
      'infidelityPerturb perturbs the inputs an explanation was computed at',
      'infidelityPerturb compares attributions over the inputs: the explanation must attribute to the inputs',
      p.perturbation._tag === 'baseline' ? missingSlot(f, ['baseline'], 'perturbing towards baselines needs the call\'s baselines') : undefined,
    ),
  summary: (p) => `${p.nSamples} samples, ${describePerturbation(p.perturbation)}${p.maxExamplesPerBatch !== undefined ? `, ≤ ${p.maxExamplesPerBatch} rows per call` : ''}`,
  count: (p) => p.nSamples,
  maxPerChunk: (p, ctx) => (p.maxExamplesPerBatch === undefined ? undefined : Math.max(1, Math.floor(p.maxExamplesPerBatch / ctx.nExamples))),
  validate: (p) =>
    p.perturbation._tag === 'noise' && typeof p.perturbation.stdevs !== 'number' && p.perturbation.stdevs.length === 0
      ? [{ path: ['perturbation', 'stdevs'], message: 'stdevs is an empty list: give one number for every input, or one per input' }]
      : [],
  expand: <T>(p: InfidelityPerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const anchor = flow.anchor
    if (anchor === undefined || flow.reference === undefined) {
      throw err('BadPipeline', 'infidelityPerturb needs the explained points and F(x): put reference first and then explain(method) or givenAttributions', ['stages'])
    }
    const rows = sampleRows(flow, start, end)
    const M = rows.src.length
    const xs = await hostRows(ctx, anchor.value, rows.src)
    const as = await hostRows(ctx, flow.value, rows.src)
    xs.forEach((x, j) => {
      if (x.dtype !== 'float32') throw err('DTypeMismatch', `input ${j} is ${x.dtype}: infidelity perturbs float32 inputs only`, ['inputs', String(j)])
    })
    const pert = p.perturbation
    let perturbed: readonly HostTensor[]
    let perturbation: readonly HostTensor[]
    if (pert._tag === 'custom') {
      const bs = anchor.baseline !== undefined ? await hostRows(ctx, anchor.baseline, rows.src) : undefined
      const out = callPerturbation(ctx, pert.name, { inputs: xs, ...(bs !== undefined ? { baselines: bs } : {}), examples: rows.rowExample, samples: rows.samples }, true)
      perturbed = out.perturbed
      perturbation = out.perturbation
    } else if (pert._tag === 'noise') {
      if (typeof pert.stdevs !== 'number' && pert.stdevs.length !== xs.length) {
        throw err('ShapeMismatch', `stdevs has ${pert.stdevs.length} entries for ${xs.length} input(s): give one number, or one per input`, ['perturbation', 'stdevs'])
      }
      const key = foldIn(ctx.key, NOISE)
      perturbation = xs.map((x, j) => {
        const sd = typeof pert.stdevs === 'number' ? pert.stdevs : pert.stdevs[j]!
        const per = sizeOf(x.shape.slice(1))
        const data = new Float32Array(M * per)
        for (let q = 0; q < M; q++) {
          const z = normals(foldIn(rowKey(key, rows.rowKeys, q), j), per)
          for (let e = 0; e < per; e++) data[q * per + e] = sd * z[e]!
        }
        return { dtype: 'float32', shape: [...x.shape], data }
      })
      perturbed = xs.map((x, j) => ({ dtype: 'float32', shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, e) => v - (perturbation[j]!.data as Float32Array)[e]!) }))
    } else {
      if (anchor.baseline === undefined) throw err('BadBaseline', 'perturbing towards baselines needs the call\'s baselines', ['baselines'])
      const bs = await hostRows(ctx, anchor.baseline, rows.src)
      const prob = pert.probability ?? 1
      const key = foldIn(ctx.key, MASK)
      const pIn: HostTensor[] = []
      const pOut: HostTensor[] = []
      xs.forEach((x, j) => {
        const per = sizeOf(x.shape.slice(1))
        const xd = x.data as Float32Array
        const bd = bs[j]!.data as Float32Array
        const out = new Float32Array(M * per)
        const I = new Float32Array(M * per)
        for (let q = 0; q < M; q++) {
          const u = prob < 1 ? uniforms(foldIn(rowKey(key, rows.rowKeys, q), j), per) : undefined
          for (let e = 0; e < per; e++) {
            const i = q * per + e
            const replaced = u === undefined ? prob > 0 : u[e]! < prob
            out[i] = replaced ? bd[i]! : xd[i]!
            const d = Math.fround(xd[i]! - out[i]!)
            const den = Math.fround(xd[i]! - bd[i]!)
            I[i] = pert.multiplyByInputs === false ? d : d / (den === 0 ? 1 : den)
          }
        }
        pOut.push({ dtype: 'float32', shape: [...x.shape], data: out })
        pIn.push({ dtype: 'float32', shape: [...x.shape], data: I })
      })
      perturbed = pOut
      perturbation = pIn
    }
    // Σ over every element of every input of I ⊙ a, per row
    const s = new Float64Array(M)
    perturbation.forEach((I, j) => {
      const per = sizeOf(I.shape.slice(1))
      const id = I.data as Float32Array
      const ad = as[j]!.data as Float32Array
      for (let q = 0; q < M; q++) {
        let acc = 0
        for (let e = q * per; e < (q + 1) * per; e++) acc += id[e]! * ad[e]!
        s[q] = s[q]! + acc
      }
    })
    const meta: InfidelityChunk = { attrTimesPerturbation: s }
    return E.right({ flow: perturbedFlow(ctx, flow, rows, perturbed), meta })
  },
}
