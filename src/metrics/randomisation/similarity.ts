/**
 * Per-example similarity of two explanations, for the randomisation sanity checks: Spearman's rank
 * correlation (ties get their average rank) or Pearson's correlation, over every element of every
 * attributed input of one example (optionally of the absolute values, as Adebayo et al. compare
 * saliency maps), or the structural similarity index (SSIM) of image-shaped attributions. Two
 * explanations without variance are similar (1) when equal and not (0) otherwise.
 *
 * SSIM (Wang, Bovik, Sheikh & Simoncelli 2004) is computed as scikit-image's
 * `structural_similarity` with its defaults (as Quantus calls it): 7×7 uniform windows over the last
 * two dimensions, sample covariances, K1 = 0.01, K2 = 0.03, the mean over every window that fits
 * inside the image, then the mean over channels (every leading dimension of an example, over every
 * input); the data range is max − min over both explanations of the example.
 *
 * @category metrics
 * @since 0.4.0
 */
import * as t from 'io-ts'
import { err, type AttributionError } from '../../core/errors.js'
import type { HostTensor } from '../../core/tensor.js'
import { pearson as pearsonOr } from '../../dsl/perturbation/correlation.js'
import * as E from 'fp-ts/lib/Either.js'

export const SimilarityName = t.keyof({ spearman: null, pearson: null, ssim: null }, 'Similarity')
export type SimilarityName = t.TypeOf<typeof SimilarityName>

const ranks = (x: Float64Array): Float64Array => {
  const idx = Array.from(x.keys()).sort((a, b) => x[a]! - x[b]!)
  const r = new Float64Array(x.length)
  for (let i = 0; i < idx.length;) {
    let j = i
    while (j + 1 < idx.length && x[idx[j + 1]!] === x[idx[i]!]) j++
    const avg = (i + j) / 2
    for (let k = i; k <= j; k++) r[idx[k]!] = avg
    i = j + 1
  }
  return r
}

/** What two explanations without variance score: 1 when equal, 0 otherwise. */
const sameValues = (a: Float64Array, b: Float64Array): number => (a.every((v, i) => v === b[i]) ? 1 : 0)

/** Pearson's correlation of two equal-length vectors (1/0 when one has no variance: equal or not). */
export const pearson = (a: Float64Array, b: Float64Array): number => pearsonOr(a, b, sameValues)

/** Spearman's rank correlation (Pearson's over average ranks). */
export const spearman = (a: Float64Array, b: Float64Array): number => {
  const ra = ranks(a)
  const rb = ranks(b)
  // constant vectors have constant ranks: compare the values, not the ranks
  const constA = ra.every((v) => v === ra[0])
  const constB = rb.every((v) => v === rb[0])
  if (constA || constB) return sameValues(a, b)
  return pearson(ra, rb)
}

/** Example `i`'s elements across every tensor of an explanation (absolute values when `absolute`). */
const row = (attrs: readonly HostTensor[], i: number, absolute: boolean): Float64Array => {
  const parts = attrs.map((a) => {
    const per = a.shape.slice(1).reduce((p, d) => p * d, 1)
    return Array.from(a.data.subarray(i * per, (i + 1) * per) as ArrayLike<number>, (v) => (absolute ? Math.abs(Number(v)) : Number(v)))
  })
  return Float64Array.from(parts.flat())
}

const WIN = 7

/** Mean SSIM of two H×W images (row-major) with this data range, over every full 7×7 window. */
export const ssim2d = (a: Float64Array, b: Float64Array, h: number, w: number, range: number): number => {
  const np = WIN * WIN
  const covNorm = np / (np - 1)
  const c1 = (0.01 * range) ** 2
  const c2 = (0.03 * range) ** 2
  let total = 0
  let count = 0
  for (let r = 0; r + WIN <= h; r++) {
    for (let c = 0; c + WIN <= w; c++) {
      let sa = 0
      let sb = 0
      let saa = 0
      let sbb = 0
      let sab = 0
      for (let i = r; i < r + WIN; i++) {
        for (let j = c; j < c + WIN; j++) {
          const x = a[i * w + j]!
          const y = b[i * w + j]!
          sa += x
          sb += y
          saa += x * x
          sbb += y * y
          sab += x * y
        }
      }
      const ux = sa / np
      const uy = sb / np
      const vx = covNorm * (saa / np - ux * ux)
      const vy = covNorm * (sbb / np - uy * uy)
      const vxy = covNorm * (sab / np - ux * uy)
      total += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
      count++
    }
  }
  return total / count
}

/** SSIM of example `i` of two image-shaped explanations (see the module doc). */
const ssimRow = (a: readonly HostTensor[], b: readonly HostTensor[], i: number, absolute: boolean): number => {
  const ra = row(a, i, absolute)
  const rb = row(b, i, absolute)
  let lo = Infinity
  let hi = -Infinity
  for (const v of [...ra, ...rb]) {
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  if (hi === lo) return 1
  const scores: number[] = []
  let offset = 0
  for (const x of a) {
    const h = x.shape[x.shape.length - 2]!
    const w = x.shape[x.shape.length - 1]!
    const channels = x.shape.slice(1, -2).reduce((p, d) => p * d, 1)
    for (let c = 0; c < channels; c++, offset += h * w) {
      scores.push(ssim2d(ra.subarray(offset, offset + h * w), rb.subarray(offset, offset + h * w), h, w, hi - lo))
    }
  }
  return scores.reduce((s, v) => s + v, 0) / scores.length
}

/** One similarity per example between two explanations of the same inputs. */
export const similarityPerExample = (
  a: readonly HostTensor[],
  b: readonly HostTensor[],
  how: SimilarityName,
  absolute: boolean,
): E.Either<AttributionError, Float32Array> => {
  const same = a.length === b.length && a.every((x, k) => x.shape.length === b[k]!.shape.length && x.shape.every((d, j) => d === b[k]!.shape[j]))
  if (!same || a.length === 0) {
    return E.left(err('ShapeMismatch', `the two explanations differ in shape (${a.map((x) => `[${x.shape.join(', ')}]`).join(', ')} vs ${b.map((x) => `[${x.shape.join(', ')}]`).join(', ')}): compare explanations of the same inputs by the same method`, ['attributions']))
  }
  if (a.some((x) => x.dtype !== 'float32') || b.some((x) => x.dtype !== 'float32')) {
    return E.left(err('DTypeMismatch', 'similarities compare float32 attributions', ['attributions']))
  }
  const n = a[0]!.shape[0] ?? 0
  if (how === 'ssim') {
    const small = a.findIndex((x) => x.shape.length < 3 || x.shape[x.shape.length - 2]! < WIN || x.shape[x.shape.length - 1]! < WIN)
    if (small >= 0) {
      return E.left(err('ShapeMismatch', `SSIM compares images: attribution ${small} has shape [${a[small]!.shape.join(', ')}], but SSIM needs [N, …, H, W] with H, W ≥ ${WIN}; use similarity 'spearman' or 'pearson' for other shapes`, ['similarity']))
    }
    return E.right(Float32Array.from({ length: n }, (_, i) => ssimRow(a, b, i, absolute)))
  }
  const f = how === 'spearman' ? spearman : pearson
  return E.right(Float32Array.from({ length: n }, (_, i) => f(row(a, i, absolute), row(b, i, absolute))))
}
