/**
 * Host-side arithmetic of the attacks: the signed step, the bounds, the projections onto the
 * ε-ball and the per-example norms, all on float32 host tensors. Every result is rounded to float32
 * after each operation in the order torch evaluates Captum's expressions, so a perturbed input
 * matches Captum's to the last bit wherever the gradients agree.
 *
 * @internal
 * @category robust
 * @since 0.6.0
 */
import { sizeOf, type HostTensor } from '../core/tensor.js'

const f = Math.fround

/** Captum's `zero_thresh`: gradient elements with |g| ≤ this are not moved. */
export const ZERO_THRESH = 1e-6

/** A float32 host tensor (the attacks only move float32 data). */
export const f32 = (shape: readonly number[], data: Float32Array): HostTensor<'float32'> => ({ dtype: 'float32', shape: [...shape], data })

/** Rows [start, end) of a host tensor, as a view-free copy. */
export const hostRows = (h: HostTensor, start: number, end: number): HostTensor => {
  const per = sizeOf(h.shape.slice(1))
  const data = h.data.slice(start * per, end * per)
  return { dtype: h.dtype, shape: [end - start, ...h.shape.slice(1)], data } as HostTensor
}

/** Concatenates float32 host tensors along axis 0. */
export const concatRows = (parts: readonly HostTensor[]): HostTensor<'float32'> => {
  const first = parts[0]!
  const rows = parts.reduce((a, p) => a + (p.shape[0] ?? 0), 0)
  const out = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p.data as Float32Array, at)
    at += p.data.length
  }
  return f32([rows, ...first.shape.slice(1)], out)
}

/**
 * `mask` (any shape broadcastable to `shape`, NumPy rules) expanded to `shape` as a Float64Array;
 * undefined when the shapes do not broadcast.
 */
export const broadcastTo = (mask: HostTensor, shape: readonly number[]): Float64Array | undefined => {
  const ms = mask.shape
  if (ms.length > shape.length) return undefined
  const lead = shape.length - ms.length
  for (let d = 0; d < ms.length; d++) if (ms[d] !== 1 && ms[d] !== shape[lead + d]) return undefined
  const n = sizeOf(shape)
  const out = new Float64Array(n)
  const strides = ms.map((_, d) => (ms[d] === 1 ? 0 : sizeOf(ms.slice(d + 1))))
  for (let i = 0; i < n; i++) {
    let rest = i
    let src = 0
    for (let d = shape.length - 1; d >= 0; d--) {
      const dim = shape[d]!
      const k = rest % dim
      rest = (rest - k) / dim
      if (d >= lead) src += k * strides[d - lead]!
    }
    out[i] = Number(mask.data[src])
  }
  return out
}

/**
 * One FGSM step: x′ = x + s·ε·sign(g)·m where |g| > {@link ZERO_THRESH}, else x (Captum's
 * `torch.where(|g| > zero_thresh, x + multiplier·ε·sign(g)·mask, x)`), s = −1 when targeted.
 */
export const signStep = (x: Float32Array, g: Float32Array, epsilon: number, targeted: boolean, mask: Float64Array | undefined): Float32Array => {
  const se = f((targeted ? -1 : 1) * epsilon)
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) {
    const gi = g[i]!
    if (Math.abs(gi) > ZERO_THRESH) {
      const step = mask === undefined ? se * Math.sign(gi) : f(se * Math.sign(gi) * f(mask[i]!))
      out[i] = f(x[i]! + step)
    } else out[i] = x[i]!
  }
  return out
}

/** Clamps every element into [lower, upper] (Captum's `bound`; infinite bounds leave it unchanged). */
export const clampInPlace = (x: Float32Array, lower: number, upper: number): Float32Array => {
  if (lower === -Infinity && upper === Infinity) return x
  const lo = f(lower)
  const hi = f(upper)
  for (let i = 0; i < x.length; i++) x[i] = Math.min(Math.max(x[i]!, lo), hi)
  return x
}

/** L∞ projection around the original x₀: x₀ + clamp(x′ − x₀, −r, r). */
export const projectLinf = (x0: Float32Array, x: Float32Array, radius: number): Float32Array => {
  const r = f(radius)
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = f(x0[i]! + Math.min(Math.max(f(x[i]! - x0[i]!), -r), r))
  return out
}

/**
 * L2 projection around x₀, per example (torch's `renorm(x′ − x₀, p=2, dim=0, maxnorm=r)`): a row
 * whose difference has norm ‖d‖ > r is scaled by r / (‖d‖ + 1e-7); other rows are unchanged.
 */
export const projectL2 = (x0: Float32Array, x: Float32Array, rows: number, radius: number): Float32Array => {
  const per = rows === 0 ? 0 : x.length / rows
  const out = new Float32Array(x.length)
  const d = new Float32Array(per)
  for (let r = 0; r < rows; r++) {
    let ss = 0
    for (let e = 0; e < per; e++) {
      const v = f(x[r * per + e]! - x0[r * per + e]!)
      d[e] = v
      ss += v * v
    }
    const norm = f(Math.sqrt(ss))
    const factor = norm > radius ? f(radius / (norm + 1e-7)) : 1
    for (let e = 0; e < per; e++) out[r * per + e] = f(x0[r * per + e]! + (factor === 1 ? d[e]! : f(d[e]! * factor)))
  }
  return out
}

/** Per-example norm of x′ − x₀: max |·| (`Linf`) or the Euclidean norm (`L2`), shape [rows]. */
export const rowNorms = (x0: Float32Array, x: Float32Array, rows: number, norm: 'Linf' | 'L2'): HostTensor<'float32'> => {
  const per = rows === 0 ? 0 : x.length / rows
  const out = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    let acc = 0
    for (let e = 0; e < per; e++) {
      const v = f(x[r * per + e]! - x0[r * per + e]!)
      acc = norm === 'Linf' ? Math.max(acc, Math.abs(v)) : acc + v * v
    }
    out[r] = norm === 'Linf' ? acc : Math.sqrt(acc)
  }
  return f32([rows], out)
}

/** The index of the largest value of each row of a [rows, k] tensor (first one on ties, like torch). */
export const argmaxRows = (out: HostTensor): Int32Array => {
  const rows = out.shape[0] ?? 0
  const k = rows === 0 ? 0 : out.data.length / rows
  const res = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    let best = 0
    for (let j = 1; j < k; j++) if (Number(out.data[r * k + j]) > Number(out.data[r * k + best])) best = j
    res[r] = best
  }
  return res
}

/** Row-wise softmax of a [rows, k] tensor, in float64. */
export const softmaxRows = (out: HostTensor): Float64Array => {
  const rows = out.shape[0] ?? 0
  const k = rows === 0 ? 0 : out.data.length / rows
  const p = new Float64Array(rows * k)
  for (let r = 0; r < rows; r++) {
    let m = -Infinity
    for (let j = 0; j < k; j++) m = Math.max(m, Number(out.data[r * k + j]))
    let s = 0
    for (let j = 0; j < k; j++) s += p[r * k + j] = Math.exp(Number(out.data[r * k + j]) - m)
    for (let j = 0; j < k; j++) p[r * k + j]! /= s
  }
  return p
}
