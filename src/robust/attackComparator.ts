/**
 * AttackComparator: how a model's metric (accuracy, the true class's probability, anything computed
 * from the output) holds up under a set of named attacks and perturbations, per example and
 * aggregated over batches.
 *
 * {@link evaluateAttacks} runs the original batch and every attack (each `numAttempts` times, in the
 * order given) and returns the metric of the original batch and, per attack, the element-wise mean
 * over attempts (plus min and max when there are several attempts). {@link summarizeAttacks}
 * averages each result over examples and then over the evaluated batches, under Captum's keys
 * (`Original`, the attack's name, or `<name> Mean Attempt` / `Min Attempt` / `Max Attempt`).
 * {@link compareAttacks} does both for a list of batches.
 *
 * Captum: `AttackComparator(forward_func, metric, preproc_fn=None)` with `add_attack(attack, name,
 * num_attempts, apply_before_preproc, attack_kwargs, additional_attack_arg_names)`,
 * `evaluate(inputs, additional_forward_args, perturbations_per_eval, **kwargs)` and `summary()`.
 * clarus keeps no state between calls: the summary is a function of the evaluations. Attacks are
 * {@link Attack} values (the call's `target` is passed to FGSM/PGD unless their options set one);
 * `preproc_fn` is left out (put preprocessing in the model). A metric returns named per-example
 * tensors (Captum's namedtuple of tensors).
 *
 * @category robust
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import type { Model } from '../core/backend.js'
import { decodeWith, PositiveInt, PositiveIntUpTo, PositiveNumber } from '../core/codecs.js'
import { backendFailure, err, invalidSpec, isAttributionError, type AttributionError } from '../core/errors.js'
import { sizeOf, type HostTensor } from '../core/tensor.js'
import type { TensorLike } from '../api/callData.js'
import { Attack, runAttack } from './attack.js'
import { argmaxRows, concatRows, f32, hostRows, softmaxRows } from './hostMath.js'
import { outputOf } from './modelCalls.js'
import { Labels, MAX_ATTACK_COUNT, prepareBatch, type AttackTensors } from './prepare.js'

/** Named metric values: per example (dim 0 = examples) in evaluations, aggregated in summaries. */
export type MetricValues = Readonly<Record<string, HostTensor>>

/** A metric: named per-example tensors from the model output rows and the call's labels. */
export type MetricFn = (output: HostTensor, target: Int32Array | undefined) => MetricValues

/** Built-in metrics: `accuracy` = [argmax = label] as 0/1, `trueProb` = softmax(output)[label]. */
export const BuiltinMetric = t.union([t.literal('accuracy'), t.literal('trueProb')], 'BuiltinMetric')
export type BuiltinMetric = t.TypeOf<typeof BuiltinMetric>

export const NamedAttack = t.readonly(t.intersection([t.type({ name: t.string, attack: Attack }), t.partial({ numAttempts: PositiveIntUpTo(MAX_ATTACK_COUNT) })]), 'NamedAttack')
export type NamedAttack = t.TypeOf<typeof NamedAttack>

export const AttackComparatorOptions = t.readonly(
  t.intersection([
    t.type({ attacks: t.readonlyArray(NamedAttack) }),
    t.partial({
      /** Built-in metric names, or a {@link MetricFn} (default: accuracy and trueProb). */
      metric: t.union([t.readonlyArray(BuiltinMetric), t.Function]),
      target: Labels,
      /** Batches (original or attacked) per model call (Captum's `perturbations_per_eval`); results do not depend on it. */
      perturbationsPerEval: PositiveInt,
      memoryBudgetBytes: PositiveNumber,
    }),
  ]),
  'AttackComparatorOptions',
)
export type AttackComparatorOptions = Omit<t.TypeOf<typeof AttackComparatorOptions>, 'metric'> & { readonly metric?: readonly BuiltinMetric[] | MetricFn }

export const attackComparatorDefaults = { metric: ['accuracy', 'trueProb'] as readonly BuiltinMetric[], perturbationsPerEval: 1 } as const

/** One attack's metric over its attempts: element-wise mean, and min and max when there were several attempts. */
export interface AttackStats {
  readonly mean: MetricValues
  readonly min?: MetricValues
  readonly max?: MetricValues
}

/** One evaluated batch: the original's metric and each attack's, in the order the attacks were given. */
export interface AttackEvaluation {
  readonly original: MetricValues
  readonly attacks: readonly { readonly name: string; readonly stats: AttackStats }[]
}

/** Averages over examples, then over evaluations, under Captum's summary keys. */
export interface AttackSummary {
  /** `Original`, then per attack its name, or `<name> Mean Attempt`, `… Min Attempt`, `… Max Attempt`. */
  readonly keys: readonly string[]
  /** The averaged metric per key (same order as `keys`). */
  readonly means: readonly MetricValues[]
  /** The metric names, in the metric's order: the columns of `table`. */
  readonly columns: readonly string[]
  /** Shape [keys, Σ metric sizes]; each row the key's averaged metric values, flattened in column order. */
  readonly table: HostTensor
}

const builtin = (names: readonly BuiltinMetric[]): MetricFn => (output, target) => {
  if (target === undefined) throw err('BadTarget', 'the accuracy and trueProb metrics compare with the labels: give target, or a metric function', ['target'])
  const rows = output.shape[0] ?? 0
  const out: Record<string, HostTensor> = {}
  for (const n of names) {
    if (n === 'accuracy') out[n] = f32([rows], Float32Array.from(argmaxRows(output), (c, i) => (c === target[i] ? 1 : 0)))
    else {
      const p = softmaxRows(output)
      const k = rows === 0 ? 0 : output.data.length / rows
      out[n] = f32([rows], Float32Array.from({ length: rows }, (_, i) => p[i * k + target[i]!]!))
    }
  }
  return out
}

/** Element-wise mean, min or max over a list of metric values with the same names and shapes. */
const combine = (vs: readonly MetricValues[], how: 'mean' | 'min' | 'max'): MetricValues =>
  Object.fromEntries(Object.keys(vs[0]!).map((name) => {
    const first = vs[0]![name]!
    const out = new Float32Array(first.data.length)
    for (let e = 0; e < out.length; e++) {
      let acc = how === 'mean' ? 0 : Number(first.data[e])
      for (const v of vs) {
        const x = Number(v[name]!.data[e])
        acc = how === 'mean' ? acc + x : how === 'min' ? Math.min(acc, x) : Math.max(acc, x)
      }
      out[e] = how === 'mean' ? acc / vs.length : acc
    }
    return [name, f32(first.shape, out)]
  }))

/** Mean over dim 0 of each metric tensor (Captum's per-call aggregation). */
const meanOverExamples = (v: MetricValues): MetricValues =>
  Object.fromEntries(Object.entries(v).map(([name, x]) => {
    const rows = x.shape[0] ?? 1
    const per = sizeOf(x.shape.slice(1))
    const out = new Float32Array(per)
    for (let e = 0; e < per; e++) {
      let s = 0
      for (let r = 0; r < rows; r++) s += Number(x.data[r * per + e])
      out[e] = s / rows
    }
    return [name, f32(x.shape.slice(1), out)]
  }))

/** Checks a metric's result on `rows` examples: named float tensors with one row per example. */
const checkMetric = (v: unknown, rows: number): E.Either<AttributionError, MetricValues> => {
  if (typeof v !== 'object' || v === null) return E.left(err('ShapeMismatch', 'the metric must return a record of named tensors', ['metric']))
  for (const [name, x] of Object.entries(v as Record<string, HostTensor>)) {
    if (x.shape?.[0] !== rows) return E.left(err('ShapeMismatch', `metric value ${JSON.stringify(name)} must have one row per example (${rows}), got shape [${(x.shape ?? []).join(', ')}]`, ['metric', name]))
  }
  return E.right(v as MetricValues)
}

/**
 * Runs the original batch and every attack of `options.attacks` on `inputs`, and returns the
 * metric of each. Never throws: bad options and inputs are typed errors.
 *
 * @example
 * const r = await evaluateAttacks(model, x, { target: [3], attacks: [{ name: 'FGSM', attack: { _tag: 'FGSM', options: { epsilon: 0.1 } } }] })()
 */
export const evaluateAttacks = <T>(
  model: Model<T>,
  inputs: TensorLike<T> | readonly TensorLike<T>[],
  options: AttackComparatorOptions & AttackTensors<T>,
): TE.TaskEither<AttributionError, AttackEvaluation> => async () => {
  const decoded = decodeWith(AttackComparatorOptions, options)
  if (E.isLeft(decoded)) return decoded
  const o = { ...attackComparatorDefaults, ...decoded.right }
  const names = o.attacks.map((a) => a.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i || n === 'Original')
  if (dup !== undefined) return E.left(invalidSpec([{ path: ['attacks'], message: `attack name ${JSON.stringify(dup)} is ${dup === 'Original' ? 'reserved for the unattacked batch' : 'used twice'}: give each attack its own name` }]))
  const batch = await prepareBatch(model, inputs, options.additionalForwardArgs, o.target, o.memoryBudgetBytes)
  if (E.isLeft(batch)) return batch
  const { hostXs, rows, target, plan } = batch.right
  const metric: MetricFn = typeof o.metric === 'function' ? (o.metric as MetricFn) : builtin(o.metric)

  // Slot 0 is the original batch; slot 1 + j collects attack j's attempts.
  const results: MetricValues[][] = [[], ...o.attacks.map(() => [])]
  let pending: { slot: number; xs: readonly HostTensor[] }[] = []
  const flush = async (): Promise<E.Either<AttributionError, void>> => {
    if (pending.length === 0) return E.right(undefined)
    const stacked = hostXs.map((_, i) => concatRows(pending.map((p) => p.xs[i]!)))
    const out = await outputOf(model, { ...plan, extras: plan.extras.map((x) => concatRows(pending.map(() => x))) }, stacked)
    if (E.isLeft(out)) return out
    for (let k = 0; k < pending.length; k++) {
      let v: unknown
      try {
        v = metric(hostRows(out.right, k * rows, (k + 1) * rows), target)
      } catch (e) {
        return E.left(isAttributionError(e) ? e : backendFailure(`the metric threw: ${e instanceof Error ? e.message : String(e)}`, e, ['metric']))
      }
      const checked = checkMetric(v, rows)
      if (E.isLeft(checked)) return checked
      results[pending[k]!.slot]!.push(checked.right)
    }
    pending = []
    return E.right(undefined)
  }
  const add = async (slot: number, batch: readonly HostTensor[]): Promise<E.Either<AttributionError, void>> => {
    pending.push({ slot, xs: batch })
    return pending.length === o.perturbationsPerEval ? flush() : E.right(undefined)
  }

  const first = await add(0, hostXs)
  if (E.isLeft(first)) return first
  for (let j = 0; j < o.attacks.length; j++) {
    const a = o.attacks[j]!
    for (let attempt = 0; attempt < (a.numAttempts ?? 1); attempt++) {
      const attacked = await runAttack(model, plan, a.attack, hostXs, { target, attempt }, ['attacks', String(j), 'attack'])
      if (E.isLeft(attacked)) return attacked
      const r = await add(1 + j, attacked.right)
      if (E.isLeft(r)) return r
    }
  }
  const last = await flush()
  if (E.isLeft(last)) return last
  return E.right({
    original: results[0]![0]!,
    attacks: o.attacks.map((a, j) => {
      const tries = results[1 + j]!
      return { name: a.name, stats: tries.length > 1 ? { mean: combine(tries, 'mean'), min: combine(tries, 'min'), max: combine(tries, 'max') } : { mean: tries[0]! } }
    }),
  })
}

/** Captum's summary keys and per-example means of one evaluation. */
const keyedMeans = (ev: AttackEvaluation): [string, MetricValues][] => [
  ['Original', meanOverExamples(ev.original)],
  ...ev.attacks.flatMap(({ name, stats }): [string, MetricValues][] =>
    stats.min !== undefined && stats.max !== undefined
      ? [[`${name} Mean Attempt`, meanOverExamples(stats.mean)], [`${name} Min Attempt`, meanOverExamples(stats.min)], [`${name} Max Attempt`, meanOverExamples(stats.max)]]
      : [[name, meanOverExamples(stats.mean)]]),
]

/**
 * Averages evaluations: each metric over examples, then over the evaluations (Captum's `summary()`).
 * The evaluations must come from the same attacks and metric.
 */
export const summarizeAttacks = (evaluations: readonly AttackEvaluation[]): E.Either<AttributionError, AttackSummary> => {
  if (evaluations.length === 0) return E.left(err('EmptyInput', 'no evaluations to summarize', ['evaluations']))
  const per = evaluations.map(keyedMeans)
  const keys = per[0]!.map(([k]) => k)
  const columns = Object.keys(per[0]![0]![1])
  const mismatch = per.findIndex((p) => p.length !== keys.length || p.some(([k, v], i) => k !== keys[i] || Object.keys(v).join('\u0000') !== columns.join('\u0000')))
  if (mismatch >= 0) return E.left(err('ShapeMismatch', `evaluation ${mismatch} has other attacks or metric names than evaluation 0; summarize evaluations of the same comparison`, ['evaluations', String(mismatch)]))
  const means = keys.map((_, i) => combine(per.map((p) => p[i]![1]), 'mean'))
  const width = columns.reduce((a, c) => a + means[0]![c]!.data.length, 0)
  const table = new Float32Array(keys.length * width)
  means.forEach((m, r) => {
    let at = r * width
    for (const c of columns) {
      table.set(m[c]!.data as Float32Array, at)
      at += m[c]!.data.length
    }
  })
  return E.right({ keys, means, columns, table: f32([keys.length, width], table) })
}

/** One batch of {@link compareAttacks}: inputs, their labels and extra model inputs. */
export interface AttackBatch<T> extends AttackTensors<T> {
  readonly inputs: TensorLike<T> | readonly TensorLike<T>[]
  readonly target?: Labels
  readonly perturbationsPerEval?: number
}

/**
 * Evaluates every batch with {@link evaluateAttacks} (a batch's `target` and
 * `perturbationsPerEval` override the options') and summarizes them.
 */
export const compareAttacks = <T>(
  model: Model<T>,
  batches: readonly AttackBatch<T>[],
  options: AttackComparatorOptions,
): TE.TaskEither<AttributionError, { readonly evaluations: readonly AttackEvaluation[]; readonly summary: AttackSummary }> => async () => {
  const evaluations: AttackEvaluation[] = []
  for (const b of batches) {
    const r = await evaluateAttacks(model, b.inputs, {
      ...options,
      ...(b.target !== undefined ? { target: b.target } : {}),
      ...(b.perturbationsPerEval !== undefined ? { perturbationsPerEval: b.perturbationsPerEval } : {}),
      ...(b.additionalForwardArgs !== undefined ? { additionalForwardArgs: b.additionalForwardArgs } : {}),
    })()
    if (E.isLeft(r)) return r
    evaluations.push(r.right)
  }
  const summary = summarizeAttacks(evaluations)
  return E.isLeft(summary) ? summary : E.right({ evaluations, summary: summary.right })
}
