/**
 * `perturb`: perturbed copies of the batch on a new `perturbation` axis, one per item of a design
 * (an ablated feature group, an occluding window, a coalition): x̃ = x ⊙ (1 − A) + r ⊙ A, where A
 * marks the elements of the removed features and r is the baseline (or, for FeaturePermutation,
 * the batch with its rows permuted). Rows are step-major (row = k·N + i), as in Captum's
 * `perturbations_per_eval` batches. The feature layout and F(x) travel to the reducer once, as the
 * expansion's `scope` ({@link PerturbScope}); each chunk's items as its `meta` ({@link PerturbChunk}).
 *
 * Needs the `reference` stage before it (F(x), for the output-shape rules and Lime's weights).
 *
 * With `features: { _tag: 'layerMask' }` the flow is in a layer's space (after `layerPoints`): the
 * copies perturb groups of the layer's neurons (call data `layerMask`), replaced by the layer
 * baselines the flow carries, and `forward({ inject: true })` feeds them into the model.
 *
 * @category stages
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { DType, HostTensor } from '../../core/tensor.js'
import type { Flow, Reference, RunContext } from '../flow.js'
import { Design, itemCount, itemsOf, MAX_EXACT_FEATURES, similarityOf, type Item } from '../perturbation/designs.js'
import { pluginOf } from '../perturbation/plugins.js'
import { absentFeatures, absentPositions, elementsOf, FeatureSpec, layoutOf, maskRows, type Layout } from '../perturbation/layout.js'
import { firstProblem, missingSlot, wrongKind } from '../abstract.js'
import type { ExpandStageDef, Expanded } from '../stage.js'

export const PerturbParams = t.readonly(t.type({ features: FeatureSpec, design: Design }))
export type PerturbParams = t.TypeOf<typeof PerturbParams>

/** What the reducer learns about the whole expansion. */
export interface PerturbScope {
  readonly layout: Layout
  readonly reference: Reference
  /** Shapes of the perturbed tensors (the inputs, or the layer's value): attributions take their shape. */
  readonly shapes: readonly (readonly number[])[]
}

/** What the reducer learns about a chunk. */
export interface PerturbChunk {
  readonly items: readonly Item[]
  /** Per item: the features it removes, ascending (`absentPositions` gives their elements). */
  readonly absent: readonly Int32Array[]
  /** Per item: the similarity weight per example (one value in aggregate mode); Lime and KernelShap only. */
  readonly weights?: readonly Float64Array[]
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/** Is `u` a {@link PerturbScope}? (The perturbation reducers' scope guard.) */
export const isPerturbScope = (u: unknown): u is PerturbScope =>
  isRecord(u) && isRecord(u.layout) && (u.layout.kind === 'groups' || u.layout.kind === 'windows') && typeof u.layout.nFeatures === 'number' &&
  isRecord(u.reference) && u.reference.selected instanceof Float32Array && Array.isArray(u.reference.selShape) && Array.isArray(u.shapes)

/** Is `u` a {@link PerturbChunk}? (The perturbation reducers' meta guard.) */
export const isPerturbChunk = (u: unknown): u is PerturbChunk =>
  isRecord(u) && Array.isArray(u.items) && Array.isArray(u.absent) && u.absent.length === u.items.length &&
  (u.weights === undefined || (Array.isArray(u.weights) && u.weights.length === u.items.length))

/** The shapes of the tensors the flow perturbs (the model inputs, or a layer's value). */
const shapesOf = <T>(flow: Flow<T>, ctx: RunContext<T>): readonly (readonly number[])[] => flow.value.map((x) => ctx.backend.shapeOf(x))

// One layout per run context, feature spec and shapes: it is asked for by count and by every chunk.
const layoutFor = <T>(p: PerturbParams, flow: Flow<T>, ctx: RunContext<T>): E.Either<AttributionError, Layout> => {
  const shapes = shapesOf(flow, ctx)
  const layerMask = ctx.callData.layerMask
  const masks = p.features._tag === 'layerMask' ? (layerMask !== undefined ? [layerMask] : undefined) : ctx.callData.featureMask
  return ctx.memo(`perturb.layout ${JSON.stringify(p.features)} ${JSON.stringify(shapes)}`, () => layoutOf(p.features, shapes, masks))
}

/** Does the design name call-time plug-ins (a custom sampler or similarity)? */
const usesPlugins = (d: Design): boolean => d._tag === 'coalitions' && (typeof d.sampler !== 'string' || d.similarity._tag === 'custom')

const typed = (dtype: DType, n: number): HostTensor['data'] =>
  dtype === 'float32' ? new Float32Array(n) : dtype === 'int64' ? new BigInt64Array(n) : new Int32Array(n)

const setOne = (data: HostTensor['data'], i: number): void => {
  if (data instanceof BigInt64Array) data[i] = 1n
  else data[i] = 1
}

/** Per weight row (example, or the whole batch), per feature: Σx², Σx·x′, Σx′². */
const featureSums = async <T>(ctx: RunContext<T>, flow: Flow<T>, layout: Layout, rowsOut: number) => {
  const M = layout.nFeatures
  const stats = Array.from({ length: rowsOut }, () => ({ xx: new Float64Array(M), xb: new Float64Array(M), bb: new Float64Array(M) }))
  if (layout.kind !== 'groups') return stats
  for (let j = 0; j < flow.value.length; j++) {
    const x = await ctx.backend.toHost(flow.value[j]!)
    const b = await ctx.backend.toHost(flow.baseline![j]!)
    const g = layout.tensors[j]!
    for (let i = 0; i < ctx.nExamples; i++) {
      const st = stats[rowsOut === 1 ? 0 : i]!
      for (let e = 0; e < g.size; e++) {
        const f = g.feature[(g.rows === 1 ? 0 : i) * g.size + e]!
        const xv = Number(x.data[i * g.size + e])
        const bv = Number(b.data[i * g.size + e])
        st.xx[f]! += xv * xv
        st.xb[f]! += xv * bv
        st.bb[f]! += bv * bv
      }
    }
  }
  return stats
}

/** Reference rows per coalition: B for a background design (baselines as a distribution), else 1. */
const backgroundRows = <T>(p: PerturbParams, ctx: RunContext<T>): number => {
  if (p.design._tag !== 'coalitions' || p.design.background !== true) return 1
  const d = ctx.callData.baselineDistribution?.[0]
  return d === undefined ? 1 : Math.max(1, ctx.backend.shapeOf(d)[0] ?? 1)
}

/** Is `u` a host tensor (the host backend's, as the ONNX models use)? */
const isHostTensor = (u: unknown): u is HostTensor =>
  typeof u === 'object' && u !== null && ArrayBuffer.isView((u as { data?: unknown }).data) && Array.isArray((u as { shape?: unknown }).shape) &&
  typeof (u as { dtype?: unknown }).dtype === 'string'

/**
 * The perturbed copies of one host tensor in one pass: row (k·R + r) is example `rowExample[r]` of
 * `x` with the elements `positions[k]` (of its mask row) taken from row `replRows[k·R + r]` of
 * `repl`. Each element is computed as x·(1 − a) + r·a with a ∈ {0, 1}, the same float32 (or integer)
 * arithmetic as the generic path's two products and a sum, so the bits are the same; but no mask,
 * gathered copy or intermediate product is allocated.
 */
/**
 * Which rows of `data` (rows of D elements) are free of −0 (`noNegativeZero`) or all finite
 * (`finite`); perturb computes it once per run and input (through the run's memo), not per chunk.
 *
 * @internal
 */
export const cleanRows = (data: ArrayLike<number>, D: number, what: 'noNegativeZero' | 'finite'): Uint8Array => {
  const rows = Math.floor(data.length / D)
  const ok = new Uint8Array(rows)
  for (let r = 0; r < rows; r++) {
    let clean = 1
    const end = (r + 1) * D
    if (what === 'finite') {
      for (let e = r * D; e < end; e++) if (data[e]! - data[e]! !== 0) { clean = 0; break }
    } else {
      for (let e = r * D; e < end; e++) if (data[e] === 0 && 1 / data[e]! < 0) { clean = 0; break }
    }
    ok[r] = clean
  }
  return ok
}

/** @internal */
export const hostCopies = (
  x: HostTensor, repl: HostTensor, replRows: Int32Array, rowExample: Int32Array, K: number, D: number, rows: number, positions: readonly Int32Array[],
  clean: { readonly x?: Uint8Array; readonly repl?: Uint8Array } = {},
): HostTensor => {
  const R = rowExample.length
  const n = K * R * D
  const removed = new Uint8Array(D)
  const inner = x.shape.slice(1)
  const mark = (k: number, r: number, v: 0 | 1): void => {
    const mr = rows === 1 ? 0 : rowExample[r]!
    const ps = positions[k]!
    for (let q = 0; q < ps.length; q++) {
      const pos = ps[q]! - mr * D
      if (pos >= 0 && pos < D) removed[pos] = v
    }
  }
  if (x.dtype === 'int64') {
    const xs = x.data as BigInt64Array
    const rs = (repl.dtype === 'int64' ? repl.data : BigInt64Array.from(repl.data as ArrayLike<number>, (v) => BigInt(v))) as BigInt64Array
    const out = new BigInt64Array(n)
    for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) {
      mark(k, r, 1)
      const o = (k * R + r) * D
      const xo = rowExample[r]! * D
      const ro = replRows[k * R + r]! * D
      for (let e = 0; e < D; e++) out[o + e] = removed[e] === 1 ? xs[xo + e]! * 0n + rs[ro + e]! : xs[xo + e]! + rs[ro + e]! * 0n
      mark(k, r, 0)
    }
    return { dtype: 'int64', shape: [K * R, ...inner], data: out }
  }
  const xs = x.data as Float32Array | Int32Array | Uint8Array
  const rs = (repl.dtype === 'int64' ? Float64Array.from(repl.data as BigInt64Array, Number) : repl.data) as Float32Array | Int32Array | Uint8Array | Float64Array
  const out = x.dtype === 'float32' ? new Float32Array(n) : x.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n)
  const asBool = x.dtype === 'bool'
  // A kept element is x·1 + r·0, which is x itself unless r is not finite (r·0 = NaN) or x is −0
  // and r·0 is +0. Rows without either case are copied whole and only their removed elements are
  // computed; the others take the element-by-element loop. Integers always take the fast path.
  const float = x.dtype === 'float32'
  const xOk = float ? clean.x ?? cleanRows(xs, D, 'noNegativeZero') : undefined
  const rOk = float ? clean.repl ?? cleanRows(rs, D, 'finite') : undefined
  for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) {
    const o = (k * R + r) * D
    const xo = rowExample[r]! * D
    const ro = replRows[k * R + r]! * D
    if (xOk === undefined || rOk === undefined || (xOk[rowExample[r]!] === 1 && rOk[replRows[k * R + r]!] === 1)) {
      out.set(xs.subarray(xo, xo + D), o)
      const mr = rows === 1 ? 0 : rowExample[r]!
      const ps = positions[k]!
      for (let q = 0; q < ps.length; q++) {
        const e = ps[q]! - mr * D
        if (e < 0 || e >= D) continue
        const v = xs[xo + e]! * 0 + rs[ro + e]!
        out[o + e] = asBool ? (v !== 0 ? 1 : 0) : v
      }
      continue
    }
    mark(k, r, 1)
    for (let e = 0; e < D; e++) {
      const a = removed[e]!
      const v = xs[xo + e]! * (1 - a) + rs[ro + e]! * a
      out[o + e] = asBool ? (v !== 0 ? 1 : 0) : v
    }
    mark(k, r, 0)
  }
  return { dtype: x.dtype, shape: [K * R, ...inner], data: out } as HostTensor
}

export const perturb: ExpandStageDef<'perturb', PerturbParams> = {
  tag: 'perturb',
  kind: 'expand',
  axis: 'perturbation',
  params: PerturbParams,
  batchDependent: (p) => p.design._tag === 'ablation' && p.design.replaceWith === 'permutation',
  needs: (p) => [
    // a layer's baselines and mask come with the layer (layerPoints, call data layerMask)
    ...(p.features._tag === 'layerMask' ? ['layerMask' as const] : [
      p.design._tag === 'coalitions' && p.design.background === true ? 'baselineDistribution' as const : 'baselines' as const,
      // windows reject a mask (Occlusion takes no featureMask), so they read it too
      'featureMask' as const,
    ]),
    'perturbationsPerEval',
    ...(usesPlugins(p.design) ? ['plugins' as const] : []),
  ],
  abstract: (p, f) =>
    firstProblem([
      wrongKind(f, ['points'], 'perturb makes perturbed copies of the inputs'),
      p.features._tag === 'layerMask'
        ? f.space.kind === 'layer' ? undefined : 'perturb over a layerMask perturbs a layer\'s values: put layerPoints before it'
        : f.space.kind === 'input' ? undefined : 'perturb perturbs model inputs: put it before any layer stage (or perturb the layer with features { _tag: \'layerMask\' })',
      p.features._tag === 'layerMask' && p.design._tag === 'coalitions' && p.design.background === true ? 'a baseline distribution is given in input space and cannot replace a layer\'s values' : undefined,
      // every design but permutation replaces the removed neurons by the layer baselines
      p.features._tag === 'layerMask' && !(p.design._tag === 'ablation' && p.design.replaceWith === 'permutation')
        ? missingSlot(f, ['baseline'], 'the layer baselines replace the removed neurons: use layerPoints({ layer, baselines: true })')
        : undefined,
      f.depth === 0 ? undefined : 'perturb works on a batch of examples, not inside another expansion: to run a perturbation method on noisy copies or path points, wrap the whole method in an apply stage (stage.apply(featureAblation()))',
      missingSlot(f, ['reference'], 'put the reference stage right before perturb'),
    ], () => ({ ...f, slots: new Set(['reference']), depth: f.depth + 1 })),
  summary: (p) => {
    const name = (u: string | { readonly name: string }): string => (typeof u === 'string' ? u : `custom "${u.name}"`)
    const over = p.features._tag === 'masks' ? 'feature groups' : p.features._tag === 'layerMask' ? 'groups of layer neurons' : `windows ${JSON.stringify(p.features.shapes)}${p.features.strides !== undefined ? ` stride ${JSON.stringify(p.features.strides)}` : ''}`
    const d = p.design
    switch (d._tag) {
      case 'ablation':
        return `each of the ${over} → ${d.replaceWith === 'baseline' ? 'baseline' : 'permuted batch'}`
      case 'shapleyExact':
        return `every coalition of ${over}`
      case 'shapleySampling':
        return `${d.nSamples} permutations of ${over}`
      case 'coalitions':
        return `${d.nSamples} ${name(d.sampler)} coalitions of ${over}, weights ${d.similarity._tag === 'custom' ? name(d.similarity) : d.similarity._tag}${d.background ? ', each over the baseline distribution' : ''}`
    }
  },
  maxPerChunk: (_p, ctx) => ctx.callData.perturbationsPerEval,
  scope: (p, flow, ctx) => {
    const reference = flow.reference
    if (reference === undefined) return E.left(err('BadPipeline', 'perturb needs the reference output F(x): put the reference stage before it', ['stages']))
    return E.map((layout: Layout): PerturbScope => ({ layout, reference, shapes: shapesOf(flow, ctx) }))(layoutFor(p, flow, ctx))
  },
  count: (p, flow, ctx) => {
    const layout = layoutFor(p, flow, ctx)
    return E.isLeft(layout) ? 1 : Math.max(1, itemCount(p.design, layout.right.nFeatures)) * backgroundRows(p, ctx)
  },
  expand: <T>(p: PerturbParams, flow: Flow<T>, ctx: RunContext<T>, start: number, end: number): TE.TaskEither<AttributionError, Expanded<T>> => async () => {
    const layout = layoutFor(p, flow, ctx)
    if (E.isLeft(layout)) return layout
    const L = layout.right
    const M = L.nFeatures
    if (M === 0) return E.left(err('EmptyInput', 'the inputs have no elements to perturb', ['inputs']))
    const exactKernel = p.design._tag === 'coalitions' && p.design.similarity._tag === 'shapleyKernel' && p.design.sampler === 'enumerate'
    if ((p.design._tag === 'shapleyExact' || exactKernel) && M > MAX_EXACT_FEATURES) {
      return E.left(err('Unsupported', `exact Shapley values enumerate 2^M coalitions and this call has M = ${M} features (at most ${MAX_EXACT_FEATURES}): ` +
        'group features with a featureMask, or use ShapleyValueSampling or KernelShap', ['featureMask']))
    }
    const ref = flow.reference
    if (ref === undefined) return E.left(err('BadPipeline', 'perturb needs the reference output F(x): put the reference stage before it', ['stages']))
    const N = ctx.nExamples
    if (ref.aggregate) {
      const j = flow.value.findIndex((_, k) => maskRows(L, k) > 1)
      if (j >= 0) {
        const [name, path] = p.features._tag === 'layerMask' ? ['layerMask', ['layerMask']] : [`featureMask[${j}]`, ['featureMask', String(j)]]
        return E.left(err('ShapeMismatch', `${name} has one row per example, but the forward returns one output for the whole batch (shape [${ref.outputShape.join(', ')}]); use a mask with first dimension 1`, path))
      }
    }
    const replaceWithPerm = p.design._tag === 'ablation' && p.design.replaceWith === 'permutation'
    const background = p.design._tag === 'coalitions' && p.design.background === true
    if (background && ctx.callData.baselineDistribution === undefined) {
      return E.left(err('BadBaseline', 'this method averages over a baseline distribution: pass baselines with B reference rows, shape [B, …one example]', ['baselines']))
    }
    if (background && p.design._tag === 'coalitions' && p.design.similarity._tag === 'expKernel') {
      return E.left(err('Unsupported', 'a baseline distribution works with the KernelShap and Shapley kernels, not with an exponential-kernel similarity (it depends on one baseline per example)', ['design']))
    }
    if (!replaceWithPerm && !background && flow.baseline === undefined) return E.left(err('BadBaseline', 'perturb needs baselines', ['baselines']))
    // With a background, expansion index i is coalition ⌊i/B⌋ evaluated against reference row i mod B.
    const B = backgroundRows(p, ctx)
    const first = Math.floor(start / B)
    const coalitions = itemsOf(p.design, M, ctx.key, flow.value.length, N, first, Math.floor((end - 1) / B) + 1, ctx.callData.plugins)
    const items = Array.from({ length: end - start }, (_, i) => coalitions[Math.floor((start + i) / B) - first]!)
    const referenceRow = Int32Array.from({ length: end - start }, (_, i) => (start + i) % B)
    const absent = items.map((it) => absentFeatures(it.present))
    const K = items.length
    const b = ctx.backend
    const R = flow.rowExample.length
    const rowExample = new Int32Array(K * R)
    for (let k = 0; k < K; k++) rowExample.set(flow.rowExample, k * R)
    // The replacement rows per copy row: the permuted batch, a background row, or the example's baseline.
    const replacementOf = (j: number): { readonly source: T; readonly rows: Int32Array } => {
      if (replaceWithPerm) {
        const idx = new Int32Array(K * R)
        for (let k = 0; k < K; k++) for (let r = 0; r < R; r++) idx[k * R + r] = items[k]!.perms![j]![flow.rowExample[r]!]!
        return { source: flow.value[j]!, rows: idx }
      }
      if (background) {
        const idx = new Int32Array(K * R)
        for (let k = 0; k < K; k++) idx.fill(referenceRow[k]!, k * R, (k + 1) * R)
        return { source: ctx.callData.baselineDistribution![j]!, rows: idx }
      }
      return { source: flow.baseline![j]!, rows: rowExample }
    }
    const value = flow.value.map((x, j) => {
      if (isHostTensor(x)) {
        const repl = replacementOf(j)
        if (isHostTensor(repl.source)) {
          const positions = absent.map((a) => absentPositions(L, j, a))
          const D = elementsOf(L, j)
          // the inputs and their replacements are the same arrays in every chunk of this run: check their rows once
          const seen = ctx.memo('perturb.cleanRows', () => new WeakMap<object, Map<string, Uint8Array>>())
          const once = (data: Float32Array, what: 'noNegativeZero' | 'finite'): Uint8Array => {
            let byKey = seen.get(data)
            if (byKey === undefined) seen.set(data, (byKey = new Map()))
            const key = `${what} ${D}`
            const hit = byKey.get(key)
            if (hit !== undefined) return hit
            const made = cleanRows(data, D, what)
            byKey.set(key, made)
            return made
          }
          const clean = x.dtype !== 'float32' ? {} : { x: once(x.data as Float32Array, 'noNegativeZero'), repl: once(repl.source.data as Float32Array, 'finite') }
          return ctx.track(b.fromHost(hostCopies(x, repl.source, repl.rows, flow.rowExample, K, D, maskRows(L, j), positions, clean)))
        }
      }
      const dtype = b.dtypeOf(x)
      const work: DType = dtype === 'bool' ? 'int32' : dtype
      const D = elementsOf(L, j)
      const rows = maskRows(L, j)
      const inner = b.shapeOf(x).slice(1)
      // keep = 1 − A; only the removed elements are visited (few of many for ablation and windows).
      const A = typed(work, K * R * D)
      const keep = typed(work, K * R * D)
      if (keep instanceof BigInt64Array) keep.fill(1n)
      else keep.fill(1)
      for (let k = 0; k < K; k++) {
        // ascending positions in (mask rows × elements): mask row mr is the run in [mr·D, (mr + 1)·D)
        const positions = absentPositions(L, j, absent[k]!)
        for (let r = 0; r < R; r++) {
          const mr = rows === 1 ? 0 : flow.rowExample[r]!
          const dst = (k * R + r) * D - mr * D
          for (let q = 0; q < positions.length; q++) {
            const pos = positions[q]!
            if (pos < mr * D || pos >= (mr + 1) * D) continue
            setOne(A, dst + pos)
            if (keep instanceof BigInt64Array) keep[dst + pos] = 0n
            else keep[dst + pos] = 0
          }
        }
      }
      const shape = [K * R, ...inner]
      const mA = ctx.track(b.fromHost({ dtype: work, shape, data: A } as HostTensor))
      const mKeep = ctx.track(b.fromHost({ dtype: work, shape, data: keep } as HostTensor))
      const asWork = (u: T): T => (dtype === 'bool' ? ctx.track(b.cast(u, 'int32')) : u)
      const X = asWork(ctx.track(b.gatherRows(x, rowExample)))
      const r = replacementOf(j)
      const repl = asWork(ctx.track(b.gatherRows(r.source, r.rows)))
      const out = ctx.track(b.add(ctx.track(b.mul(X, mKeep)), ctx.track(b.mul(repl, mA))))
      return b.dtypeOf(out) === dtype ? out : ctx.track(b.cast(out, dtype))
    })
    let weights: Float64Array[] | undefined
    if (p.design._tag === 'coalitions') {
      const sim = p.design.similarity
      const rowsOut = ref.aggregate ? 1 : N
      const stats = sim._tag === 'expKernel' ? await featureSums(ctx, flow, L, rowsOut) : []
      // B copies of a coalition with weight w/B fit exactly like one copy of weight w whose value is
      // the mean over the references (the weighted least-squares objectives differ by a constant).
      if (sim._tag === 'custom') {
        const fn = pluginOf(ctx.callData.plugins, 'similarities', sim.name)
        const rowOf = async (t: T, i: number): Promise<HostTensor> => {
          const h = await b.toHost(t)
          const D = h.shape.slice(1).reduce((u, v) => u * v, 1)
          return { dtype: h.dtype, shape: [1, ...h.shape.slice(1)], data: h.data.slice(i * D, (i + 1) * D) } as HostTensor
        }
        const original = await Promise.all(Array.from({ length: rowsOut }, (_, i) => Promise.all(flow.value.map((x) => rowOf(x, i)))))
        const base = await Promise.all(Array.from({ length: rowsOut }, (_, i) => Promise.all((flow.baseline ?? flow.value).map((x) => rowOf(x, i)))))
        weights = items.map((it) => Float64Array.from({ length: rowsOut }, (_, i) => {
          const w = fn({ original: original[i]!, baseline: base[i]!, interpretable: it.present, example: i })
          if (!Number.isFinite(w) || w < 0) throw err('BadPipeline', `similarity ${JSON.stringify(sim.name)} returned ${w}; weights must be finite and ≥ 0`, ['plugins'])
          return w / B
        }))
      } else {
        weights = items.map((it) => Float64Array.from({ length: rowsOut }, (_, i) =>
          similarityOf(sim, it.present, stats[i]?.xx ?? new Float64Array(M), stats[i]?.xb ?? new Float64Array(M), stats[i]?.bb ?? new Float64Array(M)) / B))
      }
    }
    const meta: PerturbChunk = { items, absent, ...(weights ? { weights } : {}) }
    return E.right({ flow: { value, rowExample, space: flow.space, reference: ref }, meta })
  },
}
