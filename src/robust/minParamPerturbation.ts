/**
 * MinParamPerturbation: the smallest value of one attack parameter (e.g. FGSM's ε) on the grid
 * argMin, argMin + argStep, … (< argMax) at which the model stops being correct on the attacked
 * batch, by a linear scan or a binary search (which assumes that larger values break the model
 * more). "Correct" defaults to: every example's argmax equals its label.
 *
 * The grid is accumulated in float64 by repeated addition (0.1 + 0.05 + … gives Captum's
 * 0.15000000000000002), and binary search takes midpoints min + ⌊⌊(max − min) / step⌋ / 2⌋ · step
 * with Python's float floor division, so the parameters tried, and the one reported, are Captum's
 * to the last bit. `searchTrace` lists every parameter evaluated, in order, with whether the batch
 * was still correct.
 *
 * Captum: `MinParamPerturbation(forward_func, attack, arg_name, arg_min, arg_max, arg_step,
 * mode='linear', num_attempts=1, preproc_fn=None, apply_before_preproc=False, correct_fn=None)
 * .evaluate(inputs, additional_forward_args, target, perturbations_per_eval, attack_kwargs,
 * correct_fn_kwargs)`. `preproc_fn` is left out (put preprocessing in the model); attack keyword
 * arguments live in the {@link Attack} value; the result also has the model output on the
 * perturbed batch and the search trace. Not found: `perturbed`, `minParam` and `perturbedOutput`
 * are null (Captum's `(None, None)`).
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith, PositiveInt, PositiveIntUpTo, PositiveNumber } from '../core/codecs.js'
import { err, invalidSpec, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { Attack, runAttack, searchProblem } from './attack.js'
import { argmaxRows, concatRows, hostRows } from './hostMath.js'
import { outputOf, type CallPlan } from './modelCalls.js'
import { Labels, MAX_ATTACK_COUNT, prepareBatch, type AttackTensors } from './prepare.js'

/** Whether the model is still right on one attacked batch: output rows and the call's labels. */
export type CorrectFn = (output: HostTensor, target: Int32Array | undefined) => boolean

const Finite = t.refinement(t.number, Number.isFinite, 'FiniteNumber')

export const MinParamPerturbationOptions = t.readonly(
  t.intersection([
    t.type({
      attack: Attack,
      /** The attack option searched: FGSM `epsilon`; PGD `radius`, `stepSize`, `stepNum`; any name for a custom attack. */
      argName: t.string,
      argMin: Finite,
      argMax: Finite,
      argStep: PositiveNumber,
    }),
    t.partial({
      mode: t.union([t.literal('linear'), t.literal('binary')]),
      /** Attack runs per parameter value (for random attacks); any failing run counts. */
      numAttempts: PositiveIntUpTo(MAX_ATTACK_COUNT),
      /** Labels for the correctness check (and the attack's target unless its options set one). */
      target: Labels,
      /** Attacked batches per model call (Captum's `perturbations_per_eval`); results do not depend on it. */
      perturbationsPerEval: PositiveInt,
      correctFn: t.Function,
      memoryBudgetBytes: PositiveNumber,
    }),
  ]),
  'MinParamPerturbationOptions',
)
export type MinParamPerturbationOptions = Omit<t.TypeOf<typeof MinParamPerturbationOptions>, 'correctFn'> & { readonly correctFn?: CorrectFn }

export const minParamPerturbationDefaults = { mode: 'linear', numAttempts: 1, perturbationsPerEval: 1 } as const

export interface MinParamPerturbationResult {
  /** The attacked inputs at the minimal parameter, or null when no grid value breaks the model. */
  readonly perturbed: readonly HostTensor[] | null
  /** The minimal parameter (float64, accumulated as Captum does), or null. */
  readonly minParam: number | null
  /** The model output on `perturbed`, or null. */
  readonly perturbedOutput: HostTensor | null
  /** Every evaluated parameter in order, with whether the batch was still correct there. */
  readonly searchTrace: readonly { readonly param: number; readonly correct: boolean }[]
}

/** The most grid values a search may span (argMin to argMax in steps of argStep). */
export const MAX_GRID = 1_000_000

/** Python's `a // b` on floats (CPython's float_floor_div), so grid midpoints match Captum's. */
export const pyFloorDiv = (a: number, b: number): number => {
  let mod = a % b
  let div = (a - mod) / b
  if (mod !== 0 && b < 0 !== mod < 0) {
    mod += b
    div -= 1
  }
  if (div === 0) return a / b < 0 || Object.is(a / b, -0) ? -0 : 0
  let floor = Math.floor(div)
  if (div - floor > 0.5) floor += 1
  return floor
}

/** Captum's default correctness: all(argmax(output, 1) == target) on a 2-D output. */
const defaultCorrect = (output: HostTensor, target: Int32Array | undefined): E.Either<AttributionError, boolean> => {
  if (target === undefined) return E.left(err('BadTarget', 'the default correctness check compares argmax with the labels: give target, or a correctFn', ['target']))
  if (output.shape.length !== 2) return E.left(err('Unsupported', `the default correctness check needs a 2-D output [rows, classes], got [${output.shape.join(', ')}]; give a correctFn`, ['correctFn']))
  return E.right(argmaxRows(output).every((c, i) => c === target[i]))
}

interface Evaluation {
  readonly param: number
  readonly perturbed: readonly HostTensor[]
}

interface Found {
  readonly param: number
  readonly perturbed: readonly HostTensor[]
  readonly output: HostTensor
}

/**
 * Finds the smallest parameter of `options.attack` that breaks `model` on `inputs`. Never throws:
 * bad options and inputs are typed errors.
 *
 * @example
 * const r = await minParamPerturbation(model, x, { attack: { _tag: 'FGSM' }, argName: 'epsilon', argMin: 0, argMax: 1, argStep: 0.01, target: [3] })()
 */
export const minParamPerturbation = <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: MinParamPerturbationOptions & AttackTensors<T>,
): TE.TaskEither<AttributionError, MinParamPerturbationResult> => async () => {
  const decoded = decodeWith(MinParamPerturbationOptions, options)
  if (E.isLeft(decoded)) return decoded
  const o = { ...minParamPerturbationDefaults, ...decoded.right }
  const bad = searchProblem(o.attack, o.argName)
  if (bad !== undefined) return E.left(bad)
  if (o.argMax < o.argMin) return E.left(invalidSpec([{ path: ['argMax'], message: `argMax ${o.argMax} is below argMin ${o.argMin}` }]))
  // A step below the grid's float resolution would never advance; a huge grid would run for ages.
  const points = (o.argMax - o.argMin) / o.argStep
  if (o.argMin + o.argStep === o.argMin || points > MAX_GRID) {
    return E.left(invalidSpec([{ path: ['argStep'], message: `argStep ${o.argStep} gives ${o.argMin + o.argStep === o.argMin ? 'a grid that never advances from argMin' : `${Math.ceil(points)} grid values`}; use a step that gives at most ${MAX_GRID} values` }]))
  }
  const batch = await prepareBatch(model, inputs, options.additionalForwardArgs, o.target, o.memoryBudgetBytes)
  if (E.isLeft(batch)) return batch
  const { hostXs, rows, target, plan } = batch.right
  const correctFn = options.correctFn
  const isCorrect = (out: HostTensor): E.Either<AttributionError, boolean> => (correctFn ? E.right(correctFn(out, target)) : defaultCorrect(out, target))
  const trace: { param: number; correct: boolean }[] = []

  const attackAt = async (param: number, a: number): Promise<E.Either<AttributionError, Evaluation>> => {
    const r = await runAttack(model, plan, o.attack, hostXs, { target, attempt: a, override: { name: o.argName, value: param } }, ['attack'])
    return E.map((perturbed: readonly HostTensor[]) => ({ param, perturbed }))(r)
  }

  /** One model call over several attacked batches; the first that is no longer correct, if any. */
  const evaluate = async (batch: readonly Evaluation[]): Promise<E.Either<AttributionError, Found | undefined>> => {
    const stacked = hostXs.map((_, i) => concatRows(batch.map((b) => b.perturbed[i]!)))
    const batchPlan: CallPlan = { ...plan, extras: plan.extras.map((x) => concatRows(batch.map(() => x))) }
    const out = await outputOf(model, batchPlan, stacked)
    if (E.isLeft(out)) return out
    for (let k = 0; k < batch.length; k++) {
      const slice = hostRows(out.right, k * rows, (k + 1) * rows)
      const ok = isCorrect(slice)
      if (E.isLeft(ok)) return ok
      trace.push({ param: batch[k]!.param, correct: ok.right })
      if (!ok.right) return E.right({ param: batch[k]!.param, perturbed: batch[k]!.perturbed, output: slice })
    }
    return E.right(undefined)
  }

  const linear = async (): Promise<E.Either<AttributionError, Found | undefined>> => {
    let pending: Evaluation[] = []
    for (let param = o.argMin; param < o.argMax; param += o.argStep) {
      for (let a = 0; a < o.numAttempts; a++) {
        const ev = await attackAt(param, a)
        if (E.isLeft(ev)) return ev
        pending.push(ev.right)
        if (pending.length === o.perturbationsPerEval) {
          const found = await evaluate(pending)
          if (E.isLeft(found) || found.right !== undefined) return found
          pending = []
        }
      }
    }
    return pending.length > 0 ? evaluate(pending) : E.right(undefined)
  }

  const binary = async (): Promise<E.Either<AttributionError, Found | undefined>> => {
    let lo = o.argMin
    let hi = o.argMax
    let best: Found | undefined
    while (hi > lo) {
      let midStep = pyFloorDiv(pyFloorDiv(hi - lo, o.argStep), 2)
      if (midStep === 0 && lo + o.argStep < hi) midStep = 1
      const mid = lo + midStep * o.argStep
      let broke = false
      let pending: Evaluation[] = []
      for (let a = 0; a < o.numAttempts && !broke; a++) {
        const ev = await attackAt(mid, a)
        if (E.isLeft(ev)) return ev
        pending.push(ev.right)
        if (pending.length === o.perturbationsPerEval || a === o.numAttempts - 1) {
          const found = await evaluate(pending)
          if (E.isLeft(found)) return found
          if (found.right !== undefined) {
            broke = true
            hi = mid
            if (best === undefined || best.param > mid) best = found.right
          }
          pending = []
        }
      }
      // Captum stops once the midpoint no longer moves off the lower end (math.isclose, rel 1e-9).
      if (Math.abs(lo - mid) <= 1e-9 * Math.max(Math.abs(lo), Math.abs(mid))) break
      if (!broke) lo = mid
    }
    return E.right(best)
  }

  const found = o.mode === 'linear' ? await linear() : await binary()
  if (E.isLeft(found)) return found
  const f = found.right
  return E.right({ perturbed: f?.perturbed ?? null, minParam: f?.param ?? null, perturbedOutput: f?.output ?? null, searchTrace: trace })
}
