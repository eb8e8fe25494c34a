/**
 * Host-tensor helpers for `verify`: perturbations around the user's inputs, feature swaps, per-row
 * sums and sizes. Plain arithmetic on float32 host tensors; nothing here touches a backend.
 *
 * @internal
 * @category verify
 * @since 0.3.0
 */
import { keyOf, uniforms } from '../core/random.js'
import { float32, sizeOf, type HostTensor } from '../core/tensor.js'

/** Scalars per example (dims after the first). */
export const perRow = (t: HostTensor): number => sizeOf(t.shape.slice(1))
export const rowsOf = (t: HostTensor): number => t.shape[0] ?? 1

/** A float32 copy (int inputs and baselines are attributed as float32, as Captum promotes them). */
export const asFloat = (t: HostTensor): HostTensor<'float32'> => float32(t.shape, Float32Array.from(t.data as ArrayLike<number | bigint>, Number))

/** `x + radius · scale · u`, u uniform in [−1, 1) per scalar, drawn from `noiseSeed` (one stream per input). */
export const perturbed = (xs: readonly HostTensor[], radius: number, scale: number, noiseSeed: number): HostTensor[] =>
  xs.map((x, k) => {
    const u = uniforms(keyOf(noiseSeed * 7919 + k), x.data.length)
    return float32(x.shape, Float32Array.from(x.data as ArrayLike<number>, (v, i) => Number(v) + radius * scale * (2 * u[i]! - 1)))
  })

/** `t` with scalars `i` and `j` of every example swapped. */
export const swapped = (t: HostTensor, i: number, j: number): HostTensor => {
  const d = perRow(t)
  const out = Float32Array.from(t.data as ArrayLike<number>, Number)
  for (let r = 0; r < rowsOf(t); r++) {
    out[r * d + i] = Number(t.data[r * d + j])
    out[r * d + j] = Number(t.data[r * d + i])
  }
  return float32(t.shape, out)
}

/** Σ of every attribution tensor's scalars, per example row. */
export const rowSums = (ts: readonly HostTensor[], rows: number): Float64Array => {
  const s = new Float64Array(rows)
  for (const t of ts) {
    const d = t.data.length / rows
    for (let i = 0; i < t.data.length; i++) s[Math.floor(i / d)]! += Number(t.data[i])
  }
  return s
}

export const maxAbsOf = (ts: readonly HostTensor[]): number => ts.reduce((m, t) => Array.from(t.data as ArrayLike<number>).reduce((a, v) => Math.max(a, Math.abs(Number(v))), m), 0)

/** max |a − b| over matching scalars of two tensor lists, and where it is (tensor, flat index). */
export const maxDiff = (a: readonly HostTensor[], b: readonly HostTensor[]): { value: number; tensor: number; index: number } => {
  let best = { value: 0, tensor: 0, index: 0 }
  a.forEach((t, k) => {
    for (let i = 0; i < t.data.length; i++) {
      const v = Math.abs(Number(t.data[i]) - Number(b[k]!.data[i]))
      if (!(v <= best.value)) best = { value: v, tensor: k, index: i }
    }
  })
  return best
}

/** Σ_i w_i · ts_i, elementwise (all lists alike). */
export const weightedSum = (terms: readonly { readonly w: number; readonly ts: readonly HostTensor[] }[]): HostTensor[] =>
  terms[0]!.ts.map((t, k) => float32(t.shape, Float64Array.from(t.data as ArrayLike<number>, (_, i) => terms.reduce((s, term) => s + term.w * Number(term.ts[k]!.data[i]), 0))))

/** `n` copies of each row block: rows (q, r) ↦ q·rows + r, q < n. */
export const tiled = (t: HostTensor, n: number): HostTensor => {
  const out = new Float32Array(t.data.length * n)
  for (let q = 0; q < n; q++) out.set(Float32Array.from(t.data as ArrayLike<number>, Number), q * t.data.length)
  return float32([rowsOf(t) * n, ...t.shape.slice(1)], out)
}

/** Where flat feature `f` (over all inputs' per-example scalars) lives: input `k`, scalar `index`. */
export const locate = (xs: readonly HostTensor[], f: number): { input: number; index: number } => {
  let rest = f
  for (const [k, x] of xs.entries()) {
    if (rest < perRow(x)) return { input: k, index: rest }
    rest -= perRow(x)
  }
  return { input: xs.length - 1, index: perRow(xs[xs.length - 1]!) - 1 }
}

/** Human text for one scalar of an example: `input 0 [3]` (flat per-example index). */
export const featureName = (xs: readonly HostTensor[], k: number, index: number): string => (xs.length > 1 ? `input ${k} feature ${index}` : `feature ${index}`)

/** Shortest round-trip text for a measured number. */
export const fmt = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(3)).toString() : String(v))
