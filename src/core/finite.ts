/**
 * The non-finite policy, one for every backend: NaN or ±Infinity in what the caller gives
 * (inputs, baselines, a target mask) or in what a run produces (model outputs, gradients) is a
 * `NonFinite` error naming where it appeared, unless the call opts in with `allowNonFinite`.
 * Backends check their model outputs as they run; the interpreter checks the call data before the
 * first model call and the attributions (and delta) it returns, whose non-finite entries, with
 * finite inputs and outputs, can only come from a gradient or a target function.
 *
 * @category core
 * @since 0.2.0
 */
import { err, type NonFinite } from './errors.js'
import type { HostTensor } from './tensor.js'

/** The flat index of the first NaN or ±Infinity in `h` (float tensors only), or -1. */
export const firstNonFinite = (h: HostTensor): number => {
  if (h.dtype !== 'float32') return -1
  const d = h.data as Float32Array
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return i
  return -1
}

/** Row-major coordinates of flat index `i` in `shape`. */
const coordinates = (shape: readonly number[], i: number): number[] => {
  const out = new Array<number>(shape.length).fill(0)
  let r = i
  for (let k = shape.length - 1; k >= 0; k--) {
    const s = shape[k]!
    out[k] = s === 0 ? 0 : r % s
    r = Math.floor(r / Math.max(1, s))
  }
  return out
}

/** A NonFinite error for the first bad element of `h`, or undefined when every element is finite. */
export const nonFiniteIn = (h: HostTensor, path: readonly string[], what: string, advice: string): NonFinite | undefined => {
  const i = firstNonFinite(h)
  if (i < 0) return undefined
  const v = (h.data as Float32Array)[i]!
  return err('NonFinite', `${what} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at [${coordinates(h.shape, i).join(', ')}]; ${advice}. ` +
    'Pass allowNonFinite: true to get such values back instead of this error', path)
}
