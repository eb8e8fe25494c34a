/**
 * PGD, projected gradient descent (Madry et al. 2018, arXiv:1706.06083): `stepNum` FGSM steps of
 * size `stepSize` (sign steps in both norms), each followed by the projection onto the ball of
 * `radius` around the original input and the clamp to the bounds:
 *
 *   x⁰ = x (or a seeded random point of the ball),   x^{k+1} = clamp(Π_{B(x, r)}(FGSM(x^k)), lower, upper)
 *
 * Π is `x + clamp(x′ − x, −r, r)` for `Linf` and a per-example rescaling of x′ − x to norm ≤ r for
 * `L2` (by r / (‖x′ − x‖ + 1e-7), as torch's `renorm`). Random start draws, per example, a
 * uniform point of the L∞ box, or for L2 a uniformly random direction times r·U^{1/d} (d elements
 * per example), masked, then clamped; the draws depend only on `seed` and the example index.
 *
 * Captum: `PGD(forward_func, loss_func=None, lower_bound, upper_bound).perturb(inputs, radius,
 * step_size, step_num, target, additional_forward_args, targeted, random_start, norm, mask)`. Same
 * step order; the loss defaults to cross-entropy on the logits here. Captum's L2 random start
 * broadcasts the radius against the last input dimension (an error, or a wrongly scaled start);
 * clarus scales each example, as the docs describe.
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { Integer, NonNegativeNumber, PositiveIntUpTo, PositiveNumber } from '../core/codecs.js'
import type { AttributionError } from '../core/errors.js'
import { foldIn, keyOf, normals, uniforms } from '../core/random.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { fgsmStep, withBounds, type AttackResult } from './fgsm.js'
import { clampInPlace, f32, projectL2, projectLinf, rowNorms } from './hostMath.js'
import { defaultLoss, LossOption } from './loss.js'
import { outputOf } from './modelCalls.js'
import { Bound, Labels, MAX_ATTACK_COUNT, MaskOption, prepareAttack, type AttackTensors, type Prepared } from './prepare.js'

export const PgdNorm = t.union([t.literal('Linf'), t.literal('L2')], 'PgdNorm')
export type PgdNorm = t.TypeOf<typeof PgdNorm>

/** PGD options (Captum's constructor and `perturb` arguments, camelCased). */
export const PgdOptions = t.readonly(
  t.intersection([
    t.type({
      /** Radius r of the ball around the input that the result stays in. */
      radius: NonNegativeNumber,
      /** Size of each sign step. */
      stepSize: NonNegativeNumber,
      /** Number of steps. */
      stepNum: PositiveIntUpTo(MAX_ATTACK_COUNT),
      target: Labels,
    }),
    t.partial({
      targeted: t.boolean,
      randomStart: t.boolean,
      norm: PgdNorm,
      loss: LossOption,
      /** Compute the loss on this layer instead of the model output (see FGSM's `lossOn`). */
      lossOn: t.string,
      lowerBound: Bound,
      upperBound: Bound,
      mask: MaskOption,
      /** Seed of the random start (clarus; Captum draws from torch's global generator). */
      seed: Integer,
      memoryBudgetBytes: PositiveNumber,
    }),
  ]),
  'PgdOptions',
)
export type PgdOptions = t.TypeOf<typeof PgdOptions>

export const pgdDefaults = { targeted: false, randomStart: false, norm: 'Linf', loss: defaultLoss, seed: 0 } as const

/** PGD's result: an {@link AttackResult} plus, per attacked input, each example's ‖x′ − x‖ in the chosen norm. */
export interface PgdResult extends AttackResult {
  readonly perturbationNorm: readonly HostTensor[]
}

/** A random start for input `i`: x + δ ⊙ m, δ uniform in the L∞ box or the L2 ball (per example). */
const randomPoint = (x: HostTensor<'float32'>, i: number, radius: number, norm: PgdNorm, mask: Float64Array | undefined, seed: number): Float32Array => {
  const rows = x.shape[0] ?? 0
  const per = sizeOf(x.shape.slice(1))
  const out = new Float32Array(x.data.length)
  const base = foldIn(keyOf(seed), i)
  for (let r = 0; r < rows; r++) {
    const key = foldIn(base, r)
    const delta = new Float64Array(per)
    if (norm === 'Linf') {
      const u = uniforms(key, per)
      for (let e = 0; e < per; e++) delta[e] = (2 * u[e]! - 1) * radius
    } else {
      const g = normals(foldIn(key, 0), per)
      const len = Math.sqrt(g.reduce((a, v) => a + v * v, 0)) || 1
      const scale = uniforms(foldIn(key, 1), 1)[0]! ** (1 / Math.max(1, per)) * radius
      for (let e = 0; e < per; e++) delta[e] = (g[e]! / len) * scale
    }
    for (let e = 0; e < per; e++) {
      const at = r * per + e
      out[at] = Math.fround(x.data[at]! + delta[e]! * (mask === undefined ? 1 : mask[at]!))
    }
  }
  return out
}

/** PGD on prepared host data: the perturbed inputs. */
export const pgdPrepared = async <T>(model: Model<T>, p: Prepared, options: PgdOptions): Promise<E.Either<AttributionError, HostTensor<'float32'>[]>> => {
  const b = withBounds({ ...pgdDefaults, ...options })
  if (E.isLeft(b)) return b
  const o = b.right
  let xs: HostTensor<'float32'>[] = o.randomStart
    ? p.xs.map((x, i) => f32(x.shape, clampInPlace(randomPoint(x, i, o.radius, o.norm, p.masks[i], o.seed), o.lowerBound, o.upperBound)))
    : [...p.xs]
  for (let k = 0; k < o.stepNum; k++) {
    // The step itself is unclamped (Captum's inner FGSM has no bounds); projection, then the bounds.
    const stepped = await fgsmStep(model, p.plan, xs, p, { ...o, epsilon: o.stepSize }, false)
    if (E.isLeft(stepped)) return stepped
    xs = stepped.right.map((x, i) => {
      const x0 = p.xs[i]!
      const projected = o.norm === 'Linf' ? projectLinf(x0.data, x.data, o.radius) : projectL2(x0.data, x.data, p.rows, o.radius)
      return f32(x.shape, clampInPlace(projected, o.lowerBound, o.upperBound))
    })
  }
  return E.right(xs)
}

/**
 * Perturbs `inputs` by PGD against `model`; returns the perturbed inputs, the model output on them
 * and each example's perturbation norm. Never throws: bad options and inputs are typed errors.
 *
 * @example
 * const r = await pgd(model, x, { radius: 0.03, stepSize: 0.01, stepNum: 10, target: [3] })()
 */
export const pgd = <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: PgdOptions & AttackTensors<T>,
): TE.TaskEither<AttributionError, PgdResult> => async () => {
  const prep = await prepareAttack(model, inputs, PgdOptions, options, options)
  if (E.isLeft(prep)) return prep
  const p = prep.right.prepared
  const perturbed = await pgdPrepared(model, p, prep.right.options)
  if (E.isLeft(perturbed)) return perturbed
  const out = await outputOf(model, p.plan, perturbed.right)
  if (E.isLeft(out)) return out
  const norm = prep.right.options.norm ?? pgdDefaults.norm
  return E.right({
    perturbed: perturbed.right,
    perturbedOutput: out.right,
    perturbationNorm: perturbed.right.map((x, i) => rowNorms(p.xs[i]!.data, x.data, p.rows, norm)),
  })
}
