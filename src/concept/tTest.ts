/**
 * Two-sample t-tests for TCAV's significance check: Student's (pooled variance, the default of
 * `scipy.stats.ttest_ind` that Captum's TCAV tutorial uses) and Welch's (unequal variances,
 * Welch–Satterthwaite degrees of freedom). Two-sided p-values come from the Student t
 * distribution: p = I_{df/(df+t²)}(df/2, 1/2), with the regularised incomplete beta function
 * evaluated by its continued fraction (modified Lentz) and ln Γ by the Lanczos approximation.
 *
 * @category concept
 * @since 0.6.0
 */

/** The result of a two-sided two-sample t-test. `NaN` statistic and p-value when both samples are constant. */
export interface TTestResult {
  readonly statistic: number
  readonly df: number
  readonly pValue: number
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
export const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const z = x - 1
  let a = LANCZOS[0]!
  const tt = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(tt) - tt + Math.log(a)
}

/** The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
const betaFraction = (x: number, a: number, b: number): number => {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + num * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + num / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + num * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + num / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** The regularised incomplete beta function I_x(a, b), 0 ≤ x ≤ 1, a, b > 0. */
export const incompleteBeta = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b
}

/** Two-sided p-value of a t statistic with `df` degrees of freedom. */
export const studentTwoSidedP = (statistic: number, df: number): number =>
  Number.isNaN(statistic) ? NaN : !Number.isFinite(statistic) ? 0 : incompleteBeta(df / (df + statistic * statistic), df / 2, 0.5)

const meanVar = (xs: readonly number[]): { readonly mean: number; readonly variance: number } => {
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length
  const variance = xs.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (xs.length - 1)
  return { mean, variance }
}

/**
 * Two-sided two-sample t-test of equal means. `equalVariance` (default true): Student's test with
 * pooled variance, df = n₁ + n₂ − 2; false: Welch's test. Each sample needs at least 2 values.
 */
export const tTest = (a: readonly number[], b: readonly number[], equalVariance = true): TTestResult => {
  if (a.length < 2 || b.length < 2) throw new RangeError(`a t-test needs at least 2 values per sample; got ${a.length} and ${b.length}`)
  const x = meanVar(a)
  const y = meanVar(b)
  const na = a.length
  const nb = b.length
  let se: number
  let df: number
  if (equalVariance) {
    df = na + nb - 2
    const pooled = ((na - 1) * x.variance + (nb - 1) * y.variance) / df
    se = Math.sqrt(pooled * (1 / na + 1 / nb))
  } else {
    const va = x.variance / na
    const vb = y.variance / nb
    se = Math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
  }
  const statistic = se === 0 ? (x.mean === y.mean ? NaN : (x.mean - y.mean) * Infinity) : (x.mean - y.mean) / se
  return { statistic, df: Number.isNaN(df) ? na + nb - 2 : df, pValue: studentTwoSidedP(statistic, df) }
}
