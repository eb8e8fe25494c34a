/**
 * Pearson's correlation coefficient, shared by the `correlationScore` stage (faithfulness
 * correlation) and the randomisation metrics' similarity. The two differ only in what a vector
 * without variance gives, so that case is the caller's choice.
 *
 * @category dsl
 * @since 0.4.0
 */

/**
 * Pearson's r of the pairs (u_i, v_i), clamped to [−1, 1]. When either vector has zero variance
 * the result is `constant(u, v)` (NaN unless given). NaN inputs give NaN.
 */
export const pearson = <A extends ArrayLike<number>>(u: A, v: A, constant: (u: A, v: A) => number = () => NaN): number => {
  const n = u.length
  let mu = 0
  let mv = 0
  for (let i = 0; i < n; i++) {
    mu += u[i]!
    mv += v[i]!
  }
  mu /= n
  mv /= n
  let suv = 0
  let suu = 0
  let svv = 0
  for (let i = 0; i < n; i++) {
    const du = u[i]! - mu
    const dv = v[i]! - mv
    suv += du * dv
    suu += du * du
    svv += dv * dv
  }
  return suu === 0 || svv === 0 ? constant(u, v) : Math.max(-1, Math.min(1, suv / Math.sqrt(suu * svv)))
}
