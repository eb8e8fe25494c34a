/**
 * Features of the perturbation methods (captum-semantics.md §3.9, §4.11): which input elements
 * are perturbed together. Two kinds:
 *
 * - `masks`: one integer mask per input, broadcast to the input (shape `(1, …)` shared by the
 *   examples, `(N, …)` per example, fewer leading dims, or a scalar); equal ids form one feature,
 *   across tensors too. Without masks every scalar is its own feature. Ids are compacted to
 *   0..M−1 in ascending order (Captum: FeatureAblation iterates the unique ids; ShapleyValueSampling,
 *   Lime and KernelShap use max_id + 1 features, so ids missing from the masks only cost
 *   evaluations there; compacting gives the same attributions for fewer evaluations).
 * - `windows`: Occlusion's hyper-rectangles, one feature per window placement, per input.
 * - `layerMask`: groups of a layer's neurons (the layer perturbation methods): one integer mask
 *   over the layer's value (call data `layerMask`, Captum's `layer_mask`), with the same rules as
 *   `masks`; without it every neuron is its own feature.
 *
 * @category dsl
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import { sizeOf, type HostTensor } from '../../core/tensor.js'

const Dims = t.readonlyArray(t.number)

/** How features are formed, as data (the feature masks themselves are call data: `featureMask`). */
export const FeatureSpec = t.union([
  t.readonly(t.type({ _tag: t.literal('masks') })),
  t.readonly(t.type({ _tag: t.literal('layerMask') })),
  t.readonly(
    t.intersection([
      t.type({ _tag: t.literal('windows'), shapes: t.readonlyArray(Dims) }),
      t.partial({ strides: t.union([t.number, t.readonlyArray(t.union([t.number, Dims]))]) }),
    ]),
  ),
])
export type FeatureSpec = t.TypeOf<typeof FeatureSpec>

/** One input under a mask: `rows` mask rows (1 or N) × `size` elements per example → feature index. */
export interface GroupTensor {
  readonly rows: number
  readonly size: number
  readonly feature: Int32Array
  /** Per feature, the positions (in `rows × size`) that carry it: `elements[offsets[f] … offsets[f + 1])`. */
  readonly members: { readonly offsets: Int32Array; readonly elements: Int32Array }
}

/** One input under Occlusion's windows. */
export interface WindowTensor {
  readonly dims: readonly number[]
  readonly window: readonly number[]
  readonly stride: readonly number[]
  readonly counts: readonly number[]
  readonly first: number
  readonly n: number
}

export type Layout =
  | { readonly kind: 'groups'; readonly nFeatures: number; readonly ids: readonly number[]; readonly tensors: readonly GroupTensor[] }
  | { readonly kind: 'windows'; readonly nFeatures: number; readonly tensors: readonly WindowTensor[] }

const bad = (message: string, path: readonly string[]): E.Either<AttributionError, never> => E.left(err('ShapeMismatch', message, path))

/** Mask values as integers (int32/int64, or float32 holding integers). */
const integerValues = (m: HostTensor, j: number, names: MaskNames): E.Either<AttributionError, Float64Array> => {
  if (m.dtype === 'bool') return E.left(err('DTypeMismatch', `${names.mask(j)} is bool; feature masks hold integer feature ids (int32 or int64)`, names.path(j)))
  const out = new Float64Array(m.data.length)
  for (let i = 0; i < out.length; i++) {
    const v = Number(m.data[i])
    if (!Number.isInteger(v)) {
      return E.left(err('DTypeMismatch', `${names.mask(j)} holds ${v} at element ${i}; feature ids must be integers (use an int32 or int64 tensor)`, names.path(j)))
    }
    out[i] = v
  }
  return E.right(out)
}

/** `values` of shape `from` broadcast (NumPy rules, `from` already padded to the same rank) to `to`. */
const broadcast = (values: Float64Array, from: readonly number[], to: readonly number[]): Float64Array => {
  const n = sizeOf(to)
  const out = new Float64Array(n)
  const rank = to.length
  const srcStride = new Array<number>(rank).fill(0)
  let s = 1
  for (let d = rank - 1; d >= 0; d--) {
    srcStride[d] = from[d] === 1 ? 0 : s
    s *= from[d]!
  }
  const idx = new Array<number>(rank).fill(0)
  let src = 0
  for (let i = 0; i < n; i++) {
    out[i] = values[src]!
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++
      src += srcStride[d]!
      if (idx[d]! < to[d]!) break
      src -= srcStride[d]! * to[d]!
      idx[d] = 0
    }
  }
  return out
}

/** How a mask and what it covers are named in errors: the inputs' `featureMask`, or a layer's `layerMask`. */
interface MaskNames {
  readonly mask: (j: number) => string
  readonly path: (j: number) => readonly string[]
  readonly of: string
}

const FEATURE_MASK: MaskNames = { mask: (j) => `featureMask[${j}]`, path: (j) => ['featureMask', String(j)], of: 'its input' }
const LAYER_MASK: MaskNames = { mask: () => 'layerMask', path: () => ['layerMask'], of: 'the layer' }

const masksLayout = (shapes: readonly (readonly number[])[], masks: readonly HostTensor[] | undefined, names: MaskNames = FEATURE_MASK): E.Either<AttributionError, Layout> => {
  const raw: { rows: number; size: number; ids: Float64Array }[] = []
  if (masks === undefined) {
    let offset = 0
    for (const s of shapes) {
      const size = sizeOf(s.slice(1))
      raw.push({ rows: 1, size, ids: Float64Array.from({ length: size }, (_, i) => offset + i) })
      offset += size
    }
  } else {
    if (masks.length !== shapes.length) return bad(`got ${masks.length} feature masks for ${shapes.length} inputs: give one per input`, ['featureMask'])
    for (let j = 0; j < shapes.length; j++) {
      const shape = shapes[j]!
      const m = masks[j]!
      const values = integerValues(m, j, names)
      if (E.isLeft(values)) return values
      if (m.shape.length > shape.length) {
        return bad(`${names.mask(j)} has shape [${m.shape.join(', ')}], more dimensions than ${names.of} [${shape.join(', ')}]`, names.path(j))
      }
      const padded = [...new Array<number>(shape.length - m.shape.length).fill(1), ...m.shape]
      const misfit = padded.findIndex((d, k) => d !== 1 && d !== shape[k])
      if (misfit >= 0) {
        return bad(`${names.mask(j)} has shape [${m.shape.join(', ')}], which does not broadcast to ${names.of} [${shape.join(', ')}] (dimension ${misfit}: ${padded[misfit]} vs ${shape[misfit]}); ` +
          `use [1, ${shape.slice(1).join(', ')}] (shared), [${shape.join(', ')}] (per example) or any shape broadcastable to them`, names.path(j))
      }
      const rows = padded[0]!
      const size = sizeOf(shape.slice(1))
      raw.push({ rows, size, ids: broadcast(values.right, padded, [rows, ...shape.slice(1)]) })
    }
  }
  const unique = new Set<number>()
  for (const r of raw) for (const v of r.ids) unique.add(v)
  const ids = [...unique].sort((a, b) => a - b)
  const index = new Map(ids.map((v, i) => [v, i]))
  const tensors = raw.map((r): GroupTensor => {
    const feature = Int32Array.from(r.ids, (v) => index.get(v)!)
    return { rows: r.rows, size: r.size, feature, members: membersOf(feature, ids.length) }
  })
  return E.right({ kind: 'groups', nFeatures: ids.length, ids, tensors })
}

const perDim = (u: number | readonly number[] | undefined, rank: number, fallback: number): readonly number[] | undefined =>
  u === undefined ? new Array<number>(rank).fill(fallback) : typeof u === 'number' ? new Array<number>(rank).fill(u) : u.length === rank ? u : undefined

const windowsLayout = (shapes: readonly (readonly number[])[], spec: Extract<FeatureSpec, { _tag: 'windows' }>): E.Either<AttributionError, Layout> => {
  if (spec.shapes.length !== shapes.length) {
    return bad(`got ${spec.shapes.length} sliding window shapes for ${shapes.length} inputs: give one per input`, ['slidingWindowShapes'])
  }
  const strides = spec.strides
  if (Array.isArray(strides) && strides.length !== shapes.length) {
    return bad(`got ${strides.length} strides for ${shapes.length} inputs: give one per input, or one number for all`, ['strides'])
  }
  const tensors: WindowTensor[] = []
  let first = 0
  for (let j = 0; j < shapes.length; j++) {
    const dims = shapes[j]!.slice(1)
    const window = spec.shapes[j]!
    const path = ['slidingWindowShapes', String(j)]
    if (window.length !== dims.length) {
      return bad(`sliding window ${j} has ${window.length} dimension(s) but input ${j} has ${dims.length} per example (shape [${shapes[j]!.join(', ')}])`, path)
    }
    const stride = perDim(Array.isArray(strides) ? (strides as readonly (number | readonly number[])[])[j] : (strides as number | undefined), dims.length, 1)
    if (stride === undefined) return bad(`strides for input ${j} need ${dims.length} entries (one per non-batch dimension)`, ['strides', String(j)])
    for (let d = 0; d < dims.length; d++) {
      const w = window[d]!
      const s = stride[d]!
      if (!Number.isInteger(w) || w < 1) return bad(`sliding window ${j} has ${w} in dimension ${d + 1}; window sizes are integers ≥ 1`, path)
      if (w > dims[d]!) return bad(`sliding window ${j} (${window.join('×')}) is larger than input ${j} (${dims.join('×')}) in dimension ${d + 1}`, path)
      if (!Number.isInteger(s) || s < 1) return bad(`stride ${s} for input ${j}, dimension ${d + 1}: strides are integers ≥ 1`, ['strides', String(j)])
      if (w < dims[d]! && s > w) {
        return bad(`stride ${s} is larger than the window (${w}) in dimension ${d + 1} of input ${j}: elements between windows would never be occluded; use a stride ≤ the window`, ['strides', String(j)])
      }
    }
    const counts = dims.map((n, d) => Math.ceil((n - window[d]!) / stride[d]!) + 1)
    const n = sizeOf(counts)
    tensors.push({ dims, window, stride, counts, first, n })
    first += n
  }
  return E.right({ kind: 'windows', nFeatures: first, tensors })
}

/** The features of a call: validated against the input shapes. */
export const layoutOf = (spec: FeatureSpec, shapes: readonly (readonly number[])[], masks: readonly HostTensor[] | undefined): E.Either<AttributionError, Layout> =>
  spec._tag === 'masks' ? masksLayout(shapes, masks)
    : spec._tag === 'layerMask' ? masksLayout(shapes, masks, LAYER_MASK)
      : masks !== undefined ? bad('Occlusion takes sliding windows, not feature masks', ['featureMask']) : windowsLayout(shapes, spec)

/** Mask rows of input `j` (1 for windows). */
export const maskRows = (layout: Layout, j: number): number => (layout.kind === 'groups' ? layout.tensors[j]!.rows : 1)

/** Elements per example of input `j`. */
export const elementsOf = (layout: Layout, j: number): number => (layout.kind === 'groups' ? layout.tensors[j]!.size : sizeOf(layout.tensors[j]!.dims))

/** The features a copy removes (`present[f] = 0`), ascending. */
export const absentFeatures = (present: Uint8Array): Int32Array => {
  let n = 0
  for (let f = 0; f < present.length; f++) if (present[f] === 0) n++
  const out = new Int32Array(n)
  for (let f = 0, q = 0; q < n; f++) if (present[f] === 0) out[q++] = f
  return out
}

/**
 * Which elements of input `j` leave the input when the features `absent` are removed, as ascending
 * positions into (mask rows × elements). An element is removed when any feature containing it is.
 * One removed feature (ablation, Occlusion) visits only its own elements; several are marked on the
 * input first, so an element covered by two of them is listed once.
 */
export const absentPositions = (layout: Layout, j: number, absent: ArrayLike<number>): Int32Array => {
  if (absent.length === 0) return new Int32Array(0)
  if (layout.kind === 'groups') {
    const g = layout.tensors[j]!
    const { offsets, elements } = g.members
    if (absent.length === 1) return elements.subarray(offsets[absent[0]!]!, offsets[absent[0]! + 1]!)
    const marks = new Uint8Array(g.rows * g.size)
    for (let q = 0; q < absent.length; q++) for (let i = offsets[absent[q]!]!; i < offsets[absent[q]! + 1]!; i++) marks[elements[i]!] = 1
    return positionsOf(marks)
  }
  const w = layout.tensors[j]!
  const mine = Array.from(absent).filter((f) => f >= w.first && f < w.first + w.n)
  if (mine.length === 1) return windowPositions(w, mine[0]! - w.first)
  const marks = new Uint8Array(sizeOf(w.dims))
  for (const f of mine) for (const e of windowPositions(w, f - w.first)) marks[e] = 1
  return positionsOf(marks)
}

const positionsOf = (marks: Uint8Array): Int32Array => {
  let n = 0
  for (let e = 0; e < marks.length; e++) n += marks[e]!
  const out = new Int32Array(n)
  for (let e = 0, q = 0; q < n; e++) if (marks[e] === 1) out[q++] = e
  return out
}

/** Per feature, the positions that carry it, as offsets into one index array (a counting sort of `feature`). */
const membersOf = (feature: Int32Array, nFeatures: number): GroupTensor['members'] => {
  const offsets = new Int32Array(nFeatures + 1)
  for (let e = 0; e < feature.length; e++) offsets[feature[e]! + 1]!++
  for (let f = 0; f < nFeatures; f++) offsets[f + 1]! += offsets[f]!
  const fill = offsets.slice(0, nFeatures)
  const elements = new Int32Array(feature.length)
  for (let e = 0; e < feature.length; e++) elements[fill[feature[e]!]!++] = e
  return { offsets, elements }
}

/** The elements of window placement `local` of `w`, ascending (row-major over the window). */
const windowPositions = (w: WindowTensor, local: number): Int32Array => {
  const rank = w.dims.length
  if (rank === 0) return Int32Array.of(0)
  const lo: number[] = []
  const hi: number[] = []
  let l = local
  let n = 1
  for (let d = 0; d < rank; d++) {
    const k = l % w.counts[d]!
    l = Math.floor(l / w.counts[d]!)
    lo.push(k * w.stride[d]!)
    hi.push(Math.min(k * w.stride[d]! + w.window[d]!, w.dims[d]!))
    n *= hi[d]! - lo[d]!
  }
  const strides = w.dims.map((_, d) => sizeOf(w.dims.slice(d + 1)))
  const out = new Int32Array(n)
  const idx = [...lo]
  // the last dimension is a contiguous run: walk the others, then fill the run
  const run = hi[rank - 1]! - lo[rank - 1]!
  for (let q = 0; q < n; ) {
    let p = 0
    for (let d = 0; d < rank; d++) p += idx[d]! * strides[d]!
    for (let i = 0; i < run; i++) out[q++] = p + i
    let d = rank - 2
    for (; d >= 0; d--) {
      idx[d]!++
      if (idx[d]! < hi[d]!) break
      idx[d] = lo[d]!
    }
  }
  return out
}
