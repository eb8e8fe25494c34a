/**
 * The prologue shared by the attacks: decode the options, read the inputs, extra arguments and
 * masks to host tensors, check that they agree (float32 attacked inputs, one row per example
 * everywhere, one label per example, masks broadcastable to their input) and plan the chunks.
 * Every problem found is reported, each with the path of the field at fault. `Labels` and
 * `MaskOption` are public codecs; the rest is internal.
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { HostTensorCodec, Integer, decodeWith } from '../core/codecs.js'
import { err, type AttributionError } from '../core/errors.js'
import type { HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { broadcastTo } from './hostMath.js'
import { asTensorList, planRows, toHostList, type CallPlan } from './modelCalls.js'

/** One class label for every example, or one per example (Captum passes them to the loss as int64). */
export const Labels = t.union([Integer, t.readonlyArray(Integer)], 'Labels')
export type Labels = t.TypeOf<typeof Labels>

/** A number that is not NaN (±Infinity allowed: an open bound). */
export const Bound = t.refinement(t.number, (n) => !Number.isNaN(n), 'Bound')

/** Masks (0/1 or any weights): one tensor per attacked input, broadcastable to it; one tensor for a single input. */
export const MaskOption = t.union([HostTensorCodec, t.readonlyArray(HostTensorCodec)], 'MaskOption')
export type MaskOption = t.TypeOf<typeof MaskOption>

/** Tensor arguments every attack takes next to its decoded options. */
export interface AttackTensors<T> {
  /** Extra model inputs after the attacked ones (never perturbed), one row per example. */
  readonly additionalForwardArgs?: TensorLike<T> | readonly TensorLike<T>[]
}

/** What an attack runs on, all on the host. */
export interface Prepared {
  readonly xs: readonly HostTensor<'float32'>[]
  readonly rows: number
  readonly labels: Int32Array
  /** Per input: the mask expanded to the input's shape, or undefined (move every element). */
  readonly masks: readonly (Float64Array | undefined)[]
  readonly plan: CallPlan
}

/** `labels` as one int per row, or a `BadTarget` error. */
export const labelsFor = (labels: Labels, rows: number, path: readonly string[] = ['target']): E.Either<AttributionError, Int32Array> => {
  if (typeof labels === 'number') return E.right(new Int32Array(rows).fill(labels))
  if (labels.length !== rows) {
    return E.left(err('BadTarget', `target has ${labels.length} label(s) but the inputs have ${rows} example(s): give one label per example, or one number for all`, [...path]))
  }
  return E.right(Int32Array.from(labels))
}

/** Decodes `options` with `codec`, then reads and checks the tensors. */
export const prepareAttack = async <T, A extends { readonly target: Labels; readonly mask?: MaskOption; readonly memoryBudgetBytes?: number }>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  codec: t.Decoder<unknown, A>,
  options: unknown,
  tensors: AttackTensors<T>,
): Promise<E.Either<AttributionError, { readonly options: A; readonly prepared: Prepared }>> => {
  const o = decodeWith(codec, options)
  if (E.isLeft(o)) return o
  const xs = await toHostList(model, asTensorList(model, inputs), 'inputs')
  if (E.isLeft(xs)) return xs
  const extras = await toHostList(model, asTensorList(model, tensors.additionalForwardArgs), 'additionalForwardArgs')
  if (E.isLeft(extras)) return extras
  if (xs.right.length === 0) return E.left(err('EmptyInput', 'no inputs: give the tensor(s) to attack', ['inputs']))
  const problems: AttributionError[] = []
  const rows = xs.right[0]!.shape[0] ?? 0
  xs.right.forEach((x, i) => {
    if (x.dtype !== 'float32') problems.push(err('DTypeMismatch', `inputs.${i} is ${x.dtype}; attacks move float32 inputs only (pass integer inputs such as token ids as additionalForwardArgs)`, ['inputs', String(i)]))
    if (x.shape.length === 0 || x.shape[0] !== rows) problems.push(err('ShapeMismatch', `inputs.${i} has shape [${x.shape.join(', ')}]; every input needs the same number of rows (${rows}) on dim 0`, ['inputs', String(i)]))
  })
  extras.right.forEach((x, i) => {
    if (x.shape[0] !== rows) problems.push(err('ShapeMismatch', `additionalForwardArgs.${i} has shape [${x.shape.join(', ')}]; it needs one row per example (${rows})`, ['additionalForwardArgs', String(i)]))
  })
  if (rows === 0) problems.push(err('EmptyInput', 'the inputs have no rows', ['inputs']))
  const labels = labelsFor(o.right.target, rows)
  if (E.isLeft(labels)) problems.push(labels.left)
  const maskList = o.right.mask === undefined ? [] : Array.isArray(o.right.mask) ? (o.right.mask as readonly HostTensor[]) : [o.right.mask as HostTensor]
  if (o.right.mask !== undefined && maskList.length !== xs.right.length) {
    problems.push(err('ShapeMismatch', `mask has ${maskList.length} tensor(s) for ${xs.right.length} input(s): give one mask per input`, ['mask']))
  }
  const masks = xs.right.map((x, i) => {
    const m = maskList[i]
    if (m === undefined) return undefined
    const b = broadcastTo(m, x.shape)
    if (b === undefined) problems.push(err('ShapeMismatch', `mask.${i} has shape [${m.shape.join(', ')}], which does not broadcast to inputs.${i} [${x.shape.join(', ')}]`, ['mask', String(i)]))
    return b
  })
  if (problems.length > 0) return E.left(problems.length === 1 ? problems[0]! : { ...problems[0]!, message: problems.map((p) => p.message).join('; ') })
  const hostXs = xs.right as HostTensor<'float32'>[]
  return E.right({
    options: o.right,
    prepared: {
      xs: hostXs,
      rows,
      labels: E.isRight(labels) ? labels.right : new Int32Array(rows),
      masks,
      plan: { extras: extras.right, rowsPerChunk: planRows(model, hostXs, extras.right, o.right.memoryBudgetBytes) },
    },
  })
}

/** The batch of a comparator or search call: float32 inputs and extra arguments on the host, labels, the chunk plan. */
export interface PreparedBatch {
  readonly hostXs: HostTensor<'float32'>[]
  readonly rows: number
  readonly target: Int32Array | undefined
  readonly plan: CallPlan
}

/**
 * Reads `inputs` and `additionalForwardArgs` to the host, checks they are float32 with one row
 * count, reads the labels (when given) and plans the chunks under the memory budget: the prologue
 * MinParamPerturbation and the attack comparator share.
 */
export const prepareBatch = async <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  additionalForwardArgs: TensorLike<T> | readonly TensorLike<T>[] | undefined,
  labels: Labels | undefined,
  memoryBudgetBytes: number | undefined,
): Promise<E.Either<AttributionError, PreparedBatch>> => {
  const xs = await toHostList(model, asTensorList(model, inputs), 'inputs')
  if (E.isLeft(xs)) return xs
  const extras = await toHostList(model, asTensorList(model, additionalForwardArgs), 'additionalForwardArgs')
  if (E.isLeft(extras)) return extras
  if (xs.right.length === 0) return E.left(err('EmptyInput', 'no inputs: give the tensor(s) to attack', ['inputs']))
  const rows = xs.right[0]!.shape[0] ?? 0
  const badInput = xs.right.findIndex((x) => x.dtype !== 'float32' || x.shape[0] !== rows)
  if (badInput >= 0) return E.left(err('DTypeMismatch', `inputs.${badInput} must be float32 with ${rows} rows like inputs.0`, ['inputs', String(badInput)]))
  if (extras.right.some((x) => x.shape[0] !== rows)) return E.left(err('ShapeMismatch', `every additionalForwardArgs tensor needs ${rows} rows`, ['additionalForwardArgs']))
  const target = labels === undefined ? E.right(undefined) : labelsFor(labels, rows)
  if (E.isLeft(target)) return target
  const hostXs = xs.right as HostTensor<'float32'>[]
  return E.right({ hostXs, rows, target: target.right, plan: { extras: extras.right, rowsPerChunk: planRows(model, hostXs, extras.right, memoryBudgetBytes) } })
}

/** The most PGD steps or attack attempts a call accepts (each is at least one forward and backward pass). */
export const MAX_ATTACK_COUNT = 100_000
