/**
 * Runners for the robustness cases of the wave-2 fixtures (FGSM, PGD, MinParamPerturbation,
 * AttackComparator): each reads Captum's constructor and call arguments from the case, runs the
 * clarus function on the target's backend and compares the case's result fields.
 *
 * @category conformance
 * @since 0.6.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { isHostTensor } from '../core/codecs.js'
import type { HostTensor } from '../core/tensor.js'
import type { Attack, AttackFn } from '../robust/attack.js'
import { compareAttacks, type AttackEvaluation, type MetricValues } from '../robust/attackComparator.js'
import { fgsm, type FgsmOptions } from '../robust/fgsm.js'
import type { Loss } from '../robust/loss.js'
import { minParamPerturbation } from '../robust/minParamPerturbation.js'
import { pgd, type PgdOptions } from '../robust/pgd.js'
import { compareFields, type AreaCaseRunner, type AreaOutcome } from './fields.js'

type Rec = Readonly<Record<string, unknown>>

const rec = (u: unknown): Rec => (typeof u === 'object' && u !== null && !Array.isArray(u) ? (u as Rec) : {})

const unsupported = (reason: string): AreaOutcome => ({ kind: 'unsupported', reason })

/** Captum's `loss_func` as the case writes it: a CrossEntropyLoss, or null (Captum's default −log). */
const lossOf = (u: unknown): Loss | string => {
  if (u === null || u === undefined) return { _tag: 'negLogOutput' }
  const l = rec(u)
  const r = l['reduction']
  if (l['type'] === 'CrossEntropyLoss' && (r === 'none' || r === 'sum' || r === 'mean')) return { _tag: 'crossEntropy', reduction: r }
  return `loss ${JSON.stringify(u)} is not understood`
}

const labelsOf = (u: unknown): readonly number[] | number | undefined =>
  typeof u === 'number' && Number.isInteger(u) ? u : Array.isArray(u) && u.every((v) => typeof v === 'number' && Number.isInteger(v)) ? (u as number[]) : undefined

const boundOf = (u: unknown): number | undefined => (typeof u === 'number' ? u : undefined)

/** The attack options shared by FGSM and PGD: loss, bounds, target, targeted; or why not. */
const commonOf = (ctor: Rec, args: Rec): { loss: Loss; target: number | readonly number[]; targeted: boolean; lowerBound?: number; upperBound?: number } | string => {
  const loss = lossOf(ctor['loss_func'])
  if (typeof loss === 'string') return loss
  const target = labelsOf(args['target'])
  if (target === undefined) return `target ${JSON.stringify(args['target'])} is not a list of labels`
  if (args['mask'] !== null && args['mask'] !== undefined) return 'cases with a mask are not read by this runner'
  if (args['additional_forward_args'] !== null && args['additional_forward_args'] !== undefined) return 'additional_forward_args are not read by this runner'
  const lb = boundOf(ctor['lower_bound'])
  const ub = boundOf(ctor['upper_bound'])
  return { loss, target, targeted: args['targeted'] === true, ...(lb !== undefined ? { lowerBound: lb } : {}), ...(ub !== undefined ? { upperBound: ub } : {}) }
}

const fgsmOptionsOf = (ctor: Rec, args: Rec): FgsmOptions | string => {
  const common = commonOf(ctor, args)
  if (typeof common === 'string') return common
  const epsilon = args['epsilon']
  return typeof epsilon === 'number' ? { ...common, epsilon } : 'epsilon is missing'
}

const pgdOptionsOf = (ctor: Rec, args: Rec): PgdOptions | string => {
  const common = commonOf(ctor, args)
  if (typeof common === 'string') return common
  const { radius, step_size: stepSize, step_num: stepNum, norm, random_start: randomStart } = args
  if (typeof radius !== 'number' || typeof stepSize !== 'number' || typeof stepNum !== 'number') return 'radius, step_size or step_num is missing'
  if (randomStart === true) return 'random_start draws from torch\'s generator: no exact value to compare'
  return { ...common, radius, stepSize, stepNum, ...(norm === 'L2' || norm === 'Linf' ? { norm } : {}) }
}

const runFgsm: AreaCaseRunner = async (c, ctx) => {
  const o = fgsmOptionsOf(rec(c.wave2['constructor']), c.args)
  if (typeof o === 'string') return unsupported(o)
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return unsupported(m.left)
  const r = await fgsm(m.right, c.inputs, o)()
  if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  return { kind: 'compared', ...compareFields(c, { perturbed: r.right.perturbed[0], perturbed_output: r.right.perturbedOutput }) }
}

const runPgd: AreaCaseRunner = async (c, ctx) => {
  const o = pgdOptionsOf(rec(c.wave2['constructor']), c.args)
  if (typeof o === 'string') return unsupported(o)
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return unsupported(m.left)
  const r = await pgd(m.right, c.inputs, o)()
  if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  return {
    kind: 'compared',
    ...compareFields(c, { perturbed: r.right.perturbed[0], perturbed_output: r.right.perturbedOutput, perturbation_norm: r.right.perturbationNorm[0] }),
  }
}

/** Captum's attack keyword arguments → clarus option names. */
const KWARGS: Readonly<Record<string, string>> = { epsilon: 'epsilon', radius: 'radius', step_size: 'stepSize', step_num: 'stepNum', norm: 'norm', targeted: 'targeted', random_start: 'randomStart', target: 'target' }

/** An attack the case describes as data (`FGSM.perturb` / `PGD.perturb` with constructor and kwargs); or why not. */
const attackOf = (type: unknown, ctor: Rec, kwargs: Rec): Attack | string => {
  if (type !== 'FGSM.perturb' && type !== 'PGD.perturb') return `attack ${JSON.stringify(type)} is not understood`
  const loss = lossOf(ctor['loss_func'])
  if (typeof loss === 'string') return loss
  const options: Record<string, unknown> = { loss }
  const lb = boundOf(ctor['lower_bound'])
  const ub = boundOf(ctor['upper_bound'])
  if (lb !== undefined) options['lowerBound'] = lb
  if (ub !== undefined) options['upperBound'] = ub
  for (const [k, v] of Object.entries(kwargs)) {
    const name = KWARGS[k]
    if (name === undefined) return `attack argument ${k} is not understood`
    options[name] = v
  }
  return type === 'FGSM.perturb' ? { _tag: 'FGSM', options } : { _tag: 'PGD', options }
}

const runMinParam: AreaCaseRunner = async (c, ctx) => {
  const ctor = rec(c.wave2['constructor'])
  const a = rec(ctor['attack'])
  const attack = attackOf(a['type'], rec(a['constructor']), rec(c.args['attack_kwargs'] ?? a['attack_kwargs']))
  if (typeof attack === 'string') return unsupported(attack)
  if (ctor['preproc_fn'] !== null || ctor['correct_fn'] !== null || c.args['correct_fn_kwargs'] !== null) return unsupported('preproc_fn, correct_fn and correct_fn_kwargs are not read by this runner')
  const { arg_name: argName, arg_min: argMin, arg_max: argMax, arg_step: argStep, mode, num_attempts: numAttempts } = ctor
  const target = labelsOf(c.args['target'])
  const ppe = c.args['perturbations_per_eval']
  if (typeof argName !== 'string' || typeof argMin !== 'number' || typeof argMax !== 'number' || typeof argStep !== 'number' || (mode !== 'linear' && mode !== 'binary') || target === undefined) {
    return unsupported('arg_name, arg_min, arg_max, arg_step, mode or target is not understood')
  }
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return unsupported(m.left)
  const r = await minParamPerturbation(m.right, c.inputs, {
    attack,
    argName: KWARGS[argName] ?? argName,
    argMin,
    argMax,
    argStep,
    mode,
    target,
    ...(typeof numAttempts === 'number' ? { numAttempts } : {}),
    ...(typeof ppe === 'number' ? { perturbationsPerEval: ppe } : {}),
  })()
  if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  return {
    kind: 'compared',
    ...compareFields(c, { perturbed: r.right.perturbed?.[0] ?? null, min_param: r.right.minParam, perturbed_output: r.right.perturbedOutput, search_trace: r.right.searchTrace }),
  }
}

/** Captum's metric names for the built-in metrics (the case's namedtuple fields). */
const metricNames = (v: MetricValues): Record<string, HostTensor> =>
  Object.fromEntries(Object.entries(v).map(([k, x]) => [k === 'trueProb' ? 'true_prob' : k, x]))

/** One evaluation in Captum's dict layout: Original → metric, attack → {mean[, min, max]}. */
const captumEvaluation = (ev: AttackEvaluation): Rec => ({
  Original: metricNames(ev.original),
  ...Object.fromEntries(ev.attacks.map(({ name, stats }) => [
    name,
    { mean: metricNames(stats.mean), ...(stats.min ? { min: metricNames(stats.min) } : {}), ...(stats.max ? { max: metricNames(stats.max) } : {}) },
  ])),
})

/** The case's fixed-noise attack: call c (counted over the whole case) returns inputs + noise[c mod n]. */
const noiseAttack = (noise: HostTensor): AttackFn => {
  let calls = 0
  const n = noise.shape[0] ?? 1
  const per = noise.data.length / n
  return (xs) => {
    const at = (calls++ % n) * per
    return xs.map((x) => ({ dtype: 'float32' as const, shape: [...x.shape], data: Float32Array.from(x.data as Float32Array, (v, i) => v + (noise.data as Float32Array)[at + i]!) }))
  }
}

const runAttackComparator: AreaCaseRunner = async (c, ctx) => {
  const ctor = rec(c.wave2['constructor'])
  if (ctor['preproc_fn'] !== null) return unsupported('preproc_fn is not read by this runner')
  const attacks: { name: string; attack: Attack; numAttempts: number }[] = []
  for (const u of Array.isArray(ctor['attacks']) ? (ctor['attacks'] as unknown[]) : []) {
    const a = rec(u)
    const names = a['additional_attack_arg_names']
    if (a['apply_before_preproc'] !== true || (Array.isArray(names) && names.some((n) => n !== 'target'))) return unsupported('attack arguments other than target are not read by this runner')
    const noise = a['noise']
    const attack = a['attack'] === 'additive_noise' && isHostTensor(noise) ? { _tag: 'custom' as const, fn: noiseAttack(noise) } : attackOf(a['attack'], rec(a['constructor']), rec(a['attack_kwargs']))
    if (typeof attack === 'string') return unsupported(attack)
    attacks.push({ name: String(a['name']), attack, numAttempts: typeof a['num_attempts'] === 'number' ? a['num_attempts'] : 1 })
  }
  const calls = Array.isArray(c.args['evaluate_calls']) ? (c.args['evaluate_calls'] as unknown[]).map(rec) : []
  const batches = calls.map((b) => ({ inputs: b['inputs'], target: labelsOf(b['target']), ppe: b['perturbations_per_eval'] }))
  if (batches.length === 0 || batches.some((b) => !isHostTensor(b.inputs) || b.target === undefined)) return unsupported('evaluate_calls are not understood')
  const m = await ctx.model(c.model)
  if (E.isLeft(m)) return unsupported(m.left)
  const r = await compareAttacks(
    m.right,
    batches.map((b) => ({ inputs: b.inputs as HostTensor, target: b.target!, ...(typeof b.ppe === 'number' ? { perturbationsPerEval: b.ppe } : {}) })),
    { attacks, metric: ['accuracy', 'trueProb'] },
  )()
  if (E.isLeft(r)) return { kind: 'compared', ok: false, detail: `${r.left._tag}: ${r.left.message}` }
  const s = r.right.summary
  return {
    kind: 'compared',
    ...compareFields(c, {
      evaluate_results: r.right.evaluations.map(captumEvaluation),
      summary: Object.fromEntries(s.keys.map((k, i) => [k, { mean: metricNames(s.means[i]!) }])),
      summary_keys: s.keys,
      summary_table: s.table,
    }),
  }
}

export const robustCaseRunners = { FGSM: runFgsm, PGD: runPgd, MinParamPerturbation: runMinParam, AttackComparator: runAttackComparator } as const
