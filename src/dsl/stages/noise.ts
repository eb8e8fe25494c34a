/**
 * `noise`: `nSamples` noisy copies of the inputs on a new `sample` axis — NoiseTunnel's and
 * GradientShap's expansion. Copy k of row r is x_r + ε with ε ~ N(0, σ_j²) element-wise for input
 * j (σ_j = `stdevs`, one number for every input or one per input; σ = 0 copies the input exactly).
 *
 * The copies' baselines: `keep` repeats each row's baseline (Captum's NoiseTunnel default);
 * `draw` draws, for every copy and every input independently, one row of the call's baseline
 * distribution uniformly with replacement (Captum's `draw_baseline_from_distrib=True`, and
 * GradientShap); `cycle` gives copy k the distribution's row k mod B (with nSamples = B and σ = 0,
 * an exact average over the background instead of a sampled one). With `draw` and `cycle` the
 * stages inside get `baselines` from this stage, not from the call.
 *
 * Every draw is keyed by the copy's row key (`rowKeysOf`), so the result does not depend on how
 * the interpreter chunks the samples. `batchSize` (Captum's `nt_samples_batch_size`) caps the
 * copies per chunk.
 *
 * @category stages
 * @since 0.2.0
 */
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { PositiveInt, Stdevs } from '../../core/codecs.js'
import { err, type AttributionError } from '../../core/errors.js'
import { foldIn, normals, uniforms } from '../../core/random.js'
import { sizeOf } from '../../core/tensor.js'
import { firstProblem, withSlots, wrongKind } from '../abstract.js'
import { childRowKeys, rowKey, type Flow, type RunContext } from '../flow.js'
import type { Expanded, ExpandStageDef } from '../stage.js'


export const NoiseParams = t.readonly(
  t.intersection([
    t.type({ nSamples: PositiveInt, stdevs: Stdevs }),
    t.partial({ baselines: t.keyof({ keep: null, draw: null, cycle: null }), batchSize: PositiveInt }),
  ]),
)
export type NoiseParams = t.TypeOf<typeof NoiseParams>

/** Salts that keep the noise, and the baseline draws, independent streams of the call's key. */
const NOISE = 0x6e6f6973
const DRAW = 0x64726177

const stdevOf = (p: NoiseParams, j: number): number => (typeof p.stdevs === 'number' ? p.stdevs : p.stdevs[j] ?? 0)

export const noise: ExpandStageDef<'noise', NoiseParams> = {
  tag: 'noise',
  kind: 'expand',
  axis: 'sample',
  params: NoiseParams,
  needs: (p) => (p.baselines === 'draw' || p.baselines === 'cycle' ? ['baselineDistribution'] : []),
  provides: (p) => (p.baselines === 'draw' || p.baselines === 'cycle' ? ['baselines'] : []),
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'noise adds Gaussian noise to model inputs'),
      f.space.kind === 'input' ? undefined : 'noise perturbs model inputs: put it before any layer stage',
    ], () => ({ ...f, depth: f.depth + 1, slots: p.baselines === 'draw' || p.baselines === 'cycle' ? withSlots(f, ['baseline']) : new Set([...f.slots].filter((s) => s === 'baseline')) })),
  summary: (p) =>
    `${p.nSamples} copies + N(0, ${typeof p.stdevs === 'number' ? p.stdevs : `[${p.stdevs.join(', ')}]`}²)` +
    (p.baselines === 'draw' ? ', baselines drawn from the distribution' : p.baselines === 'cycle' ? ', copy k with baseline row k mod B' : '') +
    (p.batchSize !== undefined ? `, ≤ ${p.batchSize} per call` : ''),
  count: (p) => p.nSamples,
  maxPerChunk: (p) => p.batchSize,
  validate: (p) => {
    if (typeof p.stdevs === 'number' || p.stdevs.length > 0) return []
    return [{ path: ['stdevs'], message: 'stdevs is an empty list: give one number for every input, or one per input' }]
  },
  expand: <T>(p: NoiseParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => {
    const b = ctx.backend
    const R = flow.rowExample.length
    const K = end - start
    if (typeof p.stdevs !== 'number' && p.stdevs.length !== flow.value.length) {
      return TE.left(err('ShapeMismatch', `stdevs has ${p.stdevs.length} entries for ${flow.value.length} input(s): give one number, or one per input`, ['stdevs']))
    }
    const keys = childRowKeys(flow, start, end)
    const src = new Int32Array(K * R)
    for (let q = 0; q < K * R; q++) src[q] = q % R
    const rowExample = Int32Array.from(src, (r) => flow.rowExample[r]!)
    const noiseKey = foldIn(ctx.key, NOISE)
    const value: T[] = []
    for (let j = 0; j < flow.value.length; j++) {
      const x = flow.value[j]!
      const copies = ctx.track(b.gatherRows(x, src))
      const sd = stdevOf(p, j)
      if (sd === 0) {
        value.push(copies)
        continue
      }
      if (b.dtypeOf(x) !== 'float32') {
        return TE.left(err('DTypeMismatch', `input ${j} is ${b.dtypeOf(x)}: noise can only be added to float32 inputs; give it stdev 0 (stdevs: one number per input)`, ['stdevs', String(j)]))
      }
      const shape = b.shapeOf(copies)
      const per = sizeOf(shape.slice(1))
      const eps = new Float32Array(K * R * per)
      for (let q = 0; q < K * R; q++) {
        const z = normals(foldIn(rowKey(noiseKey, keys, q), j), per)
        for (let e = 0; e < per; e++) eps[q * per + e] = sd * z[e]!
      }
      value.push(ctx.track(b.add(copies, ctx.track(b.fromHost({ dtype: 'float32', shape: [...shape], data: eps })))))
    }
    let baseline: readonly T[] | undefined
    if (p.baselines === 'draw' || p.baselines === 'cycle') {
      const dist = ctx.callData.baselineDistribution
      if (dist === undefined || dist.length !== flow.value.length) {
        return TE.left(err('BadBaseline', 'this noise stage takes its baselines from a distribution: give one tensor of reference rows [B, …one example] per input', ['baselines']))
      }
      const drawKey = foldIn(ctx.key, DRAW)
      baseline = dist.map((d, j) => {
        const B = b.shapeOf(d)[0] ?? 1
        const pick = new Int32Array(K * R)
        for (let q = 0; q < K * R; q++) {
          pick[q] = p.baselines === 'cycle' ? (start + Math.floor(q / R)) % B : Math.min(B - 1, Math.floor(uniforms(foldIn(rowKey(drawKey, keys, q), j), 1)[0]! * B))
        }
        return ctx.track(b.gatherRows(d, pick))
      })
    } else if (flow.baseline !== undefined) {
      baseline = flow.baseline.map((x0) => ctx.track(b.gatherRows(x0, src)))
    }
    return TE.right({
      flow: { value, ...(baseline !== undefined ? { baseline } : {}), rowExample, rowKeys: keys, space: flow.space },
    })
  },
}
