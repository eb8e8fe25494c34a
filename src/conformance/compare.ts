/**
 * Element-wise tolerance check of a result against a reference tensor, as the fixtures define it:
 * `|actual − expected| ≤ abs + rel·|expected|` for every element, shapes equal.
 *
 * @category conformance
 * @since 0.1.0
 */
import type { HostTensor } from '../core/tensor.js'

/** Outcome of {@link compareTensors}. */
export interface TensorComparison {
  /** Shapes equal and every element within tolerance. */
  readonly ok: boolean
  readonly shapeOk: boolean
  /** Largest `|actual − expected|` (NaN when the shapes differ or a NaN meets a number). */
  readonly maxAbsErr: number
  /**
   * Flat row-major index of the element furthest outside its allowance, i.e. with the largest
   * `|a − e| / (abs + rel·|e|)`; -1 when the shapes differ or the tensors are empty.
   */
  readonly worstIndex: number
  /** Number of elements outside tolerance (every element when the shapes differ). */
  readonly failures: number
  /** One line for a test report. */
  readonly message: string
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i])

/** Row-major flat index → multi-index, for messages. */
const unravel = (i: number, shape: readonly number[]): number[] => {
  const out = new Array<number>(shape.length)
  let rest = i
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] ?? 1
    out[d] = rest % n
    rest = Math.floor(rest / n)
  }
  return out
}

/**
 * Compares `actual` with `expected` element-wise: element `i` passes when
 * `|a_i − e_i| ≤ tol.abs + tol.rel·|e_i|`. NaN passes only against NaN; equal infinities pass.
 * Values are compared as doubles (int64 through `Number`), whatever the dtypes.
 */
export const compareTensors = (
  actual: HostTensor,
  expected: HostTensor,
  tol: { readonly abs: number; readonly rel: number },
): TensorComparison => {
  if (!sameShape(actual.shape, expected.shape)) {
    return {
      ok: false,
      shapeOk: false,
      maxAbsErr: NaN,
      worstIndex: -1,
      failures: expected.data.length,
      message: `shape mismatch: actual [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`,
    }
  }
  let maxAbsErr = 0
  let worstIndex = -1
  let worstRatio = -1
  let failures = 0
  const n = expected.data.length
  for (let i = 0; i < n; i++) {
    const a = Number(actual.data[i])
    const e = Number(expected.data[i])
    let diff: number
    if (Number.isNaN(a) || Number.isNaN(e)) diff = Number.isNaN(a) && Number.isNaN(e) ? 0 : NaN
    else if (a === e) diff = 0 // also equal infinities, where a − e would be NaN
    else diff = Math.abs(a - e)
    const allowed = tol.abs + tol.rel * (Number.isFinite(e) ? Math.abs(e) : 0)
    const pass = diff <= allowed
    if (!pass) failures++
    // NaN and over-allowance errors rank as infinitely bad; otherwise rank by the fraction of allowance used.
    const ratio = Number.isNaN(diff) ? Infinity : diff === 0 ? 0 : allowed > 0 ? diff / allowed : Infinity
    if (ratio > worstRatio) {
      worstRatio = ratio
      worstIndex = i
    }
    if (Number.isNaN(diff)) maxAbsErr = NaN
    else if (diff > maxAbsErr) maxAbsErr = diff
  }
  const ok = failures === 0
  const at = worstIndex >= 0 ? `[${unravel(worstIndex, expected.shape).join(', ')}]` : '-'
  const worst =
    worstIndex >= 0
      ? `worst at ${at}: actual ${Number(actual.data[worstIndex])}, expected ${Number(expected.data[worstIndex])}`
      : 'no elements'
  const message = ok
    ? `ok: ${n} element(s) within abs ${tol.abs} + rel ${tol.rel}; max |a − e| ${maxAbsErr}; ${worst}`
    : `${failures} of ${n} element(s) outside abs ${tol.abs} + rel ${tol.rel}·|e|; max |a − e| ${maxAbsErr}; ${worst}`
  return { ok, shapeOk: true, maxAbsErr, worstIndex, failures, message }
}
