/**
 * FGSM, the fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, arXiv:1412.6572):
 *
 *   x′ = clamp(x + s·ε·sign(∇ₓ Σᵢ ℓ(f(x)ᵢ, yᵢ)) ⊙ m, lower, upper),   s = +1 (untargeted) or −1 (targeted)
 *
 * where elements whose gradient is |g| ≤ 1e-6 stay put. Untargeted, the step raises the loss of the
 * true labels y; targeted, it lowers the loss of the target labels. The gradient is one forward
 * pass and one VJP of the model (see `loss.ts`), chunked under the memory budget.
 *
 * Captum: `FGSM(forward_func, loss_func=None, lower_bound, upper_bound).perturb(inputs, epsilon,
 * target, additional_forward_args, targeted, mask)`. Same step, zero threshold, sign flip and
 * clamp order; the loss defaults to cross-entropy on the logits here (Captum's default −log(out)
 * assumes probabilities; ask for it with `{ _tag: 'negLogOutput' }`). `target` is class labels.
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { NonNegativeNumber, PositiveNumber } from '../core/codecs.js'
import { invalidSpec, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { clampInPlace, f32, signStep } from './hostMath.js'
import { defaultLoss, LossOption } from './loss.js'
import { lossGradientOf, outputOf, type CallPlan } from './modelCalls.js'
import { Bound, Labels, MaskOption, prepareAttack, type AttackTensors, type Prepared } from './prepare.js'

/** FGSM options (Captum's constructor and `perturb` arguments, camelCased). */
export const FgsmOptions = t.readonly(
  t.intersection([
    t.type({
      /** Step size ε (≥ 0). */
      epsilon: NonNegativeNumber,
      /** Class labels: the true labels (untargeted) or the labels to reach (targeted). */
      target: Labels,
    }),
    t.partial({
      targeted: t.boolean,
      loss: LossOption,
      /**
       * Compute the loss on this layer instead of the model output (clarus): e.g. the logits
       * before a final softmax, whose saturation otherwise leaves no gradient to attack.
       */
      lossOn: t.string,
      lowerBound: Bound,
      upperBound: Bound,
      mask: MaskOption,
      memoryBudgetBytes: PositiveNumber,
    }),
  ]),
  'FgsmOptions',
)
export type FgsmOptions = t.TypeOf<typeof FgsmOptions>

export const fgsmDefaults = { targeted: false, loss: defaultLoss, lowerBound: -Infinity, upperBound: Infinity } as const

/** An attack's result: the perturbed inputs (one per attacked input) and the model output on them. */
export interface AttackResult {
  readonly perturbed: readonly HostTensor[]
  readonly perturbedOutput: HostTensor
}

/** One FGSM step from `xs` (host), clamped to the bounds. */
export const fgsmStep = async <T>(
  model: Model<T>,
  plan: CallPlan,
  xs: readonly HostTensor<'float32'>[],
  p: { readonly labels: Int32Array; readonly masks: readonly (Float64Array | undefined)[] },
  o: { readonly epsilon: number; readonly targeted: boolean; readonly loss: LossOption; readonly lossOn?: string; readonly lowerBound: number; readonly upperBound: number },
  clamp = true,
): Promise<E.Either<AttributionError, HostTensor<'float32'>[]>> => {
  const grads = await lossGradientOf(model, plan, xs, p.labels, o.loss, o.lossOn)
  if (E.isLeft(grads)) return grads
  return E.right(xs.map((x, i) => {
    const moved = signStep(x.data, grads.right[i]!.data as Float32Array, o.epsilon, o.targeted, p.masks[i])
    return f32(x.shape, clamp ? clampInPlace(moved, o.lowerBound, o.upperBound) : moved)
  }))
}

/** Decoded options with defaults, after the bounds check. */
export const withBounds = <A extends { readonly lowerBound?: number; readonly upperBound?: number }>(o: A): E.Either<AttributionError, A & { lowerBound: number; upperBound: number }> => {
  const lowerBound = o.lowerBound ?? -Infinity
  const upperBound = o.upperBound ?? Infinity
  return lowerBound > upperBound
    ? E.left(invalidSpec([{ path: ['lowerBound'], message: `lowerBound ${lowerBound} is above upperBound ${upperBound}: give lowerBound ≤ upperBound` }]))
    : E.right({ ...o, lowerBound, upperBound })
}

/** FGSM on prepared host data (used by `fgsm`, and by MinParamPerturbation and AttackComparator). */
export const fgsmPrepared = async <T>(model: Model<T>, p: Prepared, options: FgsmOptions): Promise<E.Either<AttributionError, HostTensor<'float32'>[]>> => {
  const o = withBounds({ ...fgsmDefaults, ...options })
  if (E.isLeft(o)) return o
  return fgsmStep(model, p.plan, p.xs, p, o.right)
}

/**
 * Perturbs `inputs` by one FGSM step against `model`; returns the perturbed inputs and the model
 * output on them. Never throws: bad options and inputs are typed errors.
 *
 * @example
 * const r = await fgsm(model, x, { epsilon: 8 / 255, target: [3], lowerBound: 0, upperBound: 1 })()
 */
export const fgsm = <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: FgsmOptions & AttackTensors<T>,
): TE.TaskEither<AttributionError, AttackResult> => async () => {
  const prep = await prepareAttack(model, inputs, FgsmOptions, options, options)
  if (E.isLeft(prep)) return prep
  const perturbed = await fgsmPrepared(model, prep.right.prepared, prep.right.options)
  if (E.isLeft(perturbed)) return perturbed
  const out = await outputOf(model, prep.right.prepared.plan, perturbed.right)
  if (E.isLeft(out)) return out
  return E.right({ perturbed: perturbed.right, perturbedOutput: out.right })
}
